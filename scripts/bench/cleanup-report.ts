// The plain-text report of `npm run bench:cleanup`, and the findings it draws: each claim the run was
// meant to show (indexes used, batches bounded, messages flowing) that did not hold, said precisely.
import { BATCH_QUERIES, isSeqScanOnBigTable, type ObservedBatch, type PlanCheck } from "./cleanup-plans.ts";
import type { Machine } from "./machine.ts";
import { printMachine } from "./machine.ts";
import type { FlowSample, PhaseSummary } from "./message-flow.ts";
import { heading, table } from "./report.ts";
import { ms, summarize, thousands, latencyCells } from "./stats.ts";

export interface CleanupRun {
  n: number;
  started: number;
  ended: number;
  counts: Record<string, number>;
  batches: ObservedBatch[];
}

export interface CleanupResults {
  command: string;
  machine: Machine;
  settings: Record<string, unknown>;
  buildSeconds: number;
  workers: number;
  sizes: { table: string; rows: number; size: string }[];
  due: Record<string, number>;
  plans: PlanCheck[];
  runs: CleanupRun[];
  autoExplain: boolean;
  closures: { orphaned: number; timeout: number; timeout_but_orphan: number };
  flow: { workers: number; rate: number; phases: (PhaseSummary & { cpu: { mine: number; others: number } })[] };
  flowErrors: FlowSample[];
  probes: { mode: string; everyMs: number; samples: FlowSample[]; errorLines: string[]; logLevels: string };
  left: Record<string, number>;
}

const COUNTS = [
  "clarifications_expired",
  "sessions_timed_out",
  "sessions_orphaned",
  "claims_failed",
  "idempotency_records_deleted",
  "transition_log_deleted",
];

