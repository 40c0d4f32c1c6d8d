-- What the conversation layer needs beyond the core: the database's clock and the session timeout in
-- the context (so every time judgement uses one clock), the closed task's title for the "your update
-- was closed" notice, and a `remember` step to keep a value in the session's metadata.

create or replace function fsm_internal.context(p_worker_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'now', now(),
    'session_timeout_minutes', (select extract(epoch from session_timeout) / 60 from public.fsm_settings where id),
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
                                                     'closed_at', s.closed_at, 'task_id', s.task_id,
                                                     'task_title', t.title, 'session_type', s.session_type)
                             from public.progress_update_sessions s
                             left join public.tasks t on t.id = s.task_id
                            where s.worker_id = p_worker_id and s.fsm_state = 'abandoned'
                              and s.closure_reason in ('timeout', 'orphaned')
                              and not s.session_metadata ? 'worker_notified_at'
                            order by s.closed_at desc limit 1))
$$;

create or replace function fsm_internal.apply_step(
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
  when 'remember' then
    -- A note on the open session that is not state: a description waiting for its task, when photos
    -- were last acknowledged. The version does not move.
    if s.id is null or not fsm_internal.is_open(s.fsm_state) then
      raise exception using errcode = 'FS404', message = 'no open session to remember anything on';
    end if;
    if coalesce(p_step ->> 'key', '') !~ '^[a-z_]{1,40}$' or p_step ->> 'key' in ('comments', 'progress_percent') then
      raise exception using errcode = 'FS004', message = format('cannot remember %L', p_step ->> 'key');
    end if;
    update public.progress_update_sessions
       set session_metadata = case when p_step -> 'value' is null or p_step -> 'value' = 'null'
                                   then session_metadata - (p_step ->> 'key')
                                   else jsonb_set(session_metadata, array[p_step ->> 'key'], p_step -> 'value') end
     where id = s.id
    returning * into s;
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

revoke all on all functions in schema fsm_internal from public;
