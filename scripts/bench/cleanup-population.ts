// A database the cleanup has a lot to do in, built set-based (INSERT … SELECT generate_series):
//   workers     sessions / 3, one task each (1 in 20 tasks done: their open sessions are orphans)
//   sessions    3 per worker: one completed, one abandoned, one open in any open state; 65% of the open
//               ones idle past the 30-minute timeout (up to 10 days), the rest active in the last 25 min;
//               the open ones in `idle` past the threshold are orphans too
//   clarifications  2 per worker (by default): one resolved (answered, cancelled or expired); the other
//               pending for 60% of workers: 2/3 of those past their expiry, 1/3 still live
//   idempotency records  of every age across 10 days (~30% past the 7-day retention), inserted in time
//               order as they arrive: 98% completed, 1.5% failed, 0.5% still `processing` (stale claims)
//   audit rows  fsm_transition_log of every age across 120 days (~25% past the 90-day retention), in time order
import type postgres from "postgres";

export interface PopulationSize {
  records: number;
  sessions: number;
  clarifications: number;
  auditRows: number;
}

/** Population worker i has the id 00000000-0000-4000-a000-<i, 12 digits>: no join needed to spread rows over them. */
const WORKER_ID = (i: string) => `('00000000-0000-4000-a000-' || lpad((${i})::text, 12, '0'))::uuid`;

