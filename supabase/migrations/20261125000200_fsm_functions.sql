-- The functions that own the state. Public ones are the RPCs the edge functions call (supabase-js
-- `.rpc()` finds them in public); helpers live in fsm_internal, which PostgREST never exposes.
--
-- Error codes (SQLSTATE class FS), so callers can tell refusals apart:
--   FS001 invalid transition (no rule)        FS002 stale version (someone moved the session first)
--   FS003 an open session already exists      FS004 invalid input
--   FS005 task unknown or not the worker's    FS006 a clarification is already pending
--   FS007 unknown worker                      FS009 nothing to confirm
--   FS010 clarification not pending           FS404 session not found or closed
--
-- statement_timeout cannot be set at function level (Postgres arms it when the top-level statement
-- starts), so functions bound their lock waits here and the cleanup bounds its own run time; the
-- statement time comes from the caller's role (Supabase sets it per role) or the cron command.

create schema fsm_internal;
revoke all on schema fsm_internal from public;

create function fsm_internal.settings()
returns public.fsm_settings
language sql stable
set search_path = ''
as $$ select * from public.fsm_settings where id $$;

create function fsm_internal.is_open(p_state public.fsm_state)
returns boolean
language sql immutable
set search_path = ''
as $$ select p_state not in ('completed', 'abandoned') $$;

create function fsm_internal.session_json(p_session public.progress_update_sessions)
returns jsonb
language sql stable
set search_path = ''
as $$
  select case when p_session.id is null then null else
    to_jsonb(p_session) - 'transition_history'
      || jsonb_build_object(
        'photo_count', (select count(*) from public.photos p where p.session_id = p_session.id),
        'task_title', (select t.title from public.tasks t where t.id = p_session.task_id))
  end
$$;

create function fsm_internal.log_transition(
  p_session public.progress_update_sessions,
  p_to_state public.fsm_state,
  p_event text,
  p_correlation_id text,
  p_error_code text default null,
  p_error_message text default null
) returns void
language sql
set search_path = ''
as $$
  insert into public.fsm_transition_log
    (session_id, worker_id, from_state, to_state, event, success, error_code, error_message, correlation_id)
  values
    (p_session.id, p_session.worker_id, p_session.fsm_state, p_to_state, p_event,
     p_error_code is null, p_error_code, p_error_message, p_correlation_id)
$$;

-- A task the worker may act on: theirs, and open. Whatever id the caller sends.
create function fsm_internal.owned_open_task(p_worker_id uuid, p_task_id text)
returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if p_task_id is null or p_task_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    raise exception using errcode = 'FS004', message = 'task_id must be a uuid';
  end if;
  select id into v_id from public.tasks
   where id = p_task_id::uuid and worker_id = p_worker_id and status = 'open';
  if not found then
    raise exception using errcode = 'FS005', message = 'task not found among the worker''s open tasks';
  end if;
  return v_id;
end
$$;

-- Opens a session in idle. The caller holds the worker's row lock, so two messages cannot both open one.
create function fsm_internal.start_session(
  p_worker_id uuid, p_session_type text, p_correlation_id text
) returns public.progress_update_sessions
language plpgsql
set search_path = ''
as $$
declare
  s public.progress_update_sessions;
begin
  if coalesce(p_session_type, 'progress_update') not in ('progress_update', 'incident') then
    raise exception using errcode = 'FS004', message = format('unknown session type %L', p_session_type);
  end if;
  if exists (select 1 from public.progress_update_sessions
              where worker_id = p_worker_id and fsm_state not in ('completed', 'abandoned')) then
    raise exception using errcode = 'FS003', message = 'the worker already has an open session';
  end if;
  insert into public.progress_update_sessions (worker_id, session_type, transition_history)
  values (p_worker_id, coalesce(p_session_type, 'progress_update'),
          jsonb_build_array(jsonb_build_object('from', null, 'to', 'idle', 'event', 'start',
                                               'at', now(), 'correlation_id', p_correlation_id)))
  returning * into s;
  insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
  values (s.id, s.worker_id, null, 'idle', 'start', true, p_correlation_id);
  return s;
