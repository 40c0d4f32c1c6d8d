-- The cleanup at scale, from what `npm run bench:cleanup` showed on millions of rows:
--   * every batch now finds its rows through an index and touches them by primary key
--     (`= any(array(…))`): the `in (select … limit n)` and self-join forms read whole tables per batch;
--   * orphan recovery works in batches under the time budget like the other steps (it did one batch per
--     run, so under a backlog orphans were closed as timeouts);
--   * a run's budget drops below the functions' 5 s lock_timeout, and no step starts a batch past it:
--     rows a run locks stay locked until it returns, and a worker writing meanwhile must not wait long
--     enough to be refused. A step left for lack of time is picked up by the next run.

-- Closes open sessions as abandoned for p_reason, with their history entry and audit row.
create function fsm_internal.abandon_sessions(p_ids uuid[], p_reason text)
returns integer
language sql
set search_path = ''
as $$
  with closed as (
    update public.progress_update_sessions s
       set fsm_state = 'abandoned', closure_reason = p_reason, closed_at = now(), version = s.version + 1,
           updated_at = now(),
           transition_history = s.transition_history || jsonb_build_object(
             'from', s.fsm_state, 'to', 'abandoned', 'event', 'abandon', 'at', now(), 'correlation_id', 'cleanup')
     where s.id = any(p_ids) and s.fsm_state not in ('completed', 'abandoned')
    -- The state it left is the "from" of the history entry just appended.
    returning s.id, s.worker_id, (s.transition_history -> -1 ->> 'from')::public.fsm_state as from_state
  ), logged as (
    insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
    select id, worker_id, from_state, 'abandoned', 'abandon', true, 'cleanup' from closed
    returning 1
  )
  select count(*)::integer from logged
$$;

-- Orphan recovery, starting no batch after p_deadline, so the cleanup can share its budget with it.
create function fsm_internal.recover_orphans(p_deadline timestamptz)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  st public.fsm_settings := fsm_internal.settings();
  v_ids uuid[];
  v_n integer;
  v_sessions integer := 0;
  v_claims integer := 0;
begin
  while clock_timestamp() < p_deadline loop
    v_ids := array(
      select s.id from public.progress_update_sessions s
        join public.workers w on w.id = s.worker_id
        left join public.tasks t on t.id = s.task_id
       where s.fsm_state not in ('completed', 'abandoned')
         and s.last_activity < now() - st.orphan_threshold
         and (s.fsm_state = 'idle' or not w.is_active
              or (s.task_id is null and s.fsm_state in ('awaiting_action', 'collecting_data', 'confirmation_pending'))
              or (s.task_id is not null and (t.status <> 'open' or t.worker_id <> s.worker_id)))
       order by s.last_activity
       limit st.cleanup_batch_size
         for update of s skip locked);
    v_sessions := v_sessions + fsm_internal.abandon_sessions(v_ids, 'orphaned');
    exit when cardinality(v_ids) < st.cleanup_batch_size;
  end loop;

  while clock_timestamp() < p_deadline loop
    update public.fsm_idempotency_records r
       set status = 'failed', locked_until = null, processed_at = now(),
           error = 'claim abandoned: its lease expired and no delivery took it over'
     where r.message_id = any(array(
       select message_id from public.fsm_idempotency_records
        where status = 'processing' and locked_until < now() - st.orphan_threshold
        order by locked_until
        limit st.cleanup_batch_size
          for update skip locked));
    get diagnostics v_n = row_count;
    v_claims := v_claims + v_n;
    exit when v_n < st.cleanup_batch_size;
  end loop;

  return jsonb_build_object('sessions_orphaned', v_sessions, 'claims_failed', v_claims);
end
$$;

create or replace function public.recover_orphaned_sessions()
returns jsonb
language sql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$ select fsm_internal.recover_orphans(clock_timestamp() + (fsm_internal.settings()).cleanup_time_budget) $$;

create or replace function public.cleanup_expired_fsm_records()
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  st public.fsm_settings := fsm_internal.settings();
  v_started timestamptz := clock_timestamp();
  v_deadline timestamptz := clock_timestamp() + st.cleanup_time_budget;
  v_ids uuid[];
  v_n integer;
  v_clarifications integer := 0;
  v_timeouts integer := 0;
  v_orphans jsonb;
  v_idempotency integer := 0;
  v_log integer := 0;
  v_cron integer := 0;
begin
  while clock_timestamp() < v_deadline loop
    update public.fsm_clarification_requests c
       set status = 'expired', resolved_at = now()
     where c.id = any(array(
       select id from public.fsm_clarification_requests
        where status = 'pending' and expires_at <= now()
        order by expires_at
        limit st.cleanup_batch_size
          for update skip locked));
    get diagnostics v_n = row_count;
    v_clarifications := v_clarifications + v_n;
    exit when v_n < st.cleanup_batch_size;
  end loop;

  v_orphans := fsm_internal.recover_orphans(v_deadline);

  while clock_timestamp() < v_deadline loop
    v_ids := array(
      select id from public.progress_update_sessions
       where fsm_state not in ('completed', 'abandoned') and last_activity < now() - st.session_timeout
       order by last_activity
       limit st.cleanup_batch_size
         for update skip locked);
    v_timeouts := v_timeouts + fsm_internal.abandon_sessions(v_ids, 'timeout');
    exit when cardinality(v_ids) < st.cleanup_batch_size;
  end loop;

  while clock_timestamp() < v_deadline loop
    delete from public.fsm_idempotency_records r
     where r.message_id = any(array(
       select message_id from public.fsm_idempotency_records
        where created_at < now() - st.idempotency_retention and status <> 'processing'
        order by created_at
        limit st.cleanup_batch_size
          for update skip locked));
    get diagnostics v_n = row_count;
    v_idempotency := v_idempotency + v_n;
    exit when v_n < st.cleanup_batch_size;
  end loop;

  while clock_timestamp() < v_deadline loop
    delete from public.fsm_transition_log l
     where l.id = any(array(
       select id from public.fsm_transition_log
        where created_at < now() - st.transition_log_retention
        order by created_at
        limit st.cleanup_batch_size));
    get diagnostics v_n = row_count;
    v_log := v_log + v_n;
    exit when v_n < st.cleanup_batch_size;
  end loop;

  -- pg_cron keeps a row per run forever unless purged. Dynamic SQL: the cron schema may not exist here.
  if to_regclass('cron.job_run_details') is not null and has_table_privilege('cron.job_run_details', 'delete') then
    execute format('delete from %s where end_time < now() - $1', 'cron.job_run_details') using st.cron_history_retention;
    get diagnostics v_cron = row_count;
  end if;

  return jsonb_build_object(
    'clarifications_expired', v_clarifications,
    'sessions_timed_out', v_timeouts,
    'sessions_orphaned', (v_orphans ->> 'sessions_orphaned')::integer,
    'claims_failed', (v_orphans ->> 'claims_failed')::integer,
    'idempotency_records_deleted', v_idempotency,
    'transition_log_deleted', v_log,
    'cron_history_deleted', v_cron,
    'duration_ms', round(extract(epoch from clock_timestamp() - v_started) * 1000)::integer);
end
$$;

alter table public.fsm_settings alter column cleanup_time_budget set default '4 seconds';
update public.fsm_settings set cleanup_time_budget = '4 seconds' where cleanup_time_budget = '20 seconds';

revoke all on all functions in schema fsm_internal from public;