export async function buildPopulation(sql: postgres.Sql, size: PopulationSize, log: (line: string) => void) {
  const workers = Math.max(1, Math.ceil(size.sessions / 3));
  const step = async (what: string, query: () => Promise<unknown>) => {
    const started = performance.now();
    await query();
    log(`population: ${what} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  };
  const [company] = await sql`insert into public.companies (name) values ('Cleanup population') returning id`;

  await step(`${workers.toLocaleString("en-US")} workers and their tasks`, () =>
    sql.unsafe(`
    insert into public.workers (id, company_id, whatsapp_number, display_name, created_at)
    select ${
      WORKER_ID("i")
    }, '${company.id}', '+1994' || lpad(i::text, 8, '0'), 'Worker ' || i, now() - interval '200 days'
      from generate_series(1, ${workers}) as i;
    insert into public.tasks (id, company_id, worker_id, title, status, created_at)
    select ${WORKER_ID("i")}, '${company.id}', ${WORKER_ID("i")}, 'Task of worker ' || i,
           case when i % 20 = 0 then 'done' else 'open' end, now() - interval '100 days'
      from generate_series(1, ${workers}) as i`));

  await step(`${(workers * 3).toLocaleString("en-US")} sessions`, () =>
    sql.unsafe(`
    insert into public.progress_update_sessions
      (worker_id, session_type, task_id, fsm_state, closure_reason, session_metadata, transition_history,
       version, last_activity, created_at, updated_at, closed_at)
    select ${WORKER_ID("i")}, case when k = 2 and i % 4 = 0 then 'incident' else 'progress_update' end,
           case when k < 3 or open_state not in ('idle', 'task_selection') then ${WORKER_ID("i")} end,
           case k when 1 then 'completed' when 2 then 'abandoned' else open_state end,
           case k when 1 then 'completed' when 2 then (array['cancelled', 'timeout', 'task_switched'])[1 + i % 3] end,
           case when k = 3 and open_state in ('collecting_data', 'confirmation_pending')
                then '{"comments": ["first coat"], "progress_percent": 40}'::jsonb else '{}'::jsonb end,
           '[{"from": null, "to": "idle", "event": "start"}]'::jsonb,
           3, activity, activity - interval '10 minutes', activity,
           case when k < 3 then activity end
      from generate_series(1, ${workers}) as i
     cross join generate_series(1, 3) as k
     cross join lateral (select
           (array['idle', 'task_selection', 'awaiting_action', 'awaiting_action', 'collecting_data', 'collecting_data',
                  'collecting_data', 'collecting_data', 'confirmation_pending', 'confirmation_pending'])[1 + i % 10]
             as open_state,
           case when k < 3 then now() - interval '1 day' - random() * interval '30 days'
                when (i * 7919) % 100 < 65 then now() - interval '31 minutes' - random() * interval '10 days'
                else now() - random() * interval '25 minutes' end as activity) x`));

  await step(`${size.clarifications.toLocaleString("en-US")} clarifications`, () =>
    sql.unsafe(`
    insert into public.fsm_clarification_requests
      (worker_id, status, question, options, original_message, message_id, created_at, expires_at, resolved_at, answer)
    select ${WORKER_ID("w")}, status, 'Do you want to: 1. Add it as a comment 2. Report an incident',
           '[{"key": "add_comment", "label": "Add it as a comment"}, {"key": "create_incident", "label": "Report an incident"}]',
           'there is a problem', 'SMclarify' || j, created, expires, case when status <> 'pending' then created + interval '1 minute' end,
           case when status = 'answered' then '1' end
      from generate_series(1, ${size.clarifications}) as j
     cross join lateral (select (j - 1) % ${workers} + 1 as w, (j - 1) / ${workers} as round) r
     cross join lateral (select
           case when round = 1 and w % 5 < 3 then 'pending'
                else (array['answered', 'cancelled', 'expired'])[1 + j % 3] end as status,
           case when round = 1 and w % 5 = 2 then now() - interval '1 minute'
                else now() - interval '10 minutes' - random() * interval '10 days' end as created) s
     cross join lateral (select
           case when round = 1 and w % 5 = 2 then now() + interval '1 hour' else created + interval '5 minutes' end as expires) e`));

  await step(`${size.records.toLocaleString("en-US")} idempotency records`, () =>
    sql.unsafe(`
    insert into public.fsm_idempotency_records
      (message_id, worker_id, status, claim_token, attempts, locked_until, reply, result, error, created_at, processed_at)
    select 'SM' || md5(j::text), ${WORKER_ID(`j % ${workers} + 1`)}, status, gen_random_uuid(), 1,
           case when status = 'processing' then created + interval '30 seconds' end,
           case when status = 'completed' then 'Progress set to 60%. Send photos or a comment, or "done".' end,
           case when status = 'completed' then jsonb_build_object('fsm_state', 'collecting_data', 'version', j % 7) end,
           case when status = 'failed' then 'connection reset' end,
           created, case when status <> 'processing' then created + interval '40 milliseconds' end
      from generate_series(1, ${size.records}) as j
     -- Records arrive in time order, as in production: the table's physical order follows created_at.
     cross join lateral (select now() - interval '10 days' * (1 - j::float8 / ${size.records}) - random() * interval '1 minute' as created,
           case when j % 200 = 0 then 'processing' when j % 200 <= 3 then 'failed' else 'completed' end as status) x`));

  await step(`${size.auditRows.toLocaleString("en-US")} audit rows`, () =>
    sql.unsafe(`
    insert into public.fsm_transition_log (worker_id, from_state, to_state, event, success, correlation_id, created_at)
    select ${
      WORKER_ID(`j % ${workers} + 1`)
    }, 'collecting_data', 'collecting_data', 'add_data', true, 'SM' || md5(j::text),
           now() - interval '120 days' * (1 - j::float8 / ${size.auditRows}) - random() * interval '1 minute'
      from generate_series(1, ${size.auditRows}) as j`));

  await step("vacuum analyze", () => sql`vacuum analyze`);
  return { workers };
}

/**
 * What is due: what the cleanup should do, counted straight from the predicates it uses. `slack` moves
 * "now" back, so that what aged past a limit in the last moments is not counted.
 */
export async function dueWork(sql: postgres.Sql, slack = "0 seconds") {
  const [row] = await sql`
    with n as (select now() - ${slack}::interval as now)
    select
      (select count(*) from public.fsm_clarification_requests where status = 'pending' and expires_at <= (select now from n))::int
        as clarifications_expired,
      (select count(*) from public.progress_update_sessions
        where fsm_state not in ('completed', 'abandoned') and last_activity < (select now from n) - (select session_timeout from public.fsm_settings))::int
        as sessions_idle_past_timeout,
      (select count(*) from public.fsm_idempotency_records
        where status = 'processing' and locked_until < (select now from n) - (select orphan_threshold from public.fsm_settings))::int
        as claims_stale,
      (select count(*) from public.fsm_idempotency_records
        where created_at < (select now from n) - (select idempotency_retention from public.fsm_settings) and status <> 'processing')::int
        as idempotency_past_retention,
      (select count(*) from public.fsm_transition_log
        where created_at < (select now from n) - (select transition_log_retention from public.fsm_settings))::int
        as audit_rows_past_retention`;
  return row as Record<string, number>;
}

export async function tableSizes(sql: postgres.Sql) {
  return await sql`
    select c.relname as table, c.reltuples::bigint as rows, pg_size_pretty(pg_total_relation_size(c.oid)) as size
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind = 'r'
       and c.relname in ('workers', 'tasks', 'progress_update_sessions', 'fsm_clarification_requests',
                         'fsm_idempotency_records', 'fsm_transition_log')
     order by pg_total_relation_size(c.oid) desc`;
}

/** Workers the cleanup is about to work on: an open session idle for an hour, or a clarification past expiry. */
export async function returningWorkers(sql: postgres.Sql, limit: number): Promise<string[]> {
  const rows = await sql`
    select w.whatsapp_number from public.workers w
     where exists (select 1 from public.progress_update_sessions s
                    where s.worker_id = w.id and s.fsm_state not in ('completed', 'abandoned')
                      and s.last_activity < now() - interval '1 hour')
        or exists (select 1 from public.fsm_clarification_requests c
                    where c.worker_id = w.id and c.status = 'pending' and c.expires_at < now())
     order by random() limit ${limit}`;
  return rows.map((r) => r.whatsapp_number as string);
}

/**
 * Sessions the cleanup closed (their last history entry is the cleanup's), by reason; and those closed
 * as `timeout` that met the orphan criteria (stuck in idle, or their task closed).
 */
export async function cleanupClosures(sql: postgres.Sql) {
  const [row] = await sql`
    select count(*) filter (where s.closure_reason = 'orphaned')::int as orphaned,
           count(*) filter (where s.closure_reason = 'timeout')::int as timeout,
           count(*) filter (where s.closure_reason = 'timeout'
                              and (s.transition_history -> -1 ->> 'from' = 'idle' or t.status <> 'open'))::int
             as timeout_but_orphan
      from public.progress_update_sessions s left join public.tasks t on t.id = s.task_id
     where s.transition_history -> -1 ->> 'correlation_id' = 'cleanup'`;
  return row as { orphaned: number; timeout: number; timeout_but_orphan: number };
}
