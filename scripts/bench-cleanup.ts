// `npm run bench:cleanup`: cleanup_expired_fsm_records() on a database with millions of idempotency
// records and hundreds of thousands of sessions and clarifications of every age. Shows whether each
// batch uses its index (EXPLAIN, and the plans the function actually ran), times the runs until nothing
// is left to do, and measures a steady message flow through the webhook before, during and after them,
// and what a worker whose rows a run holds sees. Plain-text report on stdout, progress on stderr.
//
//   npm run bench:cleanup -- [--records 2000000] [--sessions 300000] [--clarifications 200000]
//                            [--flow-workers 300] [--rate 50] [--budget <s>] [--quick] [--json out.json]
//
// DATABASE_URL names a server to use (a scratch database is created there and dropped at the end);
// without it an embedded PostgreSQL runs in a temporary directory.
import postgres from "postgres";
import { enableAutoExplain, explainBatches, observeBatch, type ObservedBatch } from "./bench/cleanup-plans.ts";
import { buildPopulation, cleanupClosures, dueWork, returningWorkers, tableSizes } from "./bench/cleanup-population.ts";
import { type CleanupRun, printCleanupReport } from "./bench/cleanup-report.ts";
import { intOption, numberOption, parseOptions } from "./bench/cli.ts";
import { startCpuMonitor } from "./bench/cpu-monitor.ts";
import { describeMachine } from "./bench/machine.ts";
import { phase, startFlow, startProbes } from "./bench/message-flow.ts";
import { progress, writeJson } from "./bench/report.ts";
import { createScratchDatabase, openServer } from "./bench/scratch-database.ts";
import { onTeardown, runMain } from "./bench/teardown.ts";
import { twilioClient } from "./bench/twilio-client.ts";
import { spawnWebhook } from "./bench/webhook.ts";
import { insertWorkers } from "./bench/workers.ts";

const log = progress("bench:cleanup");
const options = parseOptions(Deno.args, {
  records: { help: "idempotency records across 10 days (default 2,000,000)" },
  sessions: { help: "sessions, 3 per worker (default 300,000)" },
  clarifications: { help: "clarification requests (default 200,000)" },
  "audit-rows": { help: "fsm_transition_log rows across 120 days (default 500,000)" },
  "flow-workers": { help: "workers sending the steady message flow (default 300)" },
  rate: { help: "messages per second of the flow, all its workers together (default 50)" },
  "phase-seconds": { help: "seconds of flow before and after the cleanup runs (default 15)" },
  budget: { help: "set cleanup_time_budget to this many seconds first (default: the product's own setting)" },
  probes: { help: "returning workers through a 'separate' webhook process (default), the 'shared' one, or 'off'" },
  quick: { help: "a smoke run: a tenth of the data, short phases", flag: true },
  json: { help: "also write the figures to this file" },
}, "npm run bench:cleanup -- [options]");
const quick = options.has("quick");
const scale = quick ? 10 : 1;
const SIZE = {
  records: intOption(options, "records", 2_000_000 / scale),
  sessions: intOption(options, "sessions", 300_000 / scale),
  clarifications: intOption(options, "clarifications", 200_000 / scale),
  auditRows: intOption(options, "audit-rows", 500_000 / scale),
};
const FLOW_WORKERS = intOption(options, "flow-workers", quick ? 100 : 300);
const RATE = numberOption(options, "rate", quick ? 30 : 50);
const PHASE_SECONDS = numberOption(options, "phase-seconds", quick ? 3 : 15);
const BUDGET = options.has("budget") ? numberOption(options, "budget", 20) : undefined;
const PROBES = String(options.get("probes") ?? "separate");
if (!["separate", "shared", "off"].includes(PROBES)) {
  console.error(`--probes is separate, shared or off, not ${PROBES}`);
  Deno.exit(2);
}
const MAX_RUNS = 50;
const PROBE_EVERY_MS = 200;