end
$$;

-- Applies one event to a session: rule check, side effects, state, history and audit row.
-- Raises an FS error on refusal; callers decide whether to log it and roll back.
create function fsm_internal.apply_event(
  p_session_id uuid, p_event text, p_payload jsonb, p_correlation_id text, p_message_id text
) returns public.progress_update_sessions
language plpgsql
set search_path = ''
as $$
declare
  s public.progress_update_sessions;
  v_to public.fsm_state;
  v_meta jsonb;
  v_task_id uuid;
  v_closure text;
  v_payload jsonb := coalesce(p_payload, '{}');
  v_message_id text := coalesce(p_message_id, p_correlation_id, gen_random_uuid()::text);
  v_comment text;
  v_photos integer;
  v_percent integer;
begin
  select * into s from public.progress_update_sessions where id = p_session_id for update;
  if not found or not fsm_internal.is_open(s.fsm_state) then
    raise exception using errcode = 'FS404', message = format('no open session %s', p_session_id);
  end if;

  select to_state into v_to from public.fsm_transition_rules where from_state = s.fsm_state and event = p_event;
  if not found then
    raise exception using errcode = 'FS001',
      message = format('invalid transition: no rule for event %L in state %L', p_event, s.fsm_state);
  end if;

  v_meta := s.session_metadata;
  v_task_id := s.task_id;

  case p_event
  when 'select_task' then
    v_task_id := fsm_internal.owned_open_task(s.worker_id, v_payload ->> 'task_id');

  when 'add_data' then
    if not (v_payload ?| array['comment', 'progress_percent', 'photos']) then
      raise exception using errcode = 'FS004', message = 'add_data needs a comment, a progress_percent or photos';
    end if;
    if v_payload ? 'progress_percent' then
      if jsonb_typeof(v_payload -> 'progress_percent') <> 'number'
         or (v_payload ->> 'progress_percent') !~ '^[0-9]{1,3}$'
         or (v_payload ->> 'progress_percent')::integer > 100 then
        raise exception using errcode = 'FS004',
          message = format('progress_percent must be a whole number from 0 to 100, got %s', v_payload -> 'progress_percent');
      end if;
      v_meta := jsonb_set(v_meta, '{progress_percent}', v_payload -> 'progress_percent');
    end if;
    if nullif(btrim(v_payload ->> 'comment'), '') is not null then
      v_meta := jsonb_set(v_meta, '{comments}',
                          coalesce(v_meta -> 'comments', '[]') || to_jsonb(btrim(v_payload ->> 'comment')));
    end if;
    if v_payload ? 'photos' then
      if jsonb_typeof(v_payload -> 'photos') <> 'array' or jsonb_array_length(v_payload -> 'photos') > 10 then
        raise exception using errcode = 'FS004', message = 'photos must be an array of at most 10 items';
      end if;
      begin
        insert into public.photos (session_id, message_id, media_index, media_url, content_type, caption)
        select s.id, v_message_id, (ord - 1)::smallint, p ->> 'url', p ->> 'content_type', nullif(btrim(p ->> 'caption'), '')
          from jsonb_array_elements(v_payload -> 'photos') with ordinality as x(p, ord);
      exception when not_null_violation or check_violation then
        raise exception using errcode = 'FS004', message = 'each photo needs an http(s) url and a content_type';
      end;
    end if;

  when 'change_task' then
    v_task_id := null;
    v_meta := v_meta - 'comments' - 'progress_percent';
    delete from public.photos where session_id = s.id;

  when 'confirm' then
    v_comment := (select string_agg(c, E'\n') from jsonb_array_elements_text(coalesce(v_meta -> 'comments', '[]')) c);
    v_photos := (select count(*) from public.photos where session_id = s.id);
    v_percent := (v_meta ->> 'progress_percent')::integer;
    if s.session_type = 'progress_update' then
      if v_comment is null and v_photos = 0 and v_percent is null then
        raise exception using errcode = 'FS009', message = 'nothing collected to confirm';
      end if;
      if v_task_id is null then
        raise exception using errcode = 'FS005', message = 'no task selected';
      end if;
      insert into public.progress_updates (session_id, task_id, worker_id, progress_percent, comment, photo_count, message_id)
      values (s.id, v_task_id, s.worker_id, v_percent, v_comment, v_photos, v_message_id);
      if v_percent is not null then
        update public.tasks set progress_percent = v_percent, updated_at = now() where id = v_task_id;
      end if;
    else
      if v_comment is null then
        raise exception using errcode = 'FS009', message = 'an incident needs a description';
      end if;
      insert into public.incidents (session_id, task_id, worker_id, description, photo_count, message_id)
      values (s.id, v_task_id, s.worker_id, v_comment, v_photos, v_message_id);
    end if;
    v_closure := 'completed';

  when 'abandon' then
    v_closure := coalesce(v_payload ->> 'closure_reason', 'force_abandoned');
    if v_closure not in ('cancelled', 'timeout', 'task_switched', 'orphaned', 'force_abandoned') then
      raise exception using errcode = 'FS004', message = format('unknown closure_reason %L', v_closure);
    end if;

  when 'request_confirmation' then
    if v_meta -> 'comments' is null and v_meta -> 'progress_percent' is null
       and not exists (select 1 from public.photos where session_id = s.id) then
      raise exception using errcode = 'FS009', message = 'nothing collected to confirm';
    end if;

  else
    null; -- start_update, reject: the state change is the whole effect
  end case;

  perform fsm_internal.log_transition(s, v_to, p_event, p_correlation_id);

  update public.progress_update_sessions
     set fsm_state = v_to,
         task_id = v_task_id,
         session_metadata = v_meta,
         closure_reason = v_closure,
         closed_at = case when fsm_internal.is_open(v_to) then null else now() end,
         version = version + 1,
         last_activity = now(),
         updated_at = now(),
         transition_history = transition_history || jsonb_build_object(
           'from', s.fsm_state, 'to', v_to, 'event', p_event, 'at', now(), 'correlation_id', p_correlation_id)
   where id = s.id
  returning * into s;
  return s;
