-- The operator's dashboard in one round trip: every figure the fsm-dashboard function shows (and serves as
-- JSON for alerting), over a window ending now. Counts "now" (open sessions, stuck sessions) ignore the
-- window; everything else counts what happened within it. The all-time success criteria come from the
-- view fsm_success_criteria, with the windowed value next to each where a window means something.
--
-- Each windowed figure reads a range of an index on time, so the cost follows the window's traffic, not
-- the tables' size. Three indexes make that true (the third may already exist):

-- Sessions closed within the window (abandoned by reason, completed): sessions are never deleted, and
-- without this every window read all of them. Covering, so the counts are index-only.
create index progress_update_sessions_closed_idx on public.progress_update_sessions (closed_at)
  include (fsm_state, closure_reason)
  where closed_at is not null;

-- Clarifications created within the window: they are kept forever and had no index on time. Covering
-- the status and expiry, so the outcome counts are index-only.
create index fsm_clarification_requests_created_idx on public.fsm_clarification_requests (created_at)
  include (status, expires_at);

-- Dead letters: failed messages are few among many, and the most recent ten are listed; a partial index
-- finds them without reading the window's successful messages. 20261125000700_fsm_dead_letters.sql
-- creates the same index for its own listing; `if not exists` keeps one.
create index if not exists fsm_idempotency_records_failed_idx on public.fsm_idempotency_records (processed_at)
  where status = 'failed';

create function public.fsm_dashboard_metrics(p_window interval default interval '1 day')
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  v_now timestamptz := now();
  v_since timestamptz;
  v_bucket interval;
