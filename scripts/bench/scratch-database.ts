// Where a bench run's data lives: a database of its own, created on the server DATABASE_URL names (or
// on an embedded PostgreSQL started in a temporary directory), migrated like any new database, and
// dropped at the end.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatabase,
  dropDatabase,
  freePort,
  prepareDatabase,
  redactUrl,
  startEmbeddedPostgres,
} from "../lib/database.ts";
import { onTeardown, teardownOnSignals } from "./teardown.ts";

export interface Server {
  adminUrl: string;
  /** "DATABASE_URL" or "embedded". */
  kind: "DATABASE_URL" | "embedded";
  /** For the report, without the password. */
  label: string;
}

export interface ScratchDatabase {
  name: string;
  url: string;
}

export async function openServer(log: (line: string) => void): Promise<Server> {
  const url = Deno.env.get("DATABASE_URL");
  if (url) return { adminUrl: url, kind: "DATABASE_URL", label: `${redactUrl(url)} (DATABASE_URL)` };

  const dir = await mkdtemp(join(tmpdir(), "fsm-bench-pg-"));
  await chmod(dir, 0o755); // Postgres may run as another user (see startEmbeddedPostgres)
  onTeardown(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const port = await freePort();
  log(`starting an embedded PostgreSQL on 127.0.0.1:${port} in ${dir}`);
  const server = await startEmbeddedPostgres({ dataDir: join(dir, "data"), port });
  onTeardown("stop the embedded PostgreSQL", () => server.stop());
  teardownOnSignals(log);
  return { adminUrl: server.adminUrl, kind: "embedded", label: `embedded PostgreSQL on 127.0.0.1:${port}` };
}

/** A new database on `server`, with the roles and every migration, dropped at teardown. */
export async function createScratchDatabase(
  server: Server,
  prefix: string,
  log: (line: string) => void,
): Promise<ScratchDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${Deno.pid}`;
  const url = await createDatabase(server.adminUrl, name);
  onTeardown(`drop database ${name}`, () => dropDatabase(server.adminUrl, name));
  const started = performance.now();
  await prepareDatabase(url);
  log(`database ${name}: roles and migrations applied in ${Math.round(performance.now() - started)} ms`);
  return { name, url };
}
