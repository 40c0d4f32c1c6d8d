// `npm run fsm:diagram`: writes the state diagram (Mermaid) into README.md from fsm_transition_rules,
// read from DATABASE_URL, or else from a temporary embedded PostgreSQL migrated for the purpose.
// `-- --check` only compares, and fails when the README's diagram differs from the rules.
import { mkdtemp, readFile, rm, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { createDatabase, freePort, prepareDatabase, projectRoot, startEmbeddedPostgres } from "./lib/database.ts";
import { type Rule, renderMermaid, withDiagram } from "./lib/diagram.ts";

const check = Deno.args.includes("--check");
let url = Deno.env.get("DATABASE_URL");
let cleanup = async () => {};
if (!url) {
  const dir = await mkdtemp(join(tmpdir(), "fsm-diagram-"));
  await chmod(dir, 0o755);
  const server = await startEmbeddedPostgres({ dataDir: join(dir, "pg"), port: await freePort() });
  process.removeAllListeners("SIGINT");
  url = await createDatabase(server.adminUrl, "fsm_diagram");
  await prepareDatabase(url);
  cleanup = async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

const sql = postgres(url, { max: 1, onnotice: () => {} });
const rules = [...await sql`select from_state, event, to_state from public.fsm_transition_rules`] as Rule[];
await sql.end();
await cleanup();

const path = join(projectRoot, "README.md");
const readme = await readFile(path, "utf8");
const updated = withDiagram(readme, renderMermaid(rules));
if (check) {
  if (updated !== readme) {
    console.error("README.md's state diagram differs from fsm_transition_rules: run npm run fsm:diagram");
    Deno.exit(1);
  }
  console.log(`README.md's state diagram matches the ${rules.length} rules`);
} else {
  await writeFile(path, updated);
  console.log(`README.md: state diagram written from ${rules.length} rules${updated === readme ? " (unchanged)" : ""}`);
}
Deno.exit(0);
