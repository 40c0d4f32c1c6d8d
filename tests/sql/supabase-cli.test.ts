// The Supabase CLI's own checks, run against this run's database.
import postgres from "postgres";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { supabaseCli } from "../../scripts/lib/database.ts";

const url = inject("databaseUrl");
let plpgsqlCheck = false;
beforeAll(async () => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [row] = await sql`select exists (select 1 from pg_available_extensions where name = 'plpgsql_check') as available`;
  plpgsqlCheck = row.available;
  await sql.end();
});

function parse(text: string) {
  return JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));
}

describe("supabase CLI", () => {
  it("db advisors: no security finding, and no performance finding but indexes a new database has not used yet", async () => {
    // A probe the advisors must flag, so a silent advisor cannot pass this test.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`create table public.advisor_probe (id int)`;
    await sql`grant select on public.advisor_probe to anon`;
    let out;
    try {
      out = await supabaseCli(["db", "advisors", `--remote=${url}`, "--type", "all", "--level", "info",
                               "--output-format", "json"]);
    } finally {
      await sql`drop table public.advisor_probe`;
      await sql.end();
    }
    expect(out.code, out.text).toBe(0);
    const all = parse(out.text).results as { name: string; categories: string[]; detail: string }[];
    expect(all.filter((f) => f.detail.includes("advisor_probe")).map((f) => f.name)).toContain("rls_disabled_in_public");
    const findings = all.filter((f) => !f.detail.includes("advisor_probe"));
    expect(findings.filter((f) => f.categories.includes("SECURITY")).map((f) => f.detail)).toEqual([]);
    expect(findings.filter((f) => f.name !== "unused_index").map((f) => f.detail)).toEqual([]);
  });

  it("migration list: every local migration is applied", async () => {
    const out = await supabaseCli(["migration", "list", `--remote=${url}`]);
    expect(out.code, out.text).toBe(0);
    const rows = [...out.text.matchAll(/`(\d{14})`\s*\|\s*`(\d{14})?`?/g)];
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const [, local, remote] of rows) expect(remote, local).toBe(local);
  });

  it("db lint (plpgsql_check): no error in any function", async (ctx) => {
    if (!plpgsqlCheck) ctx.skip("plpgsql_check is not installed on this server (Debian: postgresql-15-plpgsql-check)");
    // Only for the lint's time: the advisors (rightly) flag an extension in public.
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    await sql`create extension if not exists plpgsql_check`;
    let out;
    try {
      out = await supabaseCli(["db", "lint", `--remote=${url}`, "--schema", "public,fsm_internal",
                               "--level", "warning", "--fail-on", "warning"]);
    } finally {
      await sql`drop extension if exists plpgsql_check`;
      await sql.end();
    }
    expect(out.code, out.text).toBe(0);
    expect(out.text).toMatch(/No schema errors found/);
  });
});
