// Does each batch of cleanup_expired_fsm_records() use its index? Two ways of asking:
//   1. EXPLAIN (ANALYZE, BUFFERS) of each batch statement, with the predicates copied from the
//      migration and the settings filled in, inside a transaction that is rolled back (the plan a batch
//      gets: plpgsql plans with the values known); and, for information, the generic plan of the same
//      statement with the settings as parameters (plpgsql switches to it only if it looks no dearer);
//   2. auto_explain on the connection that runs the cleanup: the plan of every statement the function
//      actually ran, batch by batch (which batch, the scans it made, the rows its LIMIT let through).
import type postgres from "postgres";

export interface BatchQuery {
  name: string;
  /** The indexes this batch must use. */
  indexes: string[];
  /** $1 = cleanup_batch_size, $2 = the interval setting it compares with. */
  sql: string;
  setting:
    | "clarification_timeout"
    | "orphan_threshold"
    | "session_timeout"
    | "idempotency_retention"
    | "transition_log_retention";
}

/** fsm_internal.abandon_sessions() written out over the sessions `select` picks, as a batch runs it. */
function abandonSql(select: string, reason: string): string {
  return `with closed as (
      update public.progress_update_sessions s
         set fsm_state = 'abandoned', closure_reason = '${reason}', closed_at = now(), version = s.version + 1,
             updated_at = now(),
             transition_history = s.transition_history || jsonb_build_object(
               'from', s.fsm_state, 'to', 'abandoned', 'event', 'abandon', 'at', now(), 'correlation_id', 'cleanup')
       where s.id = any(array(${select}))
         and s.fsm_state not in ('completed', 'abandoned')
      returning s.id, s.worker_id, (s.transition_history -> -1 ->> 'from')::public.fsm_state as from_state
    ), logged as (
      insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
      select id, worker_id, from_state, 'abandoned', 'abandon', true, 'cleanup' from closed
      returning 1
    )
    select count(*) from logged`;
}

/**
 * The batch statements of public.cleanup_expired_fsm_records() and public.recover_orphaned_sessions()
 * (migration 20261125001000), with fsm_internal.abandon_sessions() written out where they call it.
 */
export const BATCH_QUERIES: BatchQuery[] = [
  {
    name: "expire clarifications",
    indexes: ["fsm_clarification_requests_pending_expiry_idx", "fsm_clarification_requests_pkey"],
    setting: "clarification_timeout", // unused: expiry is judged by expires_at alone
    sql: `update public.fsm_clarification_requests c
       set status = 'expired', resolved_at = now()
     where c.id = any(array(
       select id from public.fsm_clarification_requests
        where status = 'pending' and expires_at <= now()
        order by expires_at
        limit $1
          for update skip locked))`,
  },
  {
    name: "orphaned sessions",
    indexes: ["progress_update_sessions_open_by_activity_idx", "workers_pkey", "progress_update_sessions_pkey"],
    setting: "orphan_threshold",
    sql: abandonSql(`
        select s.id from public.progress_update_sessions s
          join public.workers w on w.id = s.worker_id
          left join public.tasks t on t.id = s.task_id
         where s.fsm_state not in ('completed', 'abandoned')
           and s.last_activity < now() - $2::interval
           and (s.fsm_state = 'idle' or not w.is_active
                or (s.task_id is null and s.fsm_state in ('awaiting_action', 'collecting_data', 'confirmation_pending'))
                or (s.task_id is not null and (t.status <> 'open' or t.worker_id <> s.worker_id)))
         order by s.last_activity
         limit $1
           for update of s skip locked`, "orphaned"),
  },
  {
    name: "stale claims",
    indexes: ["fsm_idempotency_records_processing_idx", "fsm_idempotency_records_pkey"],
    setting: "orphan_threshold",
    sql: `update public.fsm_idempotency_records r
       set status = 'failed', locked_until = null, processed_at = now(),
           error = 'claim abandoned: its lease expired and no delivery took it over'
     where r.message_id = any(array(
       select message_id from public.fsm_idempotency_records
        where status = 'processing' and locked_until < now() - $2::interval
        order by locked_until
        limit $1
          for update skip locked))`,
  },
  {
    name: "timed-out sessions",
    indexes: ["progress_update_sessions_open_by_activity_idx", "progress_update_sessions_pkey"],
    setting: "session_timeout",
    sql: abandonSql(`
        select id from public.progress_update_sessions
         where fsm_state not in ('completed', 'abandoned') and last_activity < now() - $2::interval
         order by last_activity
         limit $1
           for update skip locked`, "timeout"),
  },
  {
    name: "idempotency records past retention",
    indexes: ["fsm_idempotency_records_created_idx", "fsm_idempotency_records_pkey"],
    setting: "idempotency_retention",
    sql: `delete from public.fsm_idempotency_records r
     where r.message_id = any(array(
       select message_id from public.fsm_idempotency_records
        where created_at < now() - $2::interval and status <> 'processing'
        order by created_at
        limit $1
          for update skip locked))`,
  },
  {
    name: "audit rows past retention",
    indexes: ["fsm_transition_log_created_idx", "fsm_transition_log_pkey"],
    setting: "transition_log_retention",
    sql: `delete from public.fsm_transition_log l
     where l.id = any(array(
       select id from public.fsm_transition_log
        where created_at < now() - $2::interval
        order by created_at
        limit $1))`,
  },
];

