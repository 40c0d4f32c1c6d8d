// The figures of a run, printed as aligned tables, and the checks with PASS / WARN / FAIL.
import type { Check } from "./checks.ts";
import type { Client } from "./client.ts";
import type { CleanupClock } from "./clock.ts";
import type { Sql } from "./database.ts";
import type { FaultRecord } from "./faults.ts";
import type { Load } from "./load.ts";
import type { Options } from "./options.ts";
import type { WebhookProcess } from "./webhook.ts";

export function table(title: string, rows: [string, string | number][]): string {
  const width = Math.max(...rows.map(([k]) => k.length), 10);
  return [`\n${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)].join("\n");
}

export function counts(map: Map<string, number> | Record<string, number>, order?: string[]): string {
  const entries = map instanceof Map ? [...map.entries()] : Object.entries(map);
  entries.sort((a, b) => (order ? order.indexOf(a[0]) - order.indexOf(b[0]) : 0) || b[1] - a[1]);
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(", ") : "none";
}

export function verdict(c: Check, strict: boolean): "PASS" | "WARN" | "FAIL" {
  if (c.ok) return "PASS";
  return c.warning && !strict ? "WARN" : "FAIL";
}

export function checksTable(checks: Check[], strict: boolean): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = ["\nchecks (from the tables, after the cleanup)"];
  for (const c of checks) {
    lines.push(`  ${verdict(c, strict)}  ${c.name.padEnd(width)}  ${c.figure}`);
    if (!c.ok && c.evidence?.length) {
      for (const row of c.evidence) {
        lines.push(`          evidence: ${JSON.stringify(row, (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
      }
    }
  }
  return lines.join("\n");
}

/** Error texts of failed messages, grouped: numbers and addresses removed so alike ones count together. */
export function errorKind(error: string | null): string {
  if (!error) return "(no error text)";
  return error.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, "<addr>").replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<uuid>").slice(0, 90);
}

