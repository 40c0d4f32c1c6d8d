// The plain-text report of `npm run bench`.
import { SCRIPTS } from "./conversations.ts";
import type { DatabaseCounters, Integrity } from "./db-counters.ts";
import type { LevelResult } from "./load.ts";
import { type Machine, printMachine } from "./machine.ts";
import { heading, table } from "./report.ts";
import { ms, ratio, thousands, latencyCells } from "./stats.ts";
import { type CostResult, VARIANTS } from "./transition-cost.ts";

export type Level = LevelResult & { cpu: { mine: number; others: number } };

export interface PathRun {
  levels: Level[];
  /** Every message of the run: the warm-up's too (and the floor's recording). */
  messages: number;
}

export interface WirePass {
  messages: number;
  roundTrips: number;
  connections: number;
}

export interface BenchResults {
  command: string;
  machine: Machine;
  workers: number;
  seconds: number;
  product: PathRun & { reroutes: number; logLevels: Record<string, number> };
  floor: PathRun;
  /** pg_stat_database over both runs. */
  database: DatabaseCounters;
  wire: { product: WirePass; floor: WirePass };
  ends: Integrity;
  cost: {
    tool: string;
    clients: number[];
    results: (CostResult & { cpuOthers: number })[];
    applied: number;
    refused: number;
  };
}