/** The tables too big to scan whole inside a batch. */
const BIG_TABLES = [
  "progress_update_sessions",
  "fsm_idempotency_records",
  "fsm_clarification_requests",
  "fsm_transition_log",
  "workers",
  "tasks",
];

export interface PlanCheck {
  query: string;
  plan: string[];
  genericScans: string[];
  indexesUsed: string[];
  missing: string[];
  /** Seq scans of a big table in the plan the batch gets (its custom plan), with the rows each read. */
  seqScans: string[];
  /** Seq scans the generic plan would do (plpgsql uses it only if it looks no dearer than the custom ones). */
  genericSeqScans: string[];
  ok: boolean;
}

/** The scan nodes of a text plan: "Index Scan using x on t", "Bitmap Index Scan on x", "Seq Scan on t". */
export function scans(plan: string[]): string[] {
  const found: string[] = [];
  for (const line of plan) {
    const m = line.match(
      /((?:Index Only |Index |Bitmap Index |Seq |Bitmap Heap )Scan(?: Backward)?(?: using| on) \S+(?: on \S+)?)/,
    );
    if (m) found.push(m[1].replace(/ Backward/, ""));
  }
  return [...new Set(found)];
}

/** Below this many rows a sequential scan is the planner's right call, not a missing index (--quick sizes). */
const SEQ_SCAN_WORTH_FLAGGING = 50_000;

