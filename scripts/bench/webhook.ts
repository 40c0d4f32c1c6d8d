// The whatsapp-webhook function served by Deno for real, started exactly as tests/support/webhook.ts
// starts it (same binary, flags, and environment), its log lines drained so it never blocks on a full
// pipe, the last ones kept for when something goes wrong.
import { join } from "node:path";
import { freePort, projectRoot } from "../lib/database.ts";
import { readLines } from "../lib/functions.ts";
import { onTeardown } from "./teardown.ts";

export const BENCH_TOKEN = "bench-auth-token";
/** The public URL Twilio would call; the function is told it, as behind Supabase. */
export const PUBLIC_URL = "https://fsm.example.test/functions/v1/whatsapp-webhook";

export interface RunningWebhook {
  url: string;
  publicUrl: string;
  token: string;
  pid: number;
  /** Log lines by level since the start ("info", "warn", "error", other). */
  levels: Map<string, number>;
  /** Messages the handler had to route again because the session moved meanwhile (attempt > 1). */
  reroutes(): number;
  /** The last lines it wrote. */
  tail(): string[];
  /** The first error-level lines it wrote. */
  errors(): string[];
  stop(): Promise<void>;
}

const TAIL = 40;

export async function spawnWebhook(databaseUrl: string): Promise<RunningWebhook> {
  const port = await freePort();
  const fn = join(projectRoot, "functions", "whatsapp-webhook");
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "",
    DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
    SUPABASE_DB_URL: databaseUrl,
    FSM_DB_ADAPTER: "postgres",
    TWILIO_AUTH_TOKEN: BENCH_TOKEN,
    TWILIO_WEBHOOK_URL: PUBLIC_URL,
    ENABLE_FSM: "true",
  };
  const denoDir = Deno.env.get("DENO_DIR");
  if (denoDir) env.DENO_DIR = denoDir;
  const child = new Deno.Command(join(projectRoot, "node_modules", ".bin", "deno"), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--config",
      join(fn, "deno.json"),
      join(fn, "index.ts"),
    ],
    cwd: projectRoot,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const lines: string[] = [];
  const levels = new Map<string, number>();
  let reroutes = 0;
  const errors: string[] = [];
  const onLine = (line: string) => {
    const level = line.match(/"level":"(\w+)"/)?.[1] ?? "other";
    levels.set(level, (levels.get(level) ?? 0) + 1);
    if (level === "error" && errors.length < 20) errors.push(line);
    if (Number(line.match(/"attempt":(\d+)/)?.[1] ?? 1) > 1) reroutes++;
    lines.push(line);
    if (lines.length > TAIL) lines.shift();
  };
  const drained = Promise.all([readLines(child.stdout, onLine), readLines(child.stderr, onLine)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    await status;
    await drained;
  };
  onTeardown("stop the webhook", stop);

  const url = `http://127.0.0.1:${port}/functions/v1/whatsapp-webhook`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`the webhook exited before listening:\n${lines.join("\n")}`);
    try {
      await fetch(url, { method: "GET" }).then((r) => r.body?.cancel());
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`the webhook never listened:\n${lines.join("\n")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    publicUrl: PUBLIC_URL,
    token: BENCH_TOKEN,
    pid: child.pid,
    levels,
    reroutes: () => reroutes,
    tail: () => [...lines],
    errors: () => [...errors],
    stop,
  };
}