await runMain(log, async () => {
  // A scratch database full of work for the cleanup, and a few hundred ordinary workers for the flow.
  const server = await openServer(log);
  const db = await createScratchDatabase(server, "fsm_bench_cleanup", log);
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  onTeardown("close the bench's connection", () => sql.end({ timeout: 5 }));
  const machine = await describeMachine(sql, server.label);
  const built = performance.now();
  const { workers } = await buildPopulation(sql, SIZE, log);
  const buildSeconds = (performance.now() - built) / 1000;
  const flowWorkers = await insertWorkers(sql, FLOW_WORKERS, "995", "Cleanup bench: flow");
  if (BUDGET !== undefined) {
    await sql`update public.fsm_settings set cleanup_time_budget = make_interval(secs => ${BUDGET})`;
  }
  const [settings] = await sql`select * from public.fsm_settings`;
  const sizes = await tableSizes(sql);
  const due = await dueWork(sql);
  const comebacks = await returningWorkers(sql, 2000);

  // Does every batch use its index? EXPLAIN each one (rolled back), and its generic plan.
  log("plans: EXPLAIN of each batch");
  const explainSql = postgres(db.url, { max: 1, onnotice: () => {} });
  const plans = await explainBatches(explainSql);
  await explainSql.end();

  // The flow: the webhook served by Deno, a steady stream of signed messages; first without the cleanup.
  const webhook = await spawnWebhook(db.url);
  const client = twilioClient(webhook);
  const cpu = startCpuMonitor(db.name);
  onTeardown("stop the CPU monitor", () => cpu.stop());
  log(`flow: ${FLOW_WORKERS} workers, ~${RATE} messages/s; ${PHASE_SECONDS} s before the cleanup`);
  const flow = startFlow({ client, workers: flowWorkers, rate: RATE });
  onTeardown("stop the flow", () => flow.stop());
  const tBefore = performance.now();
  await sleep(PHASE_SECONDS * 1000);

  // The cleanup, run after run until one has nothing to do, auto_explain reporting every statement;
  // meanwhile workers whose rows the runs hold come back, one every PROBE_EVERY_MS.
  const observed: ObservedBatch[] = [];
  const cleanupSql = postgres(db.url, {
    max: 1,
    onnotice: (notice) => {
      const batch = observeBatch(String(notice.message ?? ""));
      if (batch) observed.push(batch);
    },
  });
  onTeardown("close the cleanup's connection", () => cleanupSql.end({ timeout: 5 }));
  const autoExplain = await enableAutoExplain(cleanupSql);
  const probeWebhook = PROBES === "separate" ? await spawnWebhook(db.url) : webhook;
  let cleaning = false;
  const probes = startProbes({
    client: PROBES === "separate" ? twilioClient(probeWebhook) : client,
    numbers: PROBES === "off" ? [] : comebacks,
    everyMs: PROBE_EVERY_MS,
    active: () => cleaning,
  });
  const runs: CleanupRun[] = [];
  const tDuring = performance.now();
  for (let n = 1; n <= MAX_RUNS; n++) {
    const firstBatch = observed.length;
    cleaning = true;
    const started = performance.now();
    const [{ r }] = await cleanupSql`select public.cleanup_expired_fsm_records() as r`;
    const ended = performance.now();
    cleaning = false;
    const counts = r as Record<string, number>;
    runs.push({ n, started, ended, counts, batches: observed.slice(firstBatch) });
    const did = Object.entries(counts).filter(([k, v]) => k !== "duration_ms" && v > 0).map(([k, v]) => `${k}=${v}`);
    log(`cleanup run ${n}: ${Math.round(ended - started)} ms ${did.join(" ") || "nothing to do"}`);
    if (!did.length) break;
  }

  // And the flow after it.
  const tAfter = performance.now();
  log(`flow: ${PHASE_SECONDS} s after the cleanup`);
  await sleep(PHASE_SECONDS * 1000);
  const tEnd = performance.now();
  await probes.stop();
  await flow.stop();
  const left = await dueWork(sql, "1 minute");
  const closures = await cleanupClosures(sql);

  const withCpu = (p: ReturnType<typeof phase>, from: number, to: number) => ({ ...p, cpu: cpu.between(from, to) });
  const phases = [
    withCpu(phase("before", flow.samples, tBefore, tDuring), tBefore, tDuring),
    withCpu(phase(`during (${runs.length} runs)`, flow.samples, tDuring, tAfter), tDuring, tAfter),
    ...runs.filter((run) => run.ended - run.started > 1000)
      .map((run) => withCpu(phase(`  run ${run.n}`, flow.samples, run.started, run.ended), run.started, run.ended)),
    withCpu(phase("after", flow.samples, tAfter, tEnd), tAfter, tEnd),
  ];
  const results = {
    command: `npm run bench:cleanup${Deno.args.length ? " -- " + Deno.args.join(" ") : ""}`,
    machine,
    settings,
    buildSeconds,
    workers,
    sizes: sizes.map((s) => ({ table: String(s.table), rows: Number(s.rows), size: String(s.size) })),
    due,
    plans,
    runs,
    autoExplain,
    closures,
    flow: { workers: FLOW_WORKERS, rate: RATE, phases },
    flowErrors: flow.samples.filter((s) => s.error),
    probes: {
      mode: PROBES,
      everyMs: PROBE_EVERY_MS,
      samples: probes.samples,
      errorLines: [...new Set([...webhook.errors(), ...probeWebhook.errors()])],
      logLevels: `flow webhook ${JSON.stringify(Object.fromEntries(webhook.levels))}` +
        (PROBES === "separate" ? `, probe webhook ${JSON.stringify(Object.fromEntries(probeWebhook.levels))}` : ""),
    },
    left,
  };
  const findings = printCleanupReport(results);
  await writeJson(options.get("json") as string | undefined, { ...results, findings });
  // The run failed if the cleanup left work undone or ordinary messages failed; the rest are findings.
  return results.flowErrors.length || Object.values(left).some((n) => n > 0) ? 1 : 0;
});

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