/** Prints the report; returns the number of errors found (wrong replies, failed or refused messages). */
export function printBenchReport(r: BenchResults): number {
  console.log(`whatsapp-fsm benchmark (${r.command})`);
  printMachine(r.machine);
  console.log(
    `load        ${thousands(r.workers)} workers (product) + ${thousands(r.workers)} (floor), 3 open tasks each;` +
      ` scripts: ${SCRIPTS.map((s) => `${s.name} (${s.lines.length} msgs)`).join(", ")}, rotated per worker;`,
  );
  console.log(
    `            C virtual workers in parallel, a worker's messages one after the other; ${r.seconds} s a level`,
  );
  console.log("cpu         cores used during each measurement by the bench (this client, the webhook, the database");
  console.log(
    '            backends, pgbench) and by everything else ("others": should be ~0 for figures worth keeping)',
  );
  const disturbed = r.product.levels.concat(r.floor.levels).filter((l) => l.cpu.others > 0.2);
  if (disturbed.length) {
    console.log(
      `WARNING     other processes used over 0.2 cores during ${disturbed.length} level(s): the machine was shared`,
    );
  }

  console.log("            product and floor levels alternate (product c=1, floor c=1, product c=4, …)");
  heading("Product: signed Twilio request -> webhook (Deno, postgres.js pool of 5) -> PostgreSQL");
  levelTable(r.product.levels);
  heading("Floor: the same fsm_begin_message + fsm_apply_message calls, postgres.js (pool of 5), no HTTP, no routing");
  levelTable(r.floor.levels);
  heading("Product / floor");
  table(
    ["concurrency", "throughput", "p50 latency", "p99 latency"],
    r.product.levels.map((p, i) => [
      p.concurrency,
      ratio(p.perSecond / r.floor.levels[i].perSecond),
      ratio(p.latency.p50 / r.floor.levels[i].latency.p50),
      ratio(p.latency.p99 / r.floor.levels[i].latency.p99),
    ]),
  );
  console.log("Throughput under 1x and latency over 1x are what HTTP, the signature check, the form, classification,");
  console.log("routing and the replies cost on top of the database's own work, on the same cores.");

  heading("Database round trips per message");
  const wireRow = (path: string, w: WirePass) => [
    path,
    w.messages,
    w.roundTrips,
    (w.roundTrips / w.messages).toFixed(2),
    "round trips: ReadyForQuery counted on the wire by a relay (c=4)",
  ];
  const messages = r.product.messages + r.floor.messages;
  table(["path", "messages", "counted", "per message", "method"], [
    wireRow("product", r.wire.product),
    wireRow("floor", r.wire.floor),
    [
      "both",
      messages,
      r.database.transactions,
      (r.database.transactions / messages).toFixed(2),
      "transactions: pg_stat_database over both runs above, warm-ups included",
    ],
  ], { left: [4] });
  console.log(
    "Each call is one statement, so one transaction (autocommit). The transaction counts are read after the run's",
  );
  console.log(
    "connections have closed (a backend reports its counts when it exits); they include a few per connection",
  );
  console.log("(postgres.js's type lookup when it connects) and the bench's own reads.");
  console.log(
    `connections opened during the counted passes: product ${r.wire.product.connections},` +
      ` floor ${r.wire.floor.connections} (not counted as round trips)`,
  );
  console.log(
    `routing retries (conflicts) in the webhook: ${r.product.reroutes};` +
      ` webhook log lines by level: ${JSON.stringify(r.product.logLevels)}`,
  );
  const e = r.ends;
  console.log(
    `end state: idempotency records ${JSON.stringify(e.idempotency)}, refused transitions ${e.refusedTransitions},` +
      ` open sessions ${e.openSessions}, progress updates ${thousands(e.progressUpdates)},` +
      ` incidents ${thousands(e.incidents)}, deadlocks ${r.database.deadlocks}`,
  );

  heading(`One transition: add_data on a session in collecting_data (${r.cost.tool})`);
  table(
    ["variant", "clients", "requests/tx", "transactions", "tps", "mean ms", "p50 ms", "p99 ms", "cpu others"],
    r.cost.results.map((c) => [
      c.variant,
      c.clients,
      c.requests,
      thousands(c.transactions),
      thousands(c.tps),
      ms(c.latency.mean),
      ms(c.latency.p50),
      ms(c.latency.p99),
      c.cpuOthers.toFixed(2),
    ]),
  );
  for (const clients of r.cost.clients) {
    const [rpc, hand6, hand1] = VARIANTS.map((v) =>
      r.cost.results.find((c) => c.variant === v.name && c.clients === clients)!
    );
    console.log(
      `clients=${clients}: tps RPC / by hand in 6 requests ${ratio(rpc.tps / hand6.tps)},` +
        ` RPC / by hand in 1 request ${ratio(rpc.tps / hand1.tps)};` +
        ` mean latency RPC / by hand in 1 request ${ratio(rpc.latency.mean / hand1.latency.mean)}`,
    );
  }
  const transactions = r.cost.results.reduce((n, c) => n + c.transactions, 0);
  console.log(
    `audit rows these runs wrote: ${thousands(r.cost.applied)} transitions for ${
      thousands(transactions)
    } transactions` +
      `, ${r.cost.refused} refused`,
  );
  console.log("The RPC also checks the expected version, validates the payload and returns the session as JSON (photo");
  console.log("count, task title); the statements by hand do none of that. Each client has sessions of its own.");

  const errors = r.product.levels.concat(r.floor.levels).reduce((n, l) => n + l.errors, 0) +
    (r.product.logLevels.error ?? 0) + e.refusedTransitions + e.openSessions + (e.idempotency.failed ?? 0) +
    (e.idempotency.processing ?? 0) + r.cost.refused;
  console.log(errors ? `\nFAILED: ${errors} error(s), see above` : "\nno errors: every reply was the expected one");
  return errors;
}

function levelTable(levels: Level[]) {
  table(
    ["concurrency", "messages", "msgs/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "cpu bench", "cpu others"],
    levels.map((l) => [
      l.concurrency,
      thousands(l.messages),
      l.perSecond.toFixed(1),
      ...latencyCells(l.latency),
      l.errors,
      l.cpu.mine.toFixed(2),
      l.cpu.others.toFixed(2),
    ]),
  );
  for (const sample of levels.flatMap((l) => l.errorSamples).slice(0, 5)) console.log(`error: ${sample}`);
}