end
$$;

-- The transition RPC. Locks the session, checks the expected version and the rule, applies the event.
-- A refusal commits nothing but its audit row (success = false) and comes back as
-- { ok: false, error_code, error, session } rather than an exception, so the audit row survives.
create function public.fsm_transition(
  p_session_id uuid,
  p_event text,
  p_expected_version integer default null,
  p_payload jsonb default '{}',
  p_correlation_id text default null
) returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  s public.progress_update_sessions;
  v_code text;
  v_message text;
begin
  select * into s from public.progress_update_sessions where id = p_session_id for update;
  begin
    if s.id is null then
      raise exception using errcode = 'FS404', message = format('session %s not found', p_session_id);
    end if;
    if p_expected_version is not null and s.version <> p_expected_version then
      raise exception using errcode = 'FS002',
        message = format('stale version: expected %s, session is at %s', p_expected_version, s.version);
    end if;
    s := fsm_internal.apply_event(s.id, p_event, p_payload, p_correlation_id, null);
    return jsonb_build_object('ok', true, 'session', fsm_internal.session_json(s));
  exception when others then
    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text;
    if v_code not like 'FS%' then
      raise;
    end if;
    perform fsm_internal.log_transition(s, null, coalesce(p_event, '?'), p_correlation_id, v_code, v_message);
    return jsonb_build_object('ok', false, 'error_code', v_code, 'error', v_message,
                              'session', fsm_internal.session_json(s));
  end;
end
$$;

-- Clarifications ------------------------------------------------------------------------------------

