// `npm run bench`: how many messages a second the product handles and how fast it answers at several
// concurrency levels; how close that is to the floor (the same database calls with nothing around
// them); how many database round trips a message costs; and what one transition RPC costs against the
// same statements written by hand. Plain-text report on stdout, progress on stderr.
//
//   npm run bench -- [--workers 2000] [--concurrency 1,4,16,64] [--seconds 10] [--quick] [--json out.json]
//
// DATABASE_URL names a server to use (a scratch database is created there and dropped at the end);
// without it an embedded PostgreSQL runs in a temporary directory.
import postgres from "postgres";
import { postgresStore } from "../functions/whatsapp-webhook/store/postgres.ts";
import { type BenchResults, type Level, printBenchReport, type WirePass } from "./bench/bench-report.ts";
import { intListOption, intOption, numberOption, parseOptions } from "./bench/cli.ts";
import { type CpuMonitor, startCpuMonitor } from "./bench/cpu-monitor.ts";
import { type DatabaseCounters, integrity, readCounters } from "./bench/db-counters.ts";
import { SCRIPTS } from "./bench/conversations.ts";
import { floorSender, plansFor, recordTemplates } from "./bench/floor.ts";
import { runLevel, type Sender } from "./bench/load.ts";
import { describeMachine } from "./bench/machine.ts";
import { productSender } from "./bench/product.ts";
import { progress, writeJson } from "./bench/report.ts";
import { createScratchDatabase, openServer } from "./bench/scratch-database.ts";
import { ms, thousands } from "./bench/stats.ts";
import { onTeardown, runMain } from "./bench/teardown.ts";
import {
  type CostResult,
  findPgbench,
  pgbenchVersion,
  prepareSessions,
  runPgbench,
  runPostgresJs,
  VARIANTS,
} from "./bench/transition-cost.ts";
import { twilioClient } from "./bench/twilio-client.ts";
import { spawnWebhook } from "./bench/webhook.ts";
import { startWireCounter } from "./bench/wire-counter.ts";
import { type BenchWorker, insertWorkers } from "./bench/workers.ts";

const log = progress("bench");
const options = parseOptions(Deno.args, {
  workers: { help: "simulated workers for the product, and as many again for the floor (default 2000)" },
  concurrency: { help: "concurrency levels (default 1,4,16,64)" },
  seconds: { help: "seconds per level, product and floor each (default 10; 1 with --quick)" },
  "cost-seconds": { help: "seconds per transition-cost run (default 5; 1 with --quick)" },
  pgbench: { help: "path of pgbench (default: found in PATH or /usr/lib/postgresql/*/bin)" },
  "no-pgbench": { help: "measure the transition cost with postgres.js even if pgbench is there", flag: true },
  quick: { help: "a ~20 s smoke run: 200 workers, short levels", flag: true },
  json: { help: "also write the figures to this file" },
}, "npm run bench -- [options]");
const quick = options.has("quick");
const WORKERS = intOption(options, "workers", quick ? 200 : 2000);
const LEVELS = intListOption(options, "concurrency", [1, 4, 16, 64]);
const SECONDS = numberOption(options, "seconds", quick ? 1 : 10);
const COST_SECONDS = intOption(options, "cost-seconds", quick ? 1 : 5);
const COST_CLIENTS = quick ? [1] : [1, 4];
const SESSIONS_PER_COST_CLIENT = 2_500;
const WIRE_SECONDS = quick ? 1 : 3;
let cpu: CpuMonitor;

await runMain(log, async () => {
  // A scratch database with the product's schema, and workers with three open tasks each.
  const server = await openServer(log);
  const db = await createScratchDatabase(server, "fsm_bench", log);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  onTeardown("close the bench's connection", () => sql.end({ timeout: 5 }));
  const machine = await describeMachine(sql, server.label);
  const productWorkers = await insertWorkers(sql, WORKERS, "999", "Bench: product");
  const floorWorkers = await insertWorkers(sql, WORKERS, "998", "Bench: floor");
  const [recorder] = await insertWorkers(sql, 1, "996", "Bench: recorder");
  await sql`vacuum analyze`;
  log(`${thousands(WORKERS)} workers for the product and ${thousands(WORKERS)} for the floor, 3 open tasks each`);
  cpu = startCpuMonitor(db.name);
  onTeardown("stop the CPU monitor", () => cpu.stop());

  // The product (signed HTTP requests to the webhook served by Deno, every reply checked) and the floor
  // (the same two calls per message straight to Postgres, what to apply worked out beforehand), level
  // by level in turn, so that both meet the machine in the same state.
  const before = await readCounters(sql);
  const webhook = await spawnWebhook(db.url);
  const store = postgresStore(db.url);
  onTeardown("close the floor's pool", () => store.close());
  const plans = plansFor(floorWorkers, await recordTemplates(store, recorder));
  const { product, floor } = await runLevels(
    { send: productSender(twilioClient(webhook)), workers: productWorkers },
    { send: floorSender(store, plans), workers: floorWorkers },
  ).catch((error) => {
    console.error(`[bench] the webhook's last lines:\n${webhook.tail().slice(-10).join("\n")}`);
    throw error;
  });
  await webhook.stop();
  await store.close();
  const database = difference(before, await readCounters(sql));
  const recorded = SCRIPTS.reduce((n, s) => n + s.lines.length, 0);

  // Round trips per message, counted on the wire between the caller and Postgres; the end state.
  const wire = await countRoundTrips(db.url, productWorkers, floorWorkers, plans);
  const ends = await integrity(sql);

  // One transition: the RPC against the same statements by hand.
  await prepareSessions(sql, Math.max(...COST_CLIENTS), SESSIONS_PER_COST_CLIENT);
  await sql`vacuum analyze`;
  const cost = await transitionCost(db.url);
  const [costLog] = await sql`
    select count(*) filter (where success)::int as applied, count(*) filter (where not success)::int as refused
      from public.fsm_transition_log where event = 'add_data' and correlation_id is null`;

  const results: BenchResults = {
    command: `npm run bench${Deno.args.length ? " -- " + Deno.args.join(" ") : ""}`,
    machine,
    workers: WORKERS,
    seconds: SECONDS,
    product: { ...product, reroutes: webhook.reroutes(), logLevels: Object.fromEntries(webhook.levels) },
    floor: { ...floor, messages: floor.messages + recorded },
    database,
    wire,
    ends,
    cost: { ...cost, clients: COST_CLIENTS, applied: costLog.applied, refused: costLog.refused },
  };
  const errors = printBenchReport(results);
  await writeJson(options.get("json") as string | undefined, results);
  return errors ? 1 : 0;
});

