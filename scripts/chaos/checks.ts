// The invariants, judged from the tables once the load is over and the cleanup has run. Each check
// gives a figure and, when it fails, a few of the offending rows as evidence.
import type { Message } from "./client.ts";
import type { Sql } from "./database.ts";

export interface Check {
  name: string;
  figure: string;
  ok: boolean;
  /** A finding that does not break an invariant: printed as WARN, fails only with --strict. */
  warning?: boolean;
  evidence?: unknown[];
}

const n = (v: unknown) => Number(v ?? 0);

/** Log rows written by fsm_begin_message when it closed a timed-out session on a message's arrival:
 *  they carry the message id but belong to the claim, not to the message's own apply. */
const BEGIN_TIMEOUT_ROWS = `
  select l.id from public.fsm_transition_log l
    join public.progress_update_sessions s on s.id = l.session_id
   where l.success and l.event = 'abandon' and s.closure_reason = 'timeout' and l.correlation_id <> 'cleanup'`;

export async function recordSentMessages(sql: Sql, messages: Message[]): Promise<void> {
  await sql`create table if not exists chaos.sent_messages (message_id text primary key)`;
  await sql`truncate chaos.sent_messages`;
  for (let i = 0; i < messages.length; i += 5000) {
    const ids = JSON.stringify(messages.slice(i, i + 5000).map((m) => m.sid));
    await sql`insert into chaos.sent_messages select jsonb_array_elements_text(${ids}::text::jsonb)`;
  }
}

/** Everything a delivery could change, to prove that late duplicates changed nothing. */
export async function snapshot(sql: Sql): Promise<Record<string, string>> {
  const [row] = await sql`
    select (select count(*) from fsm_transition_log)::text as transition_log_rows,
           (select count(*) from photos)::text as photos,
           (select count(*) from progress_updates)::text as progress_updates,
           (select count(*) from incidents)::text as incidents,
           (select count(*) from progress_update_sessions)::text as sessions,
           (select coalesce(sum(version), 0) from progress_update_sessions)::text as session_versions,
           (select md5(coalesce(string_agg(concat_ws('|', id, fsm_state, version, last_activity, session_metadata),
                                           ',' order by id), '')) from progress_update_sessions) as sessions_digest,
           (select md5(coalesce(string_agg(concat_ws('|', id, status, resolved_at), ',' order by id), ''))
              from fsm_clarification_requests) as clarifications_digest,
           (select md5(coalesce(string_agg(message_id || status || attempts || coalesce(reply, ''), ',' order by message_id), ''))
              from fsm_idempotency_records) as idempotency_digest,
           (select md5(coalesce(string_agg(id::text || progress_percent, ',' order by id), '')) from tasks) as tasks_digest`;
  return row as Record<string, string>;
}

