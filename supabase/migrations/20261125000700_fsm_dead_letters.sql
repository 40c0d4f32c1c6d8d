-- Dead letters: a message that failed after it was accepted keeps its payload, its error and its
-- attempt count, so it can be listed and replayed once the cause is fixed (`npm run dead-letters`).
-- The payload is stored when the message is claimed, because a crash leaves no other chance to.

alter table public.fsm_idempotency_records add column payload jsonb
  check (payload is null or jsonb_typeof(payload) = 'object');

create index fsm_idempotency_records_failed_idx on public.fsm_idempotency_records (processed_at)
  where status = 'failed';

drop function public.fsm_begin_message(text, text);

-- As before, and the inbound payload (the provider's form, as an object) is kept with the claim.
create function public.fsm_begin_message(p_message_id text, p_whatsapp_number text, p_payload jsonb default null)
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

  insert into public.fsm_idempotency_records (message_id, worker_id, locked_until, payload)
  values (p_message_id, v_worker_id, now() + st.idempotency_lease, p_payload)
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
       set claim_token = gen_random_uuid(), attempts = attempts + 1, locked_until = now() + st.idempotency_lease,
           payload = coalesce(payload, p_payload)
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

create view public.fsm_dead_letters with (security_invoker = true) as
select r.message_id, r.worker_id, r.attempts, r.error, r.reply as reply_sent, r.payload,
       r.created_at as received_at, r.processed_at as failed_at
  from public.fsm_idempotency_records r
 where r.status = 'failed';

-- Makes a dead letter claimable again and hands back its payload; the replay then delivers it like
-- the provider would, through the same claim, so a replay runs once however often it is asked for.
-- Null when the message is not (or no longer) a dead letter.
create function public.fsm_release_dead_letter(p_message_id text)
returns jsonb
language sql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
  update public.fsm_idempotency_records
     set status = 'processing', locked_until = now() - interval '1 millisecond', processed_at = null
   where message_id = p_message_id and status = 'failed' and payload is not null
  returning payload
$$;

revoke all on function public.fsm_begin_message(text, text, jsonb), public.fsm_release_dead_letter(text)
  from public, anon, authenticated;
grant execute on function public.fsm_begin_message(text, text, jsonb), public.fsm_release_dead_letter(text)
  to service_role;
revoke all on table public.fsm_dead_letters from public, anon, authenticated;
grant select on table public.fsm_dead_letters to service_role;