begin
  if p_window is null or p_window <= interval '0' or p_window > interval '90 days' then
    raise exception using errcode = 'FS004', message = 'the window must be longer than 0 and at most 90 days';
  end if;
  v_since := v_now - p_window;
  -- The chart's buckets: the finest of these that gives at most 48 of them (hour: 5 min, day: 1 hour,
  -- week: 6 hours).
  v_bucket := coalesce(
    (select b from unnest(array['1 minute', '5 minutes', '15 minutes', '1 hour', '3 hours', '6 hours',
                                '12 hours', '1 day', '2 days', '7 days']::interval[]) b
      where extract(epoch from p_window) / extract(epoch from b) <= 48
      order by b limit 1),
    interval '7 days');

  return (
    with
    rules as (
      select from_state::text as from_state, event, to_state::text as to_state, description
        from public.fsm_transition_rules
    ),
    open_now as (
      select fsm_state::text as state, count(*) as n
        from public.progress_update_sessions
       where fsm_state not in ('completed', 'abandoned')
       group by fsm_state
    ),
    -- The states the diagram draws: those of the rules, idle (where every session starts), and any
    -- state a session is in now.
    states as (
      select from_state as state from rules
      union select to_state from rules
      union select 'idle'
      union select state from open_now
    ),
    moves as (
      select from_state::text as from_state, to_state::text as to_state, event, count(*) as n
        from public.fsm_transition_log
       where created_at >= v_since and success
       group by from_state, to_state, event
    ),
    closed as (
      select fsm_state::text as state, closure_reason, count(*) as n
        from public.progress_update_sessions
       where closed_at >= v_since
       group by fsm_state, closure_reason
    ),
    clarifications as (
      select count(*) filter (where status = 'answered') as answered,
             -- Expiry is judged by time, as the functions judge it, not only by the cleanup's flag.
             count(*) filter (where status = 'expired' or (status = 'pending' and expires_at <= v_now)) as expired,
             count(*) filter (where status = 'cancelled') as cancelled,
             count(*) filter (where status = 'pending' and expires_at > v_now) as pending,
             count(*) as total
        from public.fsm_clarification_requests
       where created_at >= v_since
    ),
    clarification_pct as (
      select round(answered * 100.0 / nullif(answered + expired + cancelled, 0), 1) as answered_pct
        from clarifications
    ),
    stuck as (
      select count(*) as n from public.fsm_stuck_sessions
    ),
    failures as (
      select error_code, count(*) as n, max(created_at) as last_seen
        from public.fsm_transition_log
       where created_at >= v_since and not success
       group by error_code
    ),
    messages as (
      select pg_catalog.date_bin(v_bucket, created_at, timestamptz '2000-01-01 00:00:00+00') as bucket,
             status, count(*) as n
        from public.fsm_idempotency_records
       where created_at >= v_since
       group by 1, 2
    ),
    buckets as (
      select b as bucket
        from pg_catalog.generate_series(
               pg_catalog.date_bin(v_bucket, v_since, timestamptz '2000-01-01 00:00:00+00'), v_now, v_bucket) b
    ),
    dead as (
      select count(*) as n
        from public.fsm_idempotency_records
       where status = 'failed' and processed_at >= v_since
    ),
    applied_without_rule as (
      select coalesce(sum(m.n), 0) as n
        from moves m
       where m.from_state is not null
         and not exists (select 1 from rules r
                          where r.from_state = m.from_state and r.event = m.event and r.to_state = m.to_state)
    ),
    windowed_criteria (criterion, window_value, window_met) as (
      select 'no_stuck_sessions', (select n from stuck)::numeric, (select n from stuck) = 0
      union all
      select 'clarifications_answered', (select answered_pct from clarification_pct),
             coalesce((select answered_pct > 80 from clarification_pct), true)
      union all
      select 'clean_abandonment',
             coalesce((select sum(n) from closed where state = 'abandoned' and closure_reason is null), 0),
             not exists (select 1 from closed where state = 'abandoned' and closure_reason is null)
      union all
      -- Effects carry no index on time; this one is counted over all time only.
      select 'no_double_execution', null::numeric, null::boolean
      union all
      select 'no_invalid_transitions_applied', (select n from applied_without_rule), (select n from applied_without_rule) = 0
    )
    select jsonb_build_object(
      'generated_at', v_now,
      'window', jsonb_build_object('seconds', extract(epoch from p_window)::bigint, 'since', v_since, 'until', v_now),
      'states', (
        select coalesce(jsonb_agg(jsonb_build_object(
                 'state', s.state,
                 'terminal', not exists (select 1 from rules r where r.from_state = s.state),
                 'open_now', coalesce((select n from open_now o where o.state = s.state), 0),
                 'entered', coalesce((select sum(n) from moves m where m.to_state = s.state), 0))
               order by s.state), '[]')
          from states s),
      'rules', (
        select coalesce(jsonb_agg(to_jsonb(r) order by r.from_state, r.event), '[]') from rules r),
      'transitions', (
        select coalesce(jsonb_agg(jsonb_build_object(
                 'from_state', m.from_state, 'to_state', m.to_state, 'event', m.event, 'count', m.n)
               order by m.n desc, m.from_state nulls first, m.event), '[]')
          from moves m),
      'sessions', jsonb_build_object(
        'open_now', coalesce((select sum(n) from open_now), 0),
        'completed', coalesce((select sum(n) from closed where state = 'completed'), 0),
        'abandoned', coalesce((select sum(n) from closed where state = 'abandoned'), 0)),
      'abandoned_by_reason', (
        select coalesce(jsonb_agg(jsonb_build_object('reason', reason, 'sessions', n) order by n desc, reason), '[]')
          from (select coalesce(closure_reason, '(none)') as reason, sum(n) as n
                  from closed where state = 'abandoned' group by 1) a),
      'clarifications', (
        select to_jsonb(c) || jsonb_build_object('answered_pct', (select answered_pct from clarification_pct))
          from clarifications c),
      'stuck_sessions', jsonb_build_object(
        'count', (select n from stuck),
        'idle_over_minutes', 120,
        'oldest', (
          select coalesce(jsonb_agg(jsonb_build_object(
                   'id', id, 'state', fsm_state, 'session_type', session_type, 'last_activity', last_activity,
                   'idle_minutes', floor(extract(epoch from idle_for) / 60)::bigint)
                 order by last_activity), '[]')
            from (select * from public.fsm_stuck_sessions order by last_activity limit 10) s)),
      'invalid_transitions', jsonb_build_object(
        'count', coalesce((select sum(n) from failures), 0),
        'by_code', (
          select coalesce(jsonb_agg(jsonb_build_object('error_code', error_code, 'count', n, 'last_seen', last_seen)
                 order by n desc, error_code), '[]')
            from failures),
        'recent', (
          select coalesce(jsonb_agg(jsonb_build_object(
                   'at', created_at, 'from_state', from_state, 'event', event, 'error_code', error_code,
                   'error', left(error_message, 500), 'correlation_id', correlation_id)
                 order by created_at desc), '[]')
            from (select * from public.fsm_transition_log
                   where created_at >= v_since and not success
                   order by created_at desc limit 10) f)),
      'dead_letters', jsonb_build_object(
        'count', (select n from dead),
        'recent', (
          select coalesce(jsonb_agg(jsonb_build_object(
                   'message_id', message_id, 'error', left(error, 1000), 'attempts', attempts,
                   'created_at', created_at, 'processed_at', processed_at)
                 order by processed_at desc, message_id), '[]')
            from (select message_id, error, attempts, created_at, processed_at
                    from public.fsm_idempotency_records
                   where status = 'failed' and processed_at >= v_since
                   order by processed_at desc limit 10) d)),
      'messages', jsonb_build_object(
        'total', coalesce((select sum(n) from messages), 0),
        'completed', coalesce((select sum(n) from messages where status = 'completed'), 0),
        'failed', coalesce((select sum(n) from messages where status = 'failed'), 0),
        'processing', coalesce((select sum(n) from messages where status = 'processing'), 0)),
      'messages_over_time', jsonb_build_object(
        'bucket_seconds', extract(epoch from v_bucket)::bigint,
        'buckets', (
          select coalesce(jsonb_agg(jsonb_build_object(
                   'start', b.bucket,
                   'completed', coalesce((select sum(n) from messages m where m.bucket = b.bucket and m.status = 'completed'), 0),
                   'failed', coalesce((select sum(n) from messages m where m.bucket = b.bucket and m.status = 'failed'), 0),
                   'processing', coalesce((select sum(n) from messages m where m.bucket = b.bucket and m.status = 'processing'), 0))
                 order by b.bucket), '[]')
            from buckets b)),
      'success_criteria', (
        select coalesce(jsonb_agg(jsonb_build_object(
                 'criterion', c.criterion, 'description', c.description, 'target', c.target,
                 'current_value', c.current_value, 'met', c.met,
                 'window_value', w.window_value, 'window_met', w.window_met)
               order by coalesce(pg_catalog.array_position(array['no_stuck_sessions', 'clarifications_answered',
                          'clean_abandonment', 'no_double_execution', 'no_invalid_transitions_applied'], c.criterion), 99),
                        c.criterion), '[]')
          from public.fsm_success_criteria c
          left join windowed_criteria w on w.criterion = c.criterion))
  );
end
$$;

comment on function public.fsm_dashboard_metrics(interval) is
  'Every figure of the operator dashboard over the window ending now, in one call (functions/fsm-dashboard).';

revoke all on function public.fsm_dashboard_metrics(interval) from public, anon, authenticated;
grant execute on function public.fsm_dashboard_metrics(interval) to service_role;