-- Marks a worker's pending clarification expired when its time is up, whether or not the cleanup ran.
create function fsm_internal.expire_due_clarification(p_worker_id uuid)
returns void
language sql
set search_path = ''
as $$
  update public.fsm_clarification_requests
     set status = 'expired', resolved_at = now()
   where worker_id = p_worker_id and status = 'pending' and expires_at <= now()
$$;

create function fsm_internal.create_clarification(
  p_worker_id uuid, p_session_id uuid, p_question text, p_options jsonb, p_original_message text, p_message_id text
) returns public.fsm_clarification_requests
language plpgsql
set search_path = ''
as $$
declare
  c public.fsm_clarification_requests;
begin
  perform fsm_internal.expire_due_clarification(p_worker_id);
  begin
    insert into public.fsm_clarification_requests
      (worker_id, session_id, question, options, original_message, message_id, expires_at)
    values
      (p_worker_id, p_session_id, p_question, p_options, coalesce(p_original_message, ''), p_message_id,
       now() + (fsm_internal.settings()).clarification_timeout)
    returning * into c;
  exception
    when unique_violation then
      raise exception using errcode = 'FS006', message = 'a clarification is already pending for this worker';
    when check_violation or not_null_violation then
      raise exception using errcode = 'FS004', message = 'a clarification needs a question and 2 to 9 options';
  end;
  return c;
end
$$;

create function fsm_internal.resolve_clarification(
  p_id uuid, p_status text, p_answer text, p_chosen_option jsonb
) returns public.fsm_clarification_requests
language plpgsql
set search_path = ''
as $$
declare
  c public.fsm_clarification_requests;
begin
  if p_status not in ('answered', 'cancelled') then
    raise exception using errcode = 'FS004', message = format('a clarification cannot be resolved as %L', p_status);
  end if;
  update public.fsm_clarification_requests
     set status = p_status, answer = p_answer, chosen_option = p_chosen_option, resolved_at = now()
   where id = p_id and status = 'pending' and expires_at > now()
  returning * into c;
  if not found then
    raise exception using errcode = 'FS010', message = 'no pending clarification with that id (answered, cancelled or expired)';
  end if;
  return c;
end
$$;

create function public.fsm_create_clarification(
  p_worker_id uuid,
  p_question text,
  p_options jsonb,
  p_original_message text,
  p_session_id uuid default null,
  p_message_id text default null
) returns jsonb
language sql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
  select to_jsonb(fsm_internal.create_clarification(
    p_worker_id, p_session_id, p_question, p_options, p_original_message, p_message_id))
$$;

