// `npm run chaos` (`-- --quick` for CI): the webhook and the SQL core under concurrent load and faults,
// then the invariants checked from the tables. Its own PostgreSQL in a temporary directory, the
// webhook served by Deno as in the tests, a few hundred workers talking at once; meanwhile duplicate
// deliveries (together and minutes apart), conversations sent all at once out of order, the Deno
// server SIGKILLed, PostgreSQL restarted (fast and immediate), rows locked past lock_timeout and
// statements hanging past statement_timeout. Prints every figure; exits 1 on any breach.
import { writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { recordSentMessages, runChecks, snapshot } from "./chaos/checks.ts";
import { Client } from "./chaos/client.ts";
import { CleanupClock } from "./chaos/clock.ts";
import { configureForChaos, connect, createChaosDatabase, seedWorkers, type Sql } from "./chaos/database.ts";
import { type FaultRecord, FAULTS, runFaults } from "./chaos/faults.ts";
import { Load, type LoadControl } from "./chaos/load.ts";
import { type Options, parseOptions, USAGE } from "./chaos/options.ts";
import { type ChaosPostgres, startChaosPostgres } from "./chaos/postgres.ts";
import { Random, sleep } from "./chaos/random.ts";
import { counts, latency, printSummary, verdict } from "./chaos/report.ts";
import { WebhookProcess } from "./chaos/webhook.ts";

const t0 = Date.now();
const clockTime = () =>
  `+${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s ${new Date().toISOString().slice(11, 23)}`;
const log = (line: string) => console.log(`[chaos ${clockTime()}] ${line}`);

let options: Options;
try {
  options = parseOptions(Deno.args);
} catch (error) {
  console.error((error as Error).message);
  Deno.exit(2);
}
if (Deno.args.includes("--help")) {
  console.log(USAGE);
  Deno.exit(0);
}

let pg: ChaosPostgres | undefined;
let webhook: WebhookProcess | undefined;
let sql: Sql | undefined;

/** Stops everything once, whoever asks first (the end of the run, a failure, Ctrl-C). */
let tearingDown: Promise<void> | undefined;
function teardown(keep: boolean): Promise<void> {
  tearingDown ??= (async () => {
    await webhook?.stop().catch(() => {});
    await sql?.end({ timeout: 2 }).catch(() => {});
    if (pg) {
      writeFileSync(join(pg.root, "postgres.log"), pg.logTail(2000).join("\n") + "\n");
      await pg.stop().catch(() => {});
      if (keep) log(`kept ${pg.root} (data/, webhook.log, postgres.log)`);
      else await rm(pg.root, { recursive: true, force: true });
    }
  })();
  return tearingDown;
}

// The harness must survive what it does to the server: postgres.js 3.4.9 can throw from a timer or leave
// a rejection unhandled when the server drops a connection. Logged and counted, not fatal.
let harnessUncaught = 0;
globalThis.addEventListener("unhandledrejection", (event) => {
  harnessUncaught++;
  log(`harness: unhandled rejection: ${(event.reason as Error)?.message ?? event.reason}`);
  event.preventDefault();
});
globalThis.addEventListener("error", (event) => {
  harnessUncaught++;
  log(`harness: uncaught exception: ${event.message}`);
  event.preventDefault();
});
Deno.addSignalListener("SIGINT", async () => {
  log("interrupted: stopping");
  await teardown(options.keep);
  Deno.exit(130);
});

try {
  const code = await main(options);
  await teardown(options.keep || code !== 0);
  Deno.exit(code);
} catch (error) {
  if (!tearingDown) log(`the run itself failed: ${(error as Error)?.stack ?? error}`);
  await teardown(true);
  Deno.exit(2);
}

async function main(o: Options): Promise<number> {
  const random = new Random(o.seed);
  log(`${o.quick ? "quick" : "default"} run, seed ${o.seed} (replay with --seed ${o.seed}${o.quick ? " --quick" : ""}), ` +
    `${o.workers} workers, ${o.loadSeconds} s of load`);

  // 1. A PostgreSQL of our own, migrated as `npm start` does, with workers and the run's settings.
  pg = await startChaosPostgres(log);
  log(`postgres: embedded PostgreSQL on port ${pg.port}, data in ${pg.dataDir}`);
  const db = await createChaosDatabase(pg.adminUrl, log);
  sql = connect(db.url);
  const fixture = await seedWorkers(sql, o.workers);
  log(`seeded ${fixture.workers.length} workers with 3 open tasks each`);
  for (const note of await configureForChaos(sql, o)) log(`for this run: ${note}`);

  // 2. The webhook, served by Deno on the postgres adapter, and the Twilio-like client.
  webhook = await WebhookProcess.start(db.webhookUrl, pg.root, log);
  log(`webhook: ${webhook.url} (log in ${webhook.logFile})`);
  const loadStartedAt = Date.now();
  const control: LoadControl = {
    endsAt: loadStartedAt + o.loadSeconds * 1000,
    lateCutoff: loadStartedAt + Math.max(5, o.loadSeconds - o.lateDuplicateAgeSeconds) * 1000,
  };
  const client = new Client(webhook.url, random, o.requestTimeoutMs, control.endsAt + o.deliveryGraceSeconds * 1000);
  const load = new Load(client, o.seed, o, control);

  // 3. Load, the cleanup clock and the faults, together.
  const cleanupClock = new CleanupClock(sql, o.cleanupEverySeconds * 1000, log);
  cleanupClock.start();
  const faultTimes = FAULTS.map((f) => `${Math.round(f.at * o.loadSeconds)} s`).join(", ");
  log(`load: ${o.workers} workers for ${o.loadSeconds} s; faults at ${faultTimes}`);
  let seen = 0;
  const progress = setInterval(() => {
    const recent = client.stats.latencies.slice(seen);
    seen = client.stats.latencies.length;
    log(`load: ${client.messages.size} messages, ${client.stats.attempts} HTTP attempts ` +
      `(${counts(client.stats.outcomes)}), ${client.inFlight} in flight; last 10 s: ${latency(recent)}`);
  }, 10_000);
  let faults: FaultRecord[] = [];
  await Promise.all([
    load.run(fixture.workers.map((w) => w.number)),
    runFaults({
      pg, webhook, sql, control, client, log, options: o, background: [],
      random: new Random(o.seed ^ 0x5eed5eed),
      workerIds: fixture.workers.map((w) => w.id),
    }, loadStartedAt)
      .then((done) => (faults = done)),
  ]);
  clearInterval(progress);
  await cleanupClock.stop();
  const lastDelivery = Date.now();
  // A fresh pool for what follows: postgres.js 3.4.9 can replay an error a connection got while the server
  // was going down onto its first query after reconnecting (porsager/postgres#1223).
  await sql.end({ timeout: 2 }).catch(() => {});
  sql = connect(db.url);
  const clock = new CleanupClock(sql, 0, log);
  log(`load: done after ${((lastDelivery - loadStartedAt) / 1000).toFixed(1)} s: ${client.messages.size} messages, ` +
    `${client.stats.attempts} HTTP attempts`);

  // 4. Settle. A claim whose holder died (SIGKILL, lost connection) lapses after the lease: half of them are
  //    delivered again now, as a provider's later retry would, and taken over; the cleanup records the rest
  //    as failed once they are older than the orphan threshold. Then the cleanup runs until it has nothing left.
  await sleep(lastDelivery + (o.idempotencyLeaseSeconds + 1) * 1000 - Date.now());
  const lapsed = await sql`
    select message_id from fsm_idempotency_records where status = 'processing' and locked_until < now()`;
  const retaken = random.shuffle(lapsed.map((r) => r.message_id as string)).slice(0, Math.ceil(lapsed.length / 2));
  client.deadline = Date.now() + o.deliveryGraceSeconds * 1000;
  await Promise.all(retaken.map((sid) => client.deliver(client.messages.get(sid)!, "redelivery")));
  log(`settle: ${lapsed.length} claims lapsed; ${retaken.length} of them delivered again and taken over, ` +
    `the others left to the cleanup (orphan threshold ${o.orphanThresholdSeconds} s)`);
  await sleep((o.orphanThresholdSeconds + 1) * 1000);
  const settled = await cleanupUntilQuiet(clock);
  log(`settle: cleanup ${counts(settled)}`);

  // 5. Late duplicates: the sample delivered again, long after the first time. Nothing may change.
  await recordSentMessages(sql, [...client.messages.values()]);
  const late = load.stats.late;
  const youngest = Math.max(0, ...late.map((m) => m.firstSentAt!));
  const waitMs = youngest + o.lateDuplicateAgeSeconds * 1000 - Date.now();
  if (waitMs > 0) {
    log(`late duplicates: waiting ${Math.round(waitMs / 1000)} s until every sampled message is ${o.lateDuplicateAgeSeconds} s old`);
  }
  await sleep(waitMs);
  const before = await snapshot(sql);
  client.deadline = Date.now() + o.deliveryGraceSeconds * 1000;
  for (let i = 0; i < late.length; i += 50) {
    await Promise.all(late.slice(i, i + 50).map((m) => client.deliver(m, "late")));
  }
  const after = await snapshot(sql);
  log(`late duplicates: delivered ${late.length} message ids again`);

  // 6. The clock runs out: session timeout shortened so the cleanup closes every open session, then checks.
  await sql`update fsm_settings set session_timeout = interval '2 seconds', updated_at = now()`;
  log("final cleanup: session_timeout set to 2 s so every session still open is past it");
  await sleep(2500);
  const final = await cleanupUntilQuiet(clock);
  log(`final cleanup: ${counts(final)}`);

  const messages = [...client.messages.values()];
  const checks = await runChecks(sql, {
    messages,
    late,
    lateSnapshots: { before, after },
    lateMinAgeSeconds: o.lateDuplicateAgeSeconds,
    unplannedWebhookExits: webhook.unplannedExits.length,
    faultEffects: {
      sigkills: webhook.kills,
      restarts: faults.filter((f) => f.name.includes("PostgreSQL") && !f.error).length,
      lockTimeouts: pg.logCounts.get("canceling statement due to lock timeout") ?? 0,
      statementTimeouts: pg.logCounts.get("canceling statement due to statement timeout") ?? 0,
    },
  });
  await printSummary(sql, o, {
    client, load, faults, cleanupClock, checks, webhook, loadStartedAt, lastDelivery,
    serverLog: pg.logCounts, harnessUncaught,
  });
  const failed = checks.filter((c) => verdict(c, o.strict) === "FAIL");
  const warned = checks.filter((c) => verdict(c, o.strict) === "WARN");
  const took = `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  console.log(failed.length
    ? `\nchaos: FAILED: ${failed.length} of ${checks.length} checks breached (${failed.map((c) => c.name).join("; ")}), ` +
      `in ${took}; seed ${o.seed}`
    : `\nchaos: passed: ${checks.length - warned.length} checks passed, ${warned.length} warnings, in ${took} (seed ${o.seed})`);
  return failed.length ? 1 : 0;
}

/** Cleanup runs until one does nothing worth counting (a run stops at its time budget). */
async function cleanupUntilQuiet(clock: CleanupClock): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (let i = 0; i < 20; i++) {
    const r = await clock.tick();
    if (!r) {
      await sleep(1000);
      continue;
    }
    let did = 0;
    for (const [k, v] of Object.entries(r)) {
      if (k === "duration_ms") continue;
      total[k] = (total[k] ?? 0) + Number(v);
      did += Number(v);
    }
    if (!did) break;
  }
  return total;
}
