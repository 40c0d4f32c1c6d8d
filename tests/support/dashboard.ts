// The fsm-dashboard function served by Deno for real (as tests/support/webhook.ts serves the webhook),
// and what a client of it needs: sign-in links, the Bearer header.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";
import { freePort, projectRoot } from "../../scripts/lib/database.ts";
import { loginLink } from "../../functions/fsm-dashboard/signing.ts";

export const DASHBOARD_SECRET = "test-dashboard-secret-7f3a9c21";
export const bearer = (secret = DASHBOARD_SECRET) => ({ authorization: `Bearer ${secret}` });

const fn = join(projectRoot, "functions", "fsm-dashboard");

function spawnDashboard(port: number, env: Record<string, string | undefined>): ChildProcess {
  return spawn(join(projectRoot, "node_modules", ".bin", "deno"),
    ["run", "--allow-net", "--allow-env", "--allow-read", "--config", join(fn, "deno.json"), join(fn, "index.ts")], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DENO_DIR: process.env.DENO_DIR,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        SUPABASE_DB_URL: inject("databaseUrl"),
        DASHBOARD_SECRET,
        ...env,
      } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
}

export interface Dashboard {
  /** The function's URL as the local gateway serves it, without a trailing slash. */
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

export async function startDashboard(env: Record<string, string | undefined> = {}): Promise<Dashboard> {
  const port = await freePort();
  const child = spawnDashboard(port, env);
  let text = "";
  child.stdout!.on("data", (c) => (text += c));
  child.stderr!.on("data", (c) => (text += c));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}/functions/v1/fsm-dashboard`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dashboard exited:\n${text}`);
    try {
      await fetch(`${url}/logout`).then((r) => r.body?.cancel());
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the dashboard never listened:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    logs: () => text,
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Runs the function with `env` and expects it to stop by itself: its exit code and output. */
export async function dashboardExit(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const child = spawnDashboard(await freePort(), env);
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)));
  clearTimeout(timer);
  return { code, output };
}

export const signedLink = (dashboard: Dashboard, options: { secret?: string; ttlSeconds?: number; nowMs?: number } = {}) =>
  loginLink(dashboard.url, options.secret ?? DASHBOARD_SECRET, options.ttlSeconds ?? 600, options.nowMs ?? Date.now());
