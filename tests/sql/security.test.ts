import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Sql } from "../support/db.ts";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const ours = (s: Sql) => s`n.nspname in ('public', 'fsm_internal')`;

describe("security", () => {
  it("has RLS enabled on every table", async () => {
    const tables = await sql`
      select c.relname, c.relrowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where ${ours(sql)} and c.relkind in ('r', 'p') order by 1`;
    expect(tables.length).toBeGreaterThanOrEqual(12);
    expect(tables.filter((t) => !t.relrowsecurity).map((t) => t.relname)).toEqual([]);
  });

  it("grants anon and authenticated nothing: no table, view, sequence or function", async () => {
    for (const role of ["anon", "authenticated"]) {
      const relations = await sql`
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where ${ours(sql)} and c.relkind in ('r', 'p', 'v', 'm', 'S')
           and (has_table_privilege(${role}, c.oid, 'select, insert, update, delete, truncate, references, trigger')
                or (c.relkind = 'S' and has_sequence_privilege(${role}, c.oid, 'usage, select, update')))`;
      expect(relations.map((r) => r.relname), role).toEqual([]);
      const functions = await sql`
        select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
         where ${ours(sql)} and has_function_privilege(${role}, p.oid, 'execute')`;
      expect(functions.map((f) => f.proname), role).toEqual([]);
    }
  });

  it("lets service_role execute the RPCs and nothing in fsm_internal", async () => {
    const rpcs = await sql`
      select p.proname, has_function_privilege('service_role', p.oid, 'execute') as can
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' order by 1`;
    expect(rpcs.map((r) => r.proname)).toEqual([
      "cleanup_expired_fsm_records", "fsm_answer_clarification", "fsm_apply_message", "fsm_begin_message",
      "fsm_cancel_clarification", "fsm_create_clarification", "fsm_dashboard_metrics", "fsm_fail_message", "fsm_get_pending_clarification",
      "fsm_release_dead_letter", "fsm_transition", "recover_orphaned_sessions",
    ]);
    expect(rpcs.every((r) => r.can)).toBe(true);
    const internal = await sql`
      select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'fsm_internal' and has_function_privilege('service_role', p.oid, 'execute')`;
    expect([...internal]).toEqual([]);
  });

  it("makes every security definer function pin search_path to ''", async () => {
    const loose = await sql`
      select p.proname, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where ${ours(sql)} and (not coalesce('search_path=""' = any(p.proconfig), false))`;
    expect(loose.map((f) => f.proname)).toEqual([]);
    const definers = await sql`
      select count(*)::int as n from pg_proc p join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public' and p.prosecdef`;
    expect(definers[0].n).toBe(12);
  });

  it("refuses anon for real: reading a table or calling an RPC fails", async () => {
    await expect(sql.begin(async (tx) => {
      await tx`set local role anon`;
      await tx`select * from workers`;
    })).rejects.toMatchObject({ code: "42501" });
    await expect(sql.begin(async (tx) => {
      await tx`set local role authenticated`;
      await tx`select cleanup_expired_fsm_records()`;
    })).rejects.toMatchObject({ code: "42501" });
    const [{ r }] = await sql.begin(async (tx) => {
      await tx`set local role service_role`;
      return await tx`select fsm_begin_message('SMsecurity', '+10000000000') as r`;
    });
    expect(r).toEqual({ status: "unknown_worker" });
  });

  it("makes views run with the reader's rights, so RLS and grants apply through them", async () => {
    const views = await sql`
      select c.relname, c.reloptions from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where n.nspname = 'public' and c.relkind = 'v'`;
    expect(views.length).toBeGreaterThanOrEqual(9);
    for (const v of views) expect(v.reloptions, v.relname).toContain("security_invoker=true");
  });
});