/** "Seq Scan on progress_update_sessions old (read 300000 rows)" for each seq scan of a big table. */
function bigSeqScans(plan: string[]): string[] {
  const found: string[] = [];
  plan.forEach((line, i) => {
    const m = line.match(/Seq Scan on (\S+)( \w+)? \((?:actual time=\S+ )?(?:rows=(\d+))?/);
    if (!m || !BIG_TABLES.includes(m[1])) return;
    // Rows out, plus those its filter threw away (on the node's own detail lines, before the next node).
    let read = Number(m[3] ?? NaN);
    for (const detail of plan.slice(i + 1)) {
      if (detail.includes("->")) break;
      const removed = detail.match(/Rows Removed by Filter: (\d+)/);
      if (removed) read += Number(removed[1]);
    }
    if (Number.isFinite(read) && read < SEQ_SCAN_WORTH_FLAGGING) return;
    found.push(`Seq Scan on ${m[1]}${m[2] ?? ""}${Number.isFinite(read) ? ` (read ${read} rows)` : ""}`);
  });
  return [...new Set(found)];
}

function check(query: BatchQuery, plan: string[], generic: string[]): PlanCheck {
  const used = scans(plan);
  const indexesUsed = [...new Set(used.flatMap((s) => s.match(/(?:using|Index Scan on) (\S+)/)?.[1] ?? []))];
  const missing = query.indexes.filter((i) => !indexesUsed.includes(i));
  const seqScans = bigSeqScans(plan);
  return {
    query: query.name,
    plan,
    genericScans: scans(generic),
    indexesUsed,
    missing,
    seqScans,
    genericSeqScans: bigSeqScans(generic),
    // An index the planner skipped for a small table is not a fault; reading a big table whole is.
    ok: !seqScans.length,
  };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of each batch, rolled back, then its generic plan. Needs its own
 * one-connection client (the transaction and the prepared statements live on that connection).
 */
export async function explainBatches(sql: postgres.Sql): Promise<PlanCheck[]> {
  const [settings] = await sql`select * from public.fsm_settings`;
  const batch = Number(settings.cleanup_batch_size);
  const results: PlanCheck[] = [];
  for (const [i, query] of BATCH_QUERIES.entries()) {
    const interval = intervalText(settings[query.setting]);
    const custom = query.sql.replaceAll("$1", String(batch)).replaceAll("$2", `'${interval}'`);
    await sql.unsafe("begin");
    let plan: string[];
    try {
      plan = (await sql.unsafe(`explain (analyze, buffers, costs off) ${custom}`)).map((r) => r["QUERY PLAN"]);
    } finally {
      await sql.unsafe("rollback");
    }
    await sql.unsafe(`prepare cleanup_batch_${i} (integer, interval) as ${query.sql}`);
    await sql.unsafe("set plan_cache_mode = force_generic_plan");
    const generic = (await sql.unsafe(`explain (costs off) execute cleanup_batch_${i} (${batch}, '${interval}')`))
      .map((r) => r["QUERY PLAN"]);
    await sql.unsafe("reset plan_cache_mode");
    await sql.unsafe(`deallocate cleanup_batch_${i}`);
    results.push(check(query, plan, generic));
  }
  return results;
}

/** postgres.js gives intervals back as text already ("00:30:00", "7 days"). */
function intervalText(value: unknown): string {
  return String(value);
}

// auto_explain -------------------------------------------------------------------------------------

export interface ObservedBatch {
  kind: string;
  scans: string[];
  /** Rows out of the batch's LIMIT node (the batch size it took). */
  limitRows: number | null;
  ms: number;
}

const KINDS: [string, RegExp][] = [
  ["expire clarifications", /update public\.fsm_clarification_requests c set status = 'expired'/],
  ["orphaned sessions", /closure_reason = 'orphaned'/],
  ["stale claims", /set status = 'failed', locked_until = null/],
  ["timed-out sessions", /closure_reason = 'timeout'/],
  ["idempotency records past retention", /delete from public\.fsm_idempotency_records/],
  ["audit rows past retention", /delete from public\.fsm_transition_log/],
];

/**
 * Loads auto_explain on `sql`'s connection (superuser only) so that every statement the cleanup runs
 * sends its plan, with actual row counts, to this client as a LOG message. False when it cannot.
 */
export async function enableAutoExplain(sql: postgres.Sql): Promise<boolean> {
  try {
    await sql.unsafe("load 'auto_explain'");
    await sql.unsafe(`set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
      set auto_explain.log_analyze = on; set auto_explain.log_timing = off; set auto_explain.log_buffers = off;
      set auto_explain.log_format = 'json'; set client_min_messages = log`);
    return true;
  } catch {
    return false;
  }
}

/** Turns one auto_explain LOG message into a batch observation, if it is one of the cleanup's batches. */
export function observeBatch(message: string): ObservedBatch | undefined {
  const at = message.indexOf("{");
  if (at < 0) return undefined;
  let parsed: { "Query Text": string; Plan: PlanNode };
  try {
    parsed = JSON.parse(message.slice(at));
  } catch {
    return undefined;
  }
  const kind = KINDS.find(([, pattern]) => pattern.test(parsed["Query Text"]))?.[0];
  if (!kind) return undefined;
  const found: string[] = [];
  let limitRows: number | null = null;
  const walk = (node: PlanNode) => {
    const type = node["Node Type"];
    if (type === "Limit" && limitRows === null) limitRows = node["Actual Rows"] ?? null;
    if (type === "Seq Scan") {
      found.push(
        `Seq Scan on ${node["Relation Name"]}${
          node.Alias && node.Alias !== node["Relation Name"] ? ` ${node.Alias}` : ""
        }`,
      );
    } else if (type === "Bitmap Index Scan") found.push(`Bitmap Index Scan on ${node["Index Name"]}`);
    else if (type === "Index Scan" || type === "Index Only Scan") {
      found.push(`${type} using ${node["Index Name"]} on ${node["Relation Name"]}`);
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(parsed.Plan);
  const ms = Number(message.match(/duration: ([\d.]+) ms/)?.[1] ?? NaN);
  return { kind, scans: [...new Set(found)], limitRows, ms };
}

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Alias?: string;
  "Actual Rows"?: number;
  Plans?: PlanNode[];
}

export function isSeqScanOnBigTable(scan: string): boolean {
  const table = scan.match(/^Seq Scan on (\S+)/)?.[1];
  return table !== undefined && BIG_TABLES.includes(table);
}
