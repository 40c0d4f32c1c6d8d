// The whatsapp-webhook function served by Deno exactly as tests/support/webhook.ts serves it, on a fixed
// port so a restart comes back at the same URL. It can be SIGKILLed; an exit nobody asked for is
// counted, logged with the process's last lines and the function is started again (as the edge
// runtime would), so the run goes on and the finding is reported.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, projectRoot } from "../lib/database.ts";
import { sleep } from "./random.ts";

export const WEBHOOK_TOKEN = "chaos-auth-token";
/** The public URL Twilio would call; the function is told it, as behind Supabase. */
export const PUBLIC_URL = "https://fsm.example.test/functions/v1/whatsapp-webhook";

export interface UnplannedExit {
  at: number;
  code: number | null;
  signal: string | null;
  lastLines: string[];
}

export class WebhookProcess {
  readonly url: string;
  readonly logFile: string;
  readonly events = new Map<string, number>();
  readonly unplannedExits: UnplannedExit[] = [];
  /** Error-level log lines: when, which event, the error text. */
  readonly errors: { at: number; event: string; error: string }[] = [];
  kills = 0;
  starts = 0;
  #child?: Deno.ChildProcess;
  #expectingExit = false;
  #tail: string[] = [];
  #stopped = false;

  private constructor(readonly port: number, readonly databaseUrl: string, dir: string, readonly log: (line: string) => void) {
    this.url = `http://127.0.0.1:${port}/functions/v1/whatsapp-webhook`;
    this.logFile = join(dir, "webhook.log");
  }

  static async start(databaseUrl: string, dir: string, log: (line: string) => void): Promise<WebhookProcess> {
    const w = new WebhookProcess(await freePort(), databaseUrl, dir, log);
    await w.spawn();
    return w;
  }

  lastLines(n = 20): string[] {
    return this.#tail.slice(-n);
  }

  private async spawn(): Promise<void> {
    const fn = join(projectRoot, "functions", "whatsapp-webhook");
    const child = new Deno.Command(join(projectRoot, "node_modules", ".bin", "deno"), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", "--config", join(fn, "deno.json"), join(fn, "index.ts")],
      cwd: projectRoot,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? "",
        ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${this.port}`,
        SUPABASE_DB_URL: this.databaseUrl,
        FSM_DB_ADAPTER: "postgres",
        TWILIO_AUTH_TOKEN: WEBHOOK_TOKEN,
        TWILIO_WEBHOOK_URL: PUBLIC_URL,
        ENABLE_FSM: "true",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#expectingExit = false;
    this.starts++;
    const pid = child.pid;
    this.pipe(child.stdout);
    this.pipe(child.stderr);
    child.status.then((status) => this.exited(child, pid, status));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.#child !== child) return; // replaced meanwhile
      try {
        const res = await fetch(this.url, { method: "GET" });
        await res.body?.cancel();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the webhook never listened:\n${this.lastLines().join("\n")}`);
        await sleep(50);
      }
    }
  }

  private exited(child: Deno.ChildProcess, pid: number, status: Deno.CommandStatus) {
    if (this.#child !== child || this.#expectingExit || this.#stopped) return;
    const exit: UnplannedExit = { at: Date.now(), code: status.code, signal: status.signal, lastLines: this.lastLines(12) };
    this.unplannedExits.push(exit);
    this.log(`webhook: UNPLANNED EXIT of pid ${pid} (code ${status.code}, signal ${status.signal}); its last lines:`);
    for (const line of exit.lastLines) this.log(`  | ${line.slice(0, 300)}`);
    this.log("webhook: starting it again, as the edge runtime would");
    this.#child = undefined;
    this.spawn().catch((error) => this.log(`webhook: restart failed: ${(error as Error).message}`));
  }

  private async pipe(stream: ReadableStream<Uint8Array>) {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) this.line(line);
    }
    if (buffer) this.line(buffer);
  }

  private line(line: string) {
    if (!line.trim()) return;
    this.#tail.push(line);
    if (this.#tail.length > 400) this.#tail.splice(0, 200);
    appendFileSync(this.logFile, line + "\n");
    const event = /"event":"([a-z_]+)"/.exec(line)?.[1] ?? (/error|panic|uncaught/i.test(line) ? "stderr_error" : undefined);
    if (event) this.events.set(event, (this.events.get(event) ?? 0) + 1);
    if (line.includes('"level":"error"')) {
      try {
        const j = JSON.parse(line) as { ts: string; event: string; error?: string };
        this.errors.push({ at: Date.parse(j.ts), event: j.event, error: j.error ?? "" });
      } catch { /* not a JSON line */ }
    }
  }

  /** SIGKILL: no shutdown, in-flight requests die with their connections. */
  async kill(): Promise<number> {
    const child = this.#child;
    if (!child) throw new Error("the webhook is not running");
    this.#expectingExit = true;
    child.kill("SIGKILL");
    await child.status;
    this.kills++;
    return child.pid;
  }

  async restart(): Promise<number> {
    const t0 = Date.now();
    await this.spawn();
    return Date.now() - t0;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const child = this.#child;
    if (!child) return;
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  }
}