/** Prints the report; returns the findings (also printed). */
export function printCleanupReport(r: CleanupResults): string[] {
  console.log(`whatsapp-fsm cleanup benchmark (${r.command})`);
  printMachine(r.machine);
  const st = r.settings;
  console.log(
    `settings    cleanup_batch_size=${st.cleanup_batch_size} cleanup_time_budget=${st.cleanup_time_budget}` +
      ` session_timeout=${st.session_timeout} orphan_threshold=${st.orphan_threshold}` +
      ` idempotency_retention=${st.idempotency_retention} transition_log_retention=${st.transition_log_retention}`,
  );

  heading(`The database: built set-based in ${r.buildSeconds.toFixed(0)} s, then vacuum analyze`);
  table(["table", "rows", "size with indexes"], r.sizes.map((s) => [s.table, thousands(Number(s.rows)), s.size]));
  console.log(`\ndue at the start (${thousands(r.workers)} workers; counted with the cleanup's own predicates):`);
  table(["what", "rows"], Object.entries(r.due).map(([k, v]) => [k, thousands(v)]));

  heading("Plans: EXPLAIN (ANALYZE, BUFFERS) of each batch statement, rolled back");
  console.log(
    "Statements copied from cleanup_expired_fsm_records() and recover_orphaned_sessions(), settings filled in",
  );
  console.log("(as plpgsql plans them: with the values). The generic plan, with the settings as parameters, is shown");
  console.log("for information: plpgsql switches to it only when it looks no dearer than the custom plans.\n");
  for (const check of r.plans) {
    const expected = BATCH_QUERIES.find((q) => q.name === check.query)!.indexes;
    console.log(
      `${check.ok ? "OK  " : "BAD "} ${check.query}: ${expected.join(", ")}` +
        (check.missing.length ? ` (NOT USED: ${check.missing.join(", ")})` : " used") +
        (check.seqScans.length ? `; SEQ SCAN: ${check.seqScans.join(", ")}` : "; no seq scan on a big table"),
    );
    for (const line of check.plan) console.log(`       ${line}`);
    console.log(`       generic plan: ${check.genericScans.join("; ")}\n`);
  }

  heading("Cleanup runs, back to back until one finds nothing to do (pg_cron runs one every 5 minutes)");
  table(
    ["run", "ms", "clarifications", "timed out", "orphaned", "claims failed", "idempotency deleted", "audit deleted"]
      .concat(r.autoExplain ? ["batches", "largest"] : []),
    r.runs.map((run) =>
      [run.n, thousands(run.ended - run.started), ...COUNTS.map((k) => thousands(run.counts[k] ?? 0))].concat(
        r.autoExplain ? [run.batches.length, thousands(Math.max(0, ...run.batches.map((b) => b.limitRows ?? 0)))] : [],
      )
    ),
  );
  const budgetMs = intervalMs(String(st.cleanup_time_budget));
  const over = r.runs.filter((run) => run.counts.duration_ms > budgetMs);
  console.log(
    `time budget ${thousands(budgetMs)} ms: ` +
      (over.length
        ? `run(s) ${over.map((run) => `${run.n} by ${thousands(run.counts.duration_ms - budgetMs)} ms`).join(", ")}` +
          " went past it: past the budget a run starts no new batch, but the batch in progress finishes."
        : "no run went past it."),
  );
  if (r.runs.length > 2 && r.runs[0].counts.duration_ms >= budgetMs) {
    console.log("The backlog was more than one budget: each run did what fit and the next one went on from there.");
  }
  console.log("Each run is one transaction (one statement): the rows it changed stay locked until it returns.");
  console.log(
    `Sessions the runs closed: ${thousands(r.closures.orphaned)} as orphaned, ${thousands(r.closures.timeout)} as` +
      ` timeout, of which ${thousands(r.closures.timeout_but_orphan)} met the orphan criteria (stuck in idle, or` +
      " their task closed; orphan recovery runs first, so this should be 0).",
  );
  const batchesOf = (name: string) => r.runs.flatMap((run) => run.batches).filter((b) => b.kind === name);
  if (r.autoExplain) {
    console.log("\nInside the runs: auto_explain on the cleanup's connection logged every statement the function ran:");
    table(
      ["batch statement", "batches", "largest batch", "slowest ms", "scans seen (all batches)"],
      BATCH_QUERIES.map((q) => {
        const batches = batchesOf(q.name);
        return [
          q.name,
          batches.length,
          thousands(Math.max(0, ...batches.map((b) => b.limitRows ?? 0))),
          ms(Math.max(0, ...batches.map((b) => b.ms))),
          [...new Set(batches.flatMap((b) => b.scans))].join("; ") || "-",
        ];
      }),
      { left: [4] },
    );
  } else {
    console.log("(auto_explain could not be loaded on this server: only the EXPLAIN above shows the plans)");
  }

  heading(
    `Message flow: ${r.flow.workers} workers through the webhook, ~${r.flow.rate} messages/s, whole conversations`,
  );
  table(
    [
      "phase",
      "seconds",
      "messages",
      "msgs/s",
      "p50 ms",
      "p95 ms",
      "p99 ms",
      "max ms",
      "errors",
      "cpu bench",
      "cpu others",
    ],
    r.flow.phases.map((p) => [
      p.name,
      p.seconds.toFixed(1),
      p.messages,
      p.perSecond.toFixed(1),
      ...latencyCells(p.latency),
      p.errors,
      p.cpu.mine.toFixed(2),
      p.cpu.others.toFixed(2),
    ]),
  );
  console.log("cpu: cores used by the bench's processes (webhooks, this client, PostgreSQL backends of this database)");
  console.log("and by everything else on the machine (should be ~0 for figures worth keeping)");
  for (const e of r.flowErrors.slice(0, 5)) console.log(`error: ${e.error}`);

  heading("Workers coming back while a run holds their rows (a session idle past the timeout, or an expired question)");
  console.log(
    `One of them says "tasks" every ${r.probes.everyMs} ms while a run is in progress, each a different worker, through ` +
      ({
        shared: "the flow's own webhook process",
        separate: "a second webhook process (its own pool)",
      }[r.probes.mode] ??
        "nothing (--probes off)"),
  );
  const probeErrors = r.probes.samples.filter((s) => s.error);
  const latency = summarize(r.probes.samples.map((s) => s.ms));
  table(["sent", "answered as expected", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms"], [[
    r.probes.samples.length,
    r.probes.samples.length - probeErrors.length,
    probeErrors.length,
    ...latencyCells(latency),
  ]]);
  const byError = new Map<string, number>();
  for (const e of probeErrors) byError.set(e.error!, (byError.get(e.error!) ?? 0) + 1);
  for (const [error, n] of byError) console.log(`${n} x ${error}`);
  const waited = r.probes.samples.filter((s) => !s.error && s.ms > 1000).length;
  if (waited) console.log(`${waited} answered correctly but only after waiting more than 1 s`);
  console.log(`webhook log lines by level: ${r.probes.logLevels}`);
  for (const line of r.probes.errorLines.slice(0, 3)) console.log(`  ${line}`);

  heading("Left after the runs (what was due a minute before the end and is still there)");
  table(["what", "rows"], Object.entries(r.left).map(([k, v]) => [k, thousands(v)]));

  const findings: string[] = [];
  for (const p of r.plans.filter((p) => !p.ok)) {
    findings.push(`EXPLAIN, ${p.query}: ${[...p.missing.map((i) => `${i} not used`), ...p.seqScans].join(", ")}`);
  }
  for (const q of BATCH_QUERIES) {
    const batches = batchesOf(q.name);
    const seq = [...new Set(batches.flatMap((b) => b.scans).filter(isSeqScanOnBigTable))];
    const withSeq = batches.filter((b) => b.scans.some(isSeqScanOnBigTable)).length;
    if (seq.length) {
      findings.push(`inside the runs, ${q.name}: ${seq.join(", ")} in ${withSeq} of ${batches.length} batches`);
    }
  }
  const overshoot = Math.max(0, ...r.runs.map((run) => run.counts.duration_ms - budgetMs));
  if (overshoot > budgetMs / 4) findings.push(`a run went ${thousands(overshoot)} ms past the time budget`);
  if (r.flowErrors.length) findings.push(`${r.flowErrors.length} message(s) of the ordinary flow failed`);
  if (probeErrors.length) {
    findings.push(
      `${probeErrors.length} of ${r.probes.samples.length} returning workers got an error: ${
        [...byError.keys()].join("; ")
      }`,
    );
  }
  const leftOver = Object.entries(r.left).filter(([, v]) => v > 0);
  if (leftOver.length) findings.push(`left undone: ${leftOver.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  heading("Findings");
  console.log(
    findings.length
      ? findings.map((f) => `- ${f}`).join("\n")
      : "none: indexes used, batches bounded, the flow kept going",
  );
  return findings;
}

/** "00:00:20" or "1 day 02:00:00" (postgres.js gives intervals as text) → milliseconds. */
export function intervalMs(text: string): number {
  const hms = text.match(/(\d+):(\d+):(\d+(?:\.\d+)?)/);
  const days = Number(text.match(/(\d+) days?/)?.[1] ?? 0);
  return ((days * 24 + Number(hms?.[1] ?? 0)) * 3600 + Number(hms?.[2] ?? 0) * 60 + Number(hms?.[3] ?? 0)) * 1000;
}
