// The fsm-dashboard function served by Deno for real (as tests/support/webhook.ts serves the webhook),
// and what a client of it needs: sign-in links, the Bearer header.
import { inject } from "vitest";
import { freePort } from "../../scripts/lib/database.ts";
import { type ServedFunction, serveFunction, spawnFunction } from "./functions.ts";
import { loginLink } from "../../functions/fsm-dashboard/signing.ts";

export const DASHBOARD_SECRET = "test-dashboard-secret-7f3a9c21";
export const bearer = (secret = DASHBOARD_SECRET) => ({ authorization: `Bearer ${secret}` });

const baseEnv = () => ({ SUPABASE_DB_URL: inject("databaseUrl"), DASHBOARD_SECRET });

export type Dashboard = ServedFunction;

export function startDashboard(env: Record<string, string | undefined> = {}): Promise<Dashboard> {
  return serveFunction("fsm-dashboard", { ...baseEnv(), ...env }, "/logout");
}

/** Runs the function with `env` and expects it to stop by itself: its exit code and output. */
export async function dashboardExit(env: Record<string, string | undefined>): Promise<{ code: number | null; output: string }> {
  const child = spawnFunction("fsm-dashboard", await freePort(), { ...baseEnv(), ...env });
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