export async function runChecks(
  sql: Sql,
  input: {
    messages: Message[];
    late: Message[];
    lateSnapshots: { before: Record<string, string>; after: Record<string, string> };
    lateMinAgeSeconds: number;
    unplannedWebhookExits: number;
    /** What the faults did, to tell a run that hit nothing from one that held up. */
    faultEffects: { sigkills: number; restarts: number; lockTimeouts: number; statementTimeouts: number };
  },
): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  // Every message the client sent was answered 200 in the end (the client retries until then).
  const undelivered = input.messages.filter((m) => m.undelivered);
  add({
    name: "every message answered 200 (after retries)",
    figure: `${input.messages.length - undelivered.length} of ${input.messages.length}`,
    ok: undelivered.length === 0,
    evidence: undelivered.slice(0, 5).map((m) => ({ sid: m.sid, from: m.from, body: m.body })),
  });

  // No message lost: each id ever sent is recorded completed or failed.
  const statuses = await sql`
    select coalesce(r.status, 'missing') as status, count(*)::int as n
      from chaos.sent_messages s left join fsm_idempotency_records r using (message_id)
     group by 1 order by 1`;
  const by = Object.fromEntries(statuses.map((r) => [r.status, n(r.n)]));
  const lost = await sql`
    select s.message_id, r.status, r.attempts, r.locked_until, r.error
      from chaos.sent_messages s left join fsm_idempotency_records r using (message_id)
     where r.status is null or r.status not in ('completed', 'failed') limit 5`;
  add({
    name: "no message lost: every id sent is completed or failed",
    figure: `completed ${by.completed ?? 0}, failed ${by.failed ?? 0}, processing ${by.processing ?? 0}, missing ${by.missing ?? 0}`,
    ok: (by.processing ?? 0) === 0 && (by.missing ?? 0) === 0,
    evidence: lost,
  });

  // A failed message is a dead letter that can be replayed: its payload was kept when it was claimed.
  const [{ has_payload }] = await sql`
    select exists (select 1 from information_schema.columns
                    where table_schema = 'public' and table_name = 'fsm_idempotency_records' and column_name = 'payload') as has_payload`;
  if (has_payload) {
    const noPayload = await sql`
      select r.message_id, r.error from chaos.sent_messages s join fsm_idempotency_records r using (message_id)
       where r.status = 'failed' and r.payload is null limit 5`;
    add({
      name: "every failed message can be replayed (payload kept)",
      figure: `${noPayload.length} failed messages without their payload`,
      ok: noPayload.length === 0,
      evidence: noPayload,
    });
  }

  // No effect applied twice.
  const [dup] = await sql`
    select (select count(*) from fsm_duplicate_actions)::int as view_rows,
           (select count(*) from (select 1 from photos group by message_id, media_index having count(*) > 1) x)::int as photos,
           (select count(*) from (select 1 from progress_updates group by session_id having count(*) > 1) x)::int as updates,
           (select count(*) from (select 1 from incidents group by session_id having count(*) > 1) x)::int as incidents`;
  add({
    name: "no duplicate effect (fsm_duplicate_actions, photo per message/index, update/incident per session)",
    figure: `${dup.view_rows} / ${dup.photos} / ${dup.updates} / ${dup.incidents}`,
    ok: n(dup.view_rows) + n(dup.photos) + n(dup.updates) + n(dup.incidents) === 0,
    evidence: n(dup.view_rows) ? await sql`select * from fsm_duplicate_actions limit 5` : [],
  });

  // A message's effects come from one transaction: a second apply would leave a second timestamp.
  const twice = await sql.unsafe(`
    select correlation_id, count(*)::int as rows, count(distinct created_at)::int as transactions
      from fsm_transition_log
     where success and correlation_id is not null and correlation_id <> 'cleanup' and id not in (${BEGIN_TIMEOUT_ROWS})
     group by correlation_id having count(distinct created_at) > 1
     union all
    select message_id, count(*)::int, count(distinct created_at)::int
      from photos group by message_id having count(distinct created_at) > 1
     limit 5`);
  add({
    name: "each message's effects come from a single transaction",
    figure: `${twice.length} message ids applied more than once`,
    ok: twice.length === 0,
    evidence: twice,
  });

  // Failed messages changed nothing (never half-applied); effects come only from completed messages.
  const failedWithEffects = await sql.unsafe(`
    with failed as (select message_id from fsm_idempotency_records where status = 'failed')
    select 'transition' as effect, l.correlation_id as message_id, l.event from fsm_transition_log l
      join failed f on f.message_id = l.correlation_id
     where l.success and l.id not in (${BEGIN_TIMEOUT_ROWS})
    union all select 'photo', p.message_id, null from photos p join failed f using (message_id)
    union all select 'progress_update', u.message_id, null from progress_updates u join failed f using (message_id)
    union all select 'incident', i.message_id, null from incidents i join failed f using (message_id)
    union all select 'clarification', c.message_id, null from fsm_clarification_requests c join failed f using (message_id)
    limit 5`);
  add({
    name: "failed messages left no effect (never half-applied)",
    figure: `${failedWithEffects.length} effects of failed messages`,
    ok: failedWithEffects.length === 0,
    evidence: failedWithEffects,
  });
  const orphanEffects = await sql.unsafe(`
    with effects as (
      select correlation_id as message_id, 'transition' as effect from fsm_transition_log
       where success and correlation_id is not null and correlation_id <> 'cleanup' and id not in (${BEGIN_TIMEOUT_ROWS})
      union all select message_id, 'photo' from photos
      union all select message_id, 'progress_update' from progress_updates
      union all select message_id, 'incident' from incidents)
    select e.effect, e.message_id, r.status from effects e
      left join fsm_idempotency_records r using (message_id)
     where r.status is distinct from 'completed' limit 5`);
  add({
    name: "every effect belongs to a completed message",
    figure: `${orphanEffects.length} effects without a completed record`,
    ok: orphanEffects.length === 0,
    evidence: orphanEffects,
  });

  // No session open past the timeout once the cleanup has run.
  const [open] = await sql`
    select count(s.id) filter (where s.last_activity < now() - st.session_timeout)::int as past_timeout,
           count(s.id)::int as open,
           (select count(*) from fsm_stuck_sessions)::int as stuck,
           extract(epoch from st.session_timeout)::int as timeout_s
      from fsm_settings st left join progress_update_sessions s
        on s.fsm_state not in ('completed', 'abandoned')
     group by st.session_timeout`;
  add({
    name: "no session open past the timeout after the cleanup",
    figure: `${open.past_timeout} past the ${open.timeout_s} s timeout (${open.open} open, ${open.stuck} stuck)`,
    ok: n(open.past_timeout) === 0 && n(open.stuck) === 0,
    evidence: n(open.past_timeout)
      ? await sql`select s.id, s.fsm_state, s.last_activity from progress_update_sessions s, fsm_settings st
                   where s.fsm_state not in ('completed', 'abandoned') and s.last_activity < now() - st.session_timeout limit 5`
      : [],
  });

  // Every abandoned session says why.
  const [unclean] = await sql`
    select (select count(*) from fsm_unclean_abandonments)::int as unclean,
           (select count(*) from progress_update_sessions where fsm_state = 'abandoned')::int as abandoned`;
  add({
    name: "every abandoned session has a closure_reason",
    figure: `${unclean.unclean} of ${unclean.abandoned} abandoned without one`,
    ok: n(unclean.unclean) === 0,
    evidence: n(unclean.unclean) ? await sql`select * from fsm_unclean_abandonments limit 5` : [],
  });

  // The transition log agrees with each session's history: same moves, same order.
  const mismatch = await sql`
    with h as (
      select s.id as session_id, e.ord, e.v ->> 'from' as from_state, e.v ->> 'to' as to_state, e.v ->> 'event' as event
        from progress_update_sessions s, jsonb_array_elements(s.transition_history) with ordinality e(v, ord)),
    l as (
      select session_id, row_number() over (partition by session_id order by id) as ord,
             from_state::text, to_state::text, event
        from fsm_transition_log where success and session_id is not null)
    select coalesce(h.session_id, l.session_id) as session_id, coalesce(h.ord, l.ord)::int as position,
           h.from_state || ' -' || h.event || '-> ' || h.to_state as history,
           l.from_state || ' -' || l.event || '-> ' || l.to_state as log
      from h full join l on l.session_id = h.session_id and l.ord = h.ord
     where h.from_state is distinct from l.from_state or h.to_state is distinct from l.to_state
        or h.event is distinct from l.event`;
  const [shape] = await sql`
    select count(*)::int as sessions,
           count(*) filter (where s.fsm_state::text is distinct from s.transition_history -> -1 ->> 'to')::int as wrong_state,
           count(*) filter (where s.version <> jsonb_array_length(s.transition_history) - 1)::int as wrong_version,
           (select count(*) from fsm_transition_log where success)::int as log_rows
      from progress_update_sessions s`;
  const sessionsOff = new Set(mismatch.map((m) => m.session_id)).size;
  add({
    name: "transition log agrees with every session's history",
    figure: `${shape.sessions} sessions, ${shape.log_rows} successful log rows: ${sessionsOff} sessions disagree, ` +
      `${shape.wrong_state} end elsewhere than their history, ${shape.wrong_version} with version <> moves`,
    ok: sessionsOff === 0 && n(shape.wrong_state) === 0 && n(shape.wrong_version) === 0,
    evidence: mismatch.slice(0, 5),
  });

  // Nothing outside the rule table was applied (log and history sides).
  const [invalid] = await sql`
    select (select current_value from fsm_success_criteria where criterion = 'no_invalid_transitions_applied')::int as log_side,
           (select count(*) from progress_update_sessions s, jsonb_array_elements(s.transition_history) e
             where e ->> 'from' is not null and not exists (
               select 1 from fsm_transition_rules r
                where r.from_state = e ->> 'from' and r.event = e ->> 'event' and r.to_state = e ->> 'to'))::int as history_side`;
  add({
    name: "no transition outside the rule table (no_invalid_transitions_applied)",
    figure: `${invalid.log_side} in the log, ${invalid.history_side} in histories`,
    ok: n(invalid.log_side) === 0 && n(invalid.history_side) === 0,
  });

  // A task's progress is the percentage of the last confirmed update that set one.
  const drift = await sql`
    with last as (
      select distinct on (u.task_id) u.task_id, u.progress_percent
        from progress_updates u
        join fsm_transition_log l on l.session_id = u.session_id and l.success and l.event = 'confirm'
       where u.progress_percent is not null
       order by u.task_id, l.id desc)
    select t.id, t.progress_percent as task_percent, last.progress_percent as last_update_percent
      from tasks t left join last on last.task_id = t.id
     where t.progress_percent <> coalesce(last.progress_percent, 0)`;
  add({
    name: "each task's progress is its last confirmed update's",
    figure: `${drift.length} tasks disagree`,
    ok: drift.length === 0,
    evidence: drift.slice(0, 5),
  });

  // Duplicates delivered long after the first time: the stored reply, and no change at all.
  const records = input.late.length
    ? await sql`select message_id, status, reply from fsm_idempotency_records
                 where message_id in ${sql(input.late.map((m) => m.sid))}`
    : [];
  const stored = new Map(records.map((r) => [r.message_id as string, r]));
  const wrongReply = input.late.filter((m) => {
    const answer = m.answers.find((a) => a.late);
    const rec = stored.get(m.sid);
    return !answer || !rec || answer.replies.join("\n") !== (rec.reply ?? "");
  });
  const ages = input.late.map((m) => {
    const answer = m.answers.find((a) => a.late);
    return answer ? (answer.at - m.firstSentAt!) / 1000 : 0;
  });
  const minAge = ages.length ? Math.min(...ages) : 0;
  add({
    name: "late duplicates get the stored reply",
    figure: `${input.late.length - wrongReply.length} of ${input.late.length}, ` +
      `${minAge.toFixed(0)}–${Math.max(0, ...ages).toFixed(0)} s after the first delivery`,
    ok: wrongReply.length === 0 && input.late.length > 0 && minAge >= input.lateMinAgeSeconds,
    evidence: wrongReply.slice(0, 5).map((m) => ({
      sid: m.sid,
      body: m.body,
      stored: stored.get(m.sid)?.reply,
      late: m.answers.find((a) => a.late)?.replies,
    })),
  });
  const changed = Object.keys(input.lateSnapshots.before)
    .filter((k) => input.lateSnapshots.before[k] !== input.lateSnapshots.after[k]);
  add({
    name: "late duplicates changed nothing",
    figure: changed.length ? `changed: ${changed.join(", ")}` : "no table changed",
    ok: changed.length === 0,
    evidence: changed.map((k) => ({ [k]: `${input.lateSnapshots.before[k]} -> ${input.lateSnapshots.after[k]}` })),
  });

  const f = input.faultEffects;
  add({
    name: "every fault took effect",
    figure: `${f.sigkills} SIGKILLs, ${f.restarts} PostgreSQL restarts, ${f.lockTimeouts} lock timeouts, ` +
      `${f.statementTimeouts} statement timeouts`,
    ok: f.sigkills >= 2 && f.restarts >= 2 && f.lockTimeouts > 0 && f.statementTimeouts > 0,
    warning: true,
  });
  add({
    name: "the webhook never exited unasked",
    figure: `${input.unplannedWebhookExits} unplanned exits`,
    ok: input.unplannedWebhookExits === 0,
    warning: true,
  });
  return checks;
}
