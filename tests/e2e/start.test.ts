// `npm start` as a user runs it: real processes, real HTTP, Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createDatabase, dropDatabase, freePort, projectRoot } from "../../scripts/lib/database.ts";

interface Runner {
  child: ChildProcess;
  output: () => string;
  closed: Promise<void>;
}

// package.json's start script, run as npm runs it. Not through npm itself: npm relays the output
// through its own pipe and dies on the first SIGINT, which would hide the runner's shutdown.
const startScript = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")).scripts.start as string;

function npmStart(env: Record<string, string>): Runner {
  const child = spawn("sh", ["-c", startScript], {
    cwd: projectRoot,
    env: { ...process.env, PATH: `${join(projectRoot, "node_modules", ".bin")}:${process.env.PATH}`, DATABASE_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so that stop() can do what Ctrl-C in a terminal does.
    detached: true,
  });
  let text = "";
  child.stdout!.on("data", (c) => (text += c));
  child.stderr!.on("data", (c) => (text += c));
  const closed = new Promise<void>((done) => child.once("close", () => done()));
  const runner = { child, output: () => text, closed };
  runners.push(runner);
  return runner;
}

async function waitFor(runner: Runner, pattern: RegExp, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pattern.test(runner.output())) return;
    if (runner.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never saw ${pattern}; output:\n${runner.output()}`);
}

/**
 * Ctrl-C: SIGINT to the whole foreground process group (npm, deno, and their children). npm quits at
 * once, as it does in a terminal; the runner goes on shutting down and must say so and let go of
 * its output, which happens only once every process holding it has exited.
 */
async function stop(runner: Runner) {
  process.kill(-runner.child.pid!, "SIGINT");
  await runner.closed;
  expect(runner.output()).toMatch(/\[start\] stopping…\n(.|\n)*\[start\] stopped\n/);
  expect(runner.output()).not.toMatch(/while stopping|failed/);
}

const cleanups: (() => Promise<unknown>)[] = [];
const runners: Runner[] = [];
afterAll(async () => {
  for (const r of runners) {
    try {
      process.kill(-r.child.pid!, "SIGKILL"); // a runner left behind by a failed test
    } catch { /* the group is gone: the test stopped it */ }
  }
  for (const c of cleanups.reverse()) await c();
});

describe("npm start", () => {
  it("with DATABASE_URL: migrates and seeds that database, serves the functions, stops on Ctrl-C", async () => {
    const name = `${inject("databaseName")}_start`;
    const url = await createDatabase(inject("adminUrl"), name);
    cleanups.push(() => dropDatabase(inject("adminUrl"), name));
    const port = await freePort();
    const runner = npmStart({ DATABASE_URL: url, FSM_PORT: String(port) });
    await waitFor(runner, /ready\. Ctrl-C stops everything/);
    expect(runner.output()).toMatch(/from DATABASE_URL/);
    // No URL with a cleartext password ever reaches the log.
    expect(runner.output()).not.toMatch(/:\/\/[^:\s/]+:(?!\*\*\*@)[^@\s]+@/);

    const res = await fetch(`http://127.0.0.1:${port}/functions/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", database: "ok" });
    const missing = await fetch(`http://127.0.0.1:${port}/functions/v1/no-such-function`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();

    const sql = postgres(url, { max: 1 });
    const [{ n }] = await sql`select count(*)::int as n from workers`;
    await sql.end();
    expect(n).toBe(10);
    await stop(runner);
  });

  it("without DATABASE_URL: starts an embedded PostgreSQL whose data survives a restart", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fsm-start-"));
    await chmod(dir, 0o755);
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const env = { FSM_DATA_DIR: join(dir, "pg"), FSM_DB_PORT: String(await freePort()), FSM_PORT: String(await freePort()) };

    const first = npmStart(env);
    await waitFor(first, /ready\./);
    expect(first.output()).toMatch(/starting embedded PostgreSQL/);
    expect(first.output()).toMatch(/seeded a new database/);
    expect(first.output()).toMatch(/pg_cron is not available here, so this runner calls cleanup_expired_fsm_records\(\) every 300 s/);
    const health = await fetch(`http://127.0.0.1:${env.FSM_PORT}/functions/v1/health`);
    expect(health.status).toBe(200);
    await health.body?.cancel();
    await stop(first);

    const second = npmStart(env);
    await waitFor(second, /ready\./);
    expect(second.output()).not.toMatch(/seeded/);
    expect(second.output()).toMatch(/database is up to date/i);
    await stop(second);
    // The server is down: nothing listens on its port any more.
    await expect(postgres(`postgresql://postgres:postgres@127.0.0.1:${env.FSM_DB_PORT}/postgres`, { max: 1, connect_timeout: 2 })
      `select 1`).rejects.toThrow();
  });
});
