-- An apply serialises one worker's messages by locking the worker's row; `for update` also blocked every
-- new claim of that worker (the claim's foreign key takes a key-share lock on the row), so one slow apply
-- held up the worker's next messages before they were even claimed (seen in the chaos run).

create or replace function public.fsm_apply_message(
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

  -- One worker's messages apply one at a time. "No key update": a new message's claim, whose foreign
  -- key takes a key-share lock on this row, is not kept waiting behind an apply.
  perform 1 from public.workers where id = rec.worker_id for no key update;
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