/** Everything the run did and found, as tables, the checks last. */
export async function printSummary(
  sql: Sql,
  o: Options,
  r: {
    client: Client;
    load: Load;
    faults: FaultRecord[];
    cleanupClock: CleanupClock;
    checks: Check[];
    webhook: WebhookProcess;
    loadStartedAt: number;
    lastDelivery: number;
    serverLog: Map<string, number>;
    harnessUncaught: number;
  },
) {
  const s = r.client.stats;
  const [outcome] = await sql`
    select count(*) filter (where r.status = 'completed')::int as completed,
           count(*) filter (where r.status = 'failed')::int as failed,
           count(*) filter (where r.attempts > 1)::int as taken_over
      from chaos.sent_messages m join fsm_idempotency_records r using (message_id)`;
  const failures = await sql`
    select r.error, count(*)::int as n from chaos.sent_messages m join fsm_idempotency_records r using (message_id)
     where r.status = 'failed' group by r.error`;
  const failureKinds = new Map<string, number>();
  for (const f of failures) failureKinds.set(errorKind(f.error), (failureKinds.get(errorKind(f.error)) ?? 0) + Number(f.n));
  const sessions = await sql`
    select fsm_state || coalesce(' (' || closure_reason || ')', '') as k, count(*)::int as n
      from progress_update_sessions group by 1 order by 2 desc`;
  const [effects] = await sql`
    select (select count(*) from progress_updates)::int as updates, (select count(*) from incidents)::int as incidents,
           (select count(*) from photos)::int as photos, (select count(*) from fsm_clarification_requests)::int as clarifications,
           (select count(*) from fsm_transition_log where success)::int as moves,
           (select count(*) from fsm_transition_log where not success)::int as refusals`;
  const events = r.webhook.events;
  const pick = (k: string) => events.get(k) ?? 0;

  console.log(table("run", [
    ["mode", `${o.quick ? "--quick" : "default"}, seed ${o.seed}`],
    ["workers", `${o.workers} (3 open tasks each)`],
    ["load", `${o.loadSeconds} s, finished after ${((r.lastDelivery - r.loadStartedAt) / 1000).toFixed(1)} s`],
    ["settings", `session_timeout ${o.sessionTimeoutSeconds} s (2 s for the final cleanup), ` +
      `idempotency_lease ${o.idempotencyLeaseSeconds} s, orphan_threshold ${o.orphanThresholdSeconds} s, ` +
      `webhook statement_timeout ${o.statementTimeoutMs} ms`],
  ]));
  console.log(table("traffic", [
    ["conversations", `${sum(r.load.stats.conversations)} (${r.load.stats.shuffled} sent all at once, shuffled)`],
    ["messages sent", `${r.client.messages.size} distinct message ids`],
    ["deliveries", `${s.deliveries} (${s.concurrentCopies} concurrent copies, ${s.lateCopies} late copies, ` +
      `${s.redeliveries} redeliveries of lapsed claims)`],
    ["HTTP attempts", `${s.attempts} (${s.retries} retries of the same MessageSid)`],
    ["HTTP outcomes", counts(s.outcomes)],
    ["HTTP latency", `${latency(s.latencies)}; ${s.slow.length} attempts took 5 s or more`],
    ["applied / failed", `${outcome.completed} completed, ${outcome.failed} failed; ` +
      `${outcome.taken_over} claims taken over after their lease`],
    ["failed because", counts(failureKinds)],
  ]));
  console.log(table("effects", [
    ["sessions", sessions.map((x) => `${x.k} ${x.n}`).join(", ")],
    ["recorded", `${effects.updates} progress updates, ${effects.incidents} incidents, ${effects.photos} photos, ` +
      `${effects.clarifications} clarifications`],
    ["transitions", `${effects.moves} applied, ${effects.refusals} refused (logged)`],
  ]));
  console.log(table("faults", [
    ...r.faults.map((f): [string, string] => [
      `+${((f.startedAt - r.loadStartedAt) / 1000).toFixed(0)} s ${f.name}`,
      f.error ? `FAILED: ${f.error}` : f.detail + (f.name.includes("PostgreSQL") ? afterRestart(f, r.client, r.webhook) : ""),
    ]),
    ["webhook", `${r.webhook.kills} SIGKILLs, ${r.webhook.starts} starts, ${r.webhook.unplannedExits.length} unplanned exits`],
    ["webhook log", `applied ${pick("message_applied")}, failed ${pick("message_failed")}, ` +
      `database_unavailable (503) ${pick("database_unavailable")}, failure_not_recorded ${pick("failure_not_recorded")}, ` +
      `in_progress ${pick("delivery_in_progress")}, duplicate ${pick("duplicate_delivery")}, ` +
      `claim_lost ${pick("claim_lost")}, steps_rejected ${pick("steps_rejected")}`],
    ["postgres log", counts(r.serverLog)],
    ["cleanup clock", `${r.cleanupClock.runs} runs, ${r.cleanupClock.failures} failed; ${counts(r.cleanupClock.totals)}`],
    ["harness", `${r.harnessUncaught} uncaught errors in the harness's own database client`],
  ]));
  if (s.slow.length) {
    console.log(`\nslowest attempts (of ${s.slow.length} taking 5 s or more):`);
    for (const a of [...s.slow].sort((x, y) => y.ms - x.ms).slice(0, 8)) {
      console.log(`  started +${((a.startedAt - r.loadStartedAt) / 1000).toFixed(1)} s, ${a.ms} ms, ${a.outcome}: ${a.sid}`);
    }
  }
  for (const exit of r.webhook.unplannedExits) {
    console.log(`\nunplanned webhook exit at +${((exit.at - r.loadStartedAt) / 1000).toFixed(1)} s ` +
      `(code ${exit.code}, signal ${exit.signal}); its last lines:`);
    for (const line of exit.lastLines) console.log(`  | ${line.slice(0, 400)}`);
  }
  console.log(checksTable(r.checks, o.strict));
}

/** How the webhook came back once PostgreSQL was up again: the slowest answer to a request made around the
 *  restart, counted from the moment the server was ready, and errors of the old server's last moments
 *  ("shutting down", "terminating connection") still reported after it was up. */
function afterRestart(f: FaultRecord, client: Client, webhook: WebhookProcess): string {
  const readyAt = f.startedAt + f.ms;
  const stuck = client.stats.slow
    .filter((a) => a.startedAt <= readyAt + 5000 && a.startedAt + a.ms > readyAt)
    .map((a) => a.startedAt + a.ms - readyAt);
  const stale = webhook.errors.filter((e) =>
    e.at > readyAt + 1000 && e.at < readyAt + 30_000 && /shutting down|administrator command|starting up/.test(e.error)
  );
  const slowest = stuck.length ? `${Math.max(...stuck)} ms` : "under 5 s";
  return `; once it was up: slowest answer ${slowest} later, ${stale.length} errors from the old server reported > 1 s after`;
}

export function latency(ms: number[]): string {
  if (!ms.length) return "no attempts";
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms, max ${sorted[sorted.length - 1]} ms`;
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const v of map.values()) total += v;
  return total;
}