-- The pending clarification, judged by its expiry time, not only by the cleanup's flag.
create function public.fsm_get_pending_clarification(p_worker_id uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select to_jsonb(c) from public.fsm_clarification_requests c
   where c.worker_id = p_worker_id and c.status = 'pending' and c.expires_at > now()
$$;

create function public.fsm_answer_clarification(p_id uuid, p_answer text, p_chosen_option jsonb default null)
returns jsonb
language sql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$ select to_jsonb(fsm_internal.resolve_clarification(p_id, 'answered', p_answer, p_chosen_option)) $$;

create function public.fsm_cancel_clarification(p_id uuid)
returns jsonb
language sql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$ select to_jsonb(fsm_internal.resolve_clarification(p_id, 'cancelled', null, null)) $$;

-- One message's life ---------------------------------------------------------------------------------

-- What routing needs to decide, in one read: the worker, the open session, the pending clarification,
-- the open tasks (numbered as the worker sees them) and the last session the worker was not told ended.
create function fsm_internal.context(p_worker_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'worker', (select jsonb_build_object('id', w.id, 'display_name', w.display_name, 'language', w.language)
                 from public.workers w where w.id = p_worker_id),
    'session', (select fsm_internal.session_json(s) from public.progress_update_sessions s
                 where s.worker_id = p_worker_id and s.fsm_state not in ('completed', 'abandoned')),
    'clarification', (select to_jsonb(c) from public.fsm_clarification_requests c
                       where c.worker_id = p_worker_id and c.status = 'pending' and c.expires_at > now()),
    'tasks', coalesce((select jsonb_agg(jsonb_build_object('number', n, 'id', id, 'title', title,
                                                           'progress_percent', progress_percent) order by n)
                         from (select t.*, row_number() over (order by t.created_at, t.id) as n
                                 from public.tasks t
                                where t.worker_id = p_worker_id and t.status = 'open') t), '[]'),
    'unnotified_closure', (select jsonb_build_object('session_id', s.id, 'closure_reason', s.closure_reason,
                                                     'closed_at', s.closed_at, 'task_id', s.task_id)
                             from public.progress_update_sessions s
                            where s.worker_id = p_worker_id and s.fsm_state = 'abandoned'
                              and s.closure_reason in ('timeout', 'orphaned')
                              and not s.session_metadata ? 'worker_notified_at'
                            order by s.closed_at desc limit 1))
$$;

-- Round trip 1 of a message: claim its id and read what routing needs.
--   unknown_worker: nothing is stored.   duplicate: the stored reply, nothing to do.
--   in_progress: another delivery holds a live claim.   claimed: go on with claim_token and context.
-- An open session past the timeout is closed here, so a message arriving before the next cleanup run
-- still sees the truth.
create function public.fsm_begin_message(p_message_id text, p_whatsapp_number text)
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  st public.fsm_settings := fsm_internal.settings();
  v_worker_id uuid;
  rec public.fsm_idempotency_records;
  s public.progress_update_sessions;
begin
  if p_message_id is null or length(p_message_id) not between 1 and 200 then
    raise exception using errcode = 'FS004', message = 'message id must be 1 to 200 characters';
  end if;
  select id into v_worker_id from public.workers where whatsapp_number = p_whatsapp_number and is_active;
  if not found then
    return jsonb_build_object('status', 'unknown_worker');
  end if;

  insert into public.fsm_idempotency_records (message_id, worker_id, locked_until)
  values (p_message_id, v_worker_id, now() + st.idempotency_lease)
  on conflict (message_id) do nothing
  returning * into rec;

  if not found then
    select * into rec from public.fsm_idempotency_records where message_id = p_message_id for update;
    if rec.status <> 'processing' then
      return jsonb_build_object('status', 'duplicate', 'outcome', rec.status, 'reply', rec.reply);
    elsif rec.locked_until > now() then
      return jsonb_build_object('status', 'in_progress', 'retry_after_ms',
                                ceil(extract(epoch from rec.locked_until - now()) * 1000)::integer);
    end if;
    -- The claim's holder crashed or stalled past its lease: take it over with a fresh token.
    update public.fsm_idempotency_records
       set claim_token = gen_random_uuid(), attempts = attempts + 1, locked_until = now() + st.idempotency_lease
     where message_id = p_message_id
    returning * into rec;
  end if;

  perform fsm_internal.expire_due_clarification(v_worker_id);
  select * into s from public.progress_update_sessions
   where worker_id = v_worker_id and fsm_state not in ('completed', 'abandoned')
     and last_activity < now() - st.session_timeout
     for update;
  if found then
    perform fsm_internal.apply_event(s.id, 'abandon', '{"closure_reason": "timeout"}', p_message_id, p_message_id);
  end if;

  return jsonb_build_object('status', 'claimed', 'claim_token', rec.claim_token, 'attempt', rec.attempts,
                            'context', fsm_internal.context(v_worker_id));
end
$$;

-- One step of an apply. Steps:
--   { "op": "start", "session_type": "progress_update" | "incident" }
--   { "op": "event", "event": "<rule event>", "payload": { ... } }
--   { "op": "clarify", "question": "...", "options": [...], "original_message": "..." }
--   { "op": "resolve_clarification", "id": "<uuid>", "status": "answered" | "cancelled", "answer": "...", "chosen_option": {...} }
--   { "op": "mark_notified", "session_id": "<uuid>" }
create function fsm_internal.apply_step(
  p_worker_id uuid, p_session public.progress_update_sessions, p_step jsonb, p_message_id text
) returns public.progress_update_sessions
language plpgsql
set search_path = ''
as $$
declare
  s public.progress_update_sessions := p_session;
begin
  case p_step ->> 'op'
  when 'start' then
    if s.id is not null and fsm_internal.is_open(s.fsm_state) then
      raise exception using errcode = 'FS003', message = 'the worker already has an open session';
    end if;
    s := fsm_internal.start_session(p_worker_id, p_step ->> 'session_type', p_message_id);
  when 'event' then
    if s.id is null or not fsm_internal.is_open(s.fsm_state) then
      raise exception using errcode = 'FS404', message = format('no open session for event %L', p_step ->> 'event');
    end if;
    s := fsm_internal.apply_event(s.id, p_step ->> 'event', p_step -> 'payload', p_message_id, p_message_id);
  when 'clarify' then
    perform fsm_internal.create_clarification(
      p_worker_id, case when fsm_internal.is_open(s.fsm_state) then s.id end,
      p_step ->> 'question', p_step -> 'options', p_step ->> 'original_message', p_message_id);
  when 'resolve_clarification' then
    if not exists (select 1 from public.fsm_clarification_requests
                    where id = (p_step ->> 'id')::uuid and worker_id = p_worker_id) then
      raise exception using errcode = 'FS010', message = 'no such clarification for this worker';
    end if;
    perform fsm_internal.resolve_clarification(
      (p_step ->> 'id')::uuid, p_step ->> 'status', p_step ->> 'answer', p_step -> 'chosen_option');
  when 'mark_notified' then
    update public.progress_update_sessions
       set session_metadata = session_metadata || jsonb_build_object('worker_notified_at', now())
     where id = (p_step ->> 'session_id')::uuid and worker_id = p_worker_id;
  else
    raise exception using errcode = 'FS004', message = format('unknown step op %L', p_step ->> 'op');
  end case;
  return s;
end
$$;

-- Round trip 2 of a message: apply the routed steps and store the reply on the claim, in one transaction.
--   applied: done.   conflict: the worker's session moved since the context was read; route again on the
--   fresh context returned.   rejected: a step was refused; nothing changed but the audit row.
--   claim_lost: another delivery owns the message now (or it is finished); do nothing.
create function public.fsm_apply_message(
  p_message_id text,
  p_claim_token uuid,
  p_expected_session_id uuid,
  p_expected_version integer,
  p_steps jsonb,
  p_reply text
) returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  rec public.fsm_idempotency_records;
  s public.progress_update_sessions;
  v_step jsonb;
  v_code text;
  v_message text;
begin
  if jsonb_typeof(coalesce(p_steps, '[]')) <> 'array' then
    raise exception using errcode = 'FS004', message = 'steps must be a json array';
  end if;
  select * into rec from public.fsm_idempotency_records where message_id = p_message_id for update;
  if not found or rec.status <> 'processing' or rec.claim_token <> p_claim_token then
    return jsonb_build_object('status', 'claim_lost');
  end if;

  -- One worker's messages apply one at a time.
  perform 1 from public.workers where id = rec.worker_id for update;
  select * into s from public.progress_update_sessions
   where worker_id = rec.worker_id and fsm_state not in ('completed', 'abandoned')
     for update;
  if s.id is distinct from p_expected_session_id or s.version is distinct from p_expected_version then
    return jsonb_build_object('status', 'conflict', 'context', fsm_internal.context(rec.worker_id));
  end if;

  begin
    for v_step in select value from jsonb_array_elements(coalesce(p_steps, '[]')) loop
      s := fsm_internal.apply_step(rec.worker_id, s, v_step, p_message_id);
    end loop;
  exception when others then
    get stacked diagnostics v_code = returned_sqlstate, v_message = message_text;
    if v_code not like 'FS%' then
      raise;
    end if;
    perform fsm_internal.log_transition(s, null, coalesce(v_step ->> 'event', v_step ->> 'op', '?'),
                                        p_message_id, v_code, v_message);
    return jsonb_build_object('status', 'rejected', 'error_code', v_code, 'error', v_message,
                              'context', fsm_internal.context(rec.worker_id));
  end;

  -- Any message counts as activity for the open session, even one that changes no state.
  update public.progress_update_sessions set last_activity = now()
   where worker_id = rec.worker_id and fsm_state not in ('completed', 'abandoned');

  update public.fsm_idempotency_records
     set status = 'completed', reply = p_reply, locked_until = null, processed_at = now(),
         result = jsonb_build_object('session_id', s.id, 'fsm_state', s.fsm_state, 'version', s.version)
   where message_id = p_message_id;
  return jsonb_build_object('status', 'applied', 'reply', p_reply, 'session', fsm_internal.session_json(s));
end
$$;

-- A message whose processing failed after it was claimed: recorded as failed with its error, so it is
-- never only logged. A later delivery gets p_reply (an apology) back.
create function public.fsm_fail_message(p_message_id text, p_claim_token uuid, p_error text, p_reply text)
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
begin
  update public.fsm_idempotency_records
     set status = 'failed', error = left(p_error, 4000), reply = p_reply, locked_until = null, processed_at = now()
   where message_id = p_message_id and status = 'processing' and claim_token = p_claim_token;
  return jsonb_build_object('status', case when found then 'failed' else 'claim_lost' end);
end
$$;

-- Time ---------------------------------------------------------------------------------------------

-- Orphans: open sessions past the orphan threshold that can no longer go anywhere (stuck in idle, the
-- worker deactivated, the task gone or closed), and claims whose holder crashed and that no delivery
-- took over: those messages are recorded as failed rather than left in limbo.
create function public.recover_orphaned_sessions()
returns jsonb
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
  st public.fsm_settings := fsm_internal.settings();
  v_sessions integer;
  v_claims integer;
begin
  with orphan as (
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
       for update of s skip locked
  ), closed as (
    update public.progress_update_sessions s
       set fsm_state = 'abandoned', closure_reason = 'orphaned', closed_at = now(), version = s.version + 1,
           updated_at = now(),
           transition_history = s.transition_history || jsonb_build_object(
             'from', s.fsm_state, 'to', 'abandoned', 'event', 'abandon', 'at', now(), 'correlation_id', 'cleanup')
      from orphan o, public.progress_update_sessions old
     where s.id = o.id and old.id = o.id
    returning s.id, s.worker_id, old.fsm_state as from_state
  ), logged as (
    insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
    select id, worker_id, from_state, 'abandoned', 'abandon', true, 'cleanup' from closed
    returning 1
  )
  select count(*) into v_sessions from logged;

  with stale as (
    select message_id from public.fsm_idempotency_records
     where status = 'processing' and locked_until < now() - st.orphan_threshold
     limit st.cleanup_batch_size
       for update skip locked
  )
  update public.fsm_idempotency_records r
     set status = 'failed', locked_until = null, processed_at = now(),
         error = 'claim abandoned: its lease expired and no delivery took it over'
    from stale where r.message_id = stale.message_id;
  get diagnostics v_claims = row_count;

  return jsonb_build_object('sessions_orphaned', v_sessions, 'claims_failed', v_claims);
end
$$;

-- Runs every 5 minutes (pg_cron where it exists, the local runner otherwise). Each step works in
-- bounded batches on indexed predicates and the run stops starting batches after its time budget,
-- so a backlog of millions is worked off over several runs instead of one long transaction.
create function public.cleanup_expired_fsm_records()
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
  v_n integer;
  v_clarifications integer := 0;
  v_timeouts integer := 0;
  v_orphans jsonb;
  v_idempotency integer := 0;
  v_log integer := 0;
  v_cron integer := 0;
begin
  loop
    with due as (
      select id from public.fsm_clarification_requests
       where status = 'pending' and expires_at <= now()
       limit st.cleanup_batch_size for update skip locked
    )
    update public.fsm_clarification_requests c set status = 'expired', resolved_at = now()
      from due where c.id = due.id;
    get diagnostics v_n = row_count;
    v_clarifications := v_clarifications + v_n;
    exit when v_n < st.cleanup_batch_size or clock_timestamp() > v_deadline;
  end loop;

  v_orphans := public.recover_orphaned_sessions();

  loop
    with due as (
      select s.id from public.progress_update_sessions s
       where s.fsm_state not in ('completed', 'abandoned') and s.last_activity < now() - st.session_timeout
       order by s.last_activity
       limit st.cleanup_batch_size for update skip locked
    ), closed as (
      update public.progress_update_sessions s
         set fsm_state = 'abandoned', closure_reason = 'timeout', closed_at = now(), version = s.version + 1,
             updated_at = now(),
             transition_history = s.transition_history || jsonb_build_object(
               'from', s.fsm_state, 'to', 'abandoned', 'event', 'abandon', 'at', now(), 'correlation_id', 'cleanup')
        from due, public.progress_update_sessions old
       where s.id = due.id and old.id = due.id
      returning s.id, s.worker_id, old.fsm_state as from_state
    ), logged as (
      insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
      select id, worker_id, from_state, 'abandoned', 'abandon', true, 'cleanup' from closed
      returning 1
    )
    select count(*) into v_n from logged;
    v_timeouts := v_timeouts + v_n;
    exit when v_n < st.cleanup_batch_size or clock_timestamp() > v_deadline;
  end loop;

  loop
    delete from public.fsm_idempotency_records r
     where r.message_id in (select message_id from public.fsm_idempotency_records
                             where created_at < now() - st.idempotency_retention and status <> 'processing'
                             limit st.cleanup_batch_size for update skip locked);
    get diagnostics v_n = row_count;
    v_idempotency := v_idempotency + v_n;
    exit when v_n < st.cleanup_batch_size or clock_timestamp() > v_deadline;
  end loop;

  loop
    delete from public.fsm_transition_log l
     where l.id in (select id from public.fsm_transition_log
                     where created_at < now() - st.transition_log_retention
                     limit st.cleanup_batch_size);
    get diagnostics v_n = row_count;
    v_log := v_log + v_n;
    exit when v_n < st.cleanup_batch_size or clock_timestamp() > v_deadline;
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

-- Only service_role may call the RPCs; nobody calls the helpers directly.
revoke all on all functions in schema fsm_internal from public;
revoke all on function
  public.fsm_transition(uuid, text, integer, jsonb, text),
  public.fsm_create_clarification(uuid, text, jsonb, text, uuid, text),
  public.fsm_get_pending_clarification(uuid),
  public.fsm_answer_clarification(uuid, text, jsonb),
  public.fsm_cancel_clarification(uuid),
  public.fsm_begin_message(text, text),
  public.fsm_apply_message(text, uuid, uuid, integer, jsonb, text),
  public.fsm_fail_message(text, uuid, text, text),
  public.recover_orphaned_sessions(),
  public.cleanup_expired_fsm_records()
  from public, anon, authenticated;
grant execute on function
  public.fsm_transition(uuid, text, integer, jsonb, text),
  public.fsm_create_clarification(uuid, text, jsonb, text, uuid, text),
  public.fsm_get_pending_clarification(uuid),
  public.fsm_answer_clarification(uuid, text, jsonb),
  public.fsm_cancel_clarification(uuid),
  public.fsm_begin_message(text, text),
  public.fsm_apply_message(text, uuid, uuid, integer, jsonb, text),
  public.fsm_fail_message(text, uuid, text, text),
  public.recover_orphaned_sessions(),
  public.cleanup_expired_fsm_records()
  to service_role;