/** A warm-up of each, then every concurrency level: the product, then the floor. `messages` counts all. */
async function runLevels(...paths: { send: Sender; workers: BenchWorker[] }[]) {
  const names = ["product", "floor"];
  const results = paths.map(() => ({ levels: [] as Level[], messages: 0 }));
  for (const [i, { send, workers }] of paths.entries()) {
    log(`${names[i]}: warming up`);
    const warmUp = await runLevel({
      concurrency: Math.min(4, workers.length),
      workers,
      durationMs: quick ? 500 : 1000,
      send,
    });
    results[i].messages += warmUp.messages;
  }
  for (const concurrency of LEVELS) {
    for (const [i, { send, workers }] of paths.entries()) {
      const started = performance.now();
      const result = await runLevel({ concurrency, workers, durationMs: SECONDS * 1000, send });
      results[i].levels.push({ ...result, cpu: cpu.between(started, performance.now()) });
      results[i].messages += result.messages;
      log(
        `${names[i]} c=${concurrency}: ${thousands(result.messages)} messages, ${result.perSecond.toFixed(1)}/s, ` +
          `p50 ${ms(result.latency.p50)} ms, p99 ${ms(result.latency.p99)} ms, ${result.errors} errors`,
      );
      for (const sample of result.errorSamples) log(`  error: ${sample}`);
    }
  }
  return { product: results[0], floor: results[1] };
}

function difference(before: DatabaseCounters, after: DatabaseCounters): DatabaseCounters {
  return { transactions: after.transactions - before.transactions, deadlocks: after.deadlocks - before.deadlocks };
}

/**
 * Both paths once more through a relay that counts the protocol's ReadyForQuery messages: a webhook
 * whose database URL is the relay's, and the floor's store on the relay. Counted after a warm-up, so
 * connection setup (and postgres.js's type lookup on a new connection) is not in the figure.
 */
async function countRoundTrips(
  databaseUrl: string,
  productWorkers: BenchWorker[],
  floorWorkers: BenchWorker[],
  plans: ReturnType<typeof plansFor>,
): Promise<{ product: WirePass; floor: WirePass }> {
  const counter = startWireCounter(databaseUrl);
  const pass = async (send: Sender, workers: BenchWorker[]) => {
    await runLevel({ concurrency: 4, workers, durationMs: 500, send });
    const before = counter.counts();
    const result = await runLevel({ concurrency: 4, workers, durationMs: WIRE_SECONDS * 1000, send });
    const after = counter.counts();
    return {
      messages: result.messages,
      roundTrips: after.roundTrips - before.roundTrips,
      connections: after.connections - before.connections,
    };
  };
  log("round trips: counting on the wire");
  const webhook = await spawnWebhook(counter.url);
  const product = await pass(productSender(twilioClient(webhook)), productWorkers);
  await webhook.stop();
  const store = postgresStore(counter.url);
  const floor = await pass(floorSender(store, plans), floorWorkers);
  await store.close();
  counter.close();
  return { product, floor };
}

/** The transition RPC and the same statements by hand, with pgbench if there is one. */
async function transitionCost(databaseUrl: string) {
  const pgbench = options.has("no-pgbench") ? undefined : findPgbench(options.get("pgbench") as string | undefined);
  const tool = pgbench
    ? `${await pgbenchVersion(pgbench)}, -M simple`
    : `postgres.js loop (${options.has("no-pgbench") ? "--no-pgbench" : "no pgbench found"}), simple protocol`;
  const results: (CostResult & { cpuOthers: number })[] = [];
  for (const clients of COST_CLIENTS) {
    for (const variant of VARIANTS) {
      const run = { url: databaseUrl, variant, clients, perClient: SESSIONS_PER_COST_CLIENT, seconds: COST_SECONDS };
      const started = performance.now();
      const measured = pgbench ? await runPgbench({ ...run, pgbench }) : await runPostgresJs(run);
      results.push({ ...measured, cpuOthers: cpu.between(started, performance.now()).others });
      log(`transition cost: ${variant.name}, ${clients} client(s): ${thousands(measured.tps)} tps`);
    }
  }
  return { tool, results };
}
