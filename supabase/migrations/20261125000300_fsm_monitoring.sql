-- The reference design's monitoring queries and success criteria, as views. security_invoker so the
-- tables' RLS and grants apply to whoever reads them: service_role and the dashboard, nobody else.

create view public.fsm_active_sessions with (security_invoker = true) as
select fsm_state, session_type, count(*) as sessions, min(last_activity) as oldest_activity
  from public.progress_update_sessions
 where fsm_state not in ('completed', 'abandoned')
 group by fsm_state, session_type;

create view public.fsm_abandoned_by_reason with (security_invoker = true) as
select coalesce(closure_reason, '(none)') as closure_reason, count(*) as sessions, max(closed_at) as last_closed_at
  from public.progress_update_sessions
 where fsm_state = 'abandoned'
 group by closure_reason;

create view public.fsm_clarification_effectiveness with (security_invoker = true) as
select count(*) filter (where status = 'answered') as answered,
       count(*) filter (where status = 'expired') as expired,
       count(*) filter (where status = 'cancelled') as cancelled,
       count(*) filter (where status = 'pending') as pending,
       count(*) as total,
       round(count(*) filter (where status = 'answered') * 100.0 / nullif(count(*) filter (where status <> 'pending'), 0), 1)
         as answered_pct
  from public.fsm_clarification_requests;

create view public.fsm_invalid_transitions with (security_invoker = true) as
select from_state, event, error_code, count(*) as attempts, max(created_at) as last_seen
  from public.fsm_transition_log
 where not success
 group by from_state, event, error_code;

create view public.fsm_common_transitions with (security_invoker = true) as
select from_state, to_state, event, count(*) as transitions
  from public.fsm_transition_log
 where success
 group by from_state, to_state, event;

-- The reference's definition of stuck: open and silent for two hours. The cleanup keeps this empty.
create view public.fsm_stuck_sessions with (security_invoker = true) as
select id, worker_id, session_type, fsm_state, last_activity, now() - last_activity as idle_for
  from public.progress_update_sessions
 where fsm_state not in ('completed', 'abandoned') and last_activity < now() - interval '2 hours';

create view public.fsm_unclean_abandonments with (security_invoker = true) as
select id, worker_id, fsm_state, closed_at
  from public.progress_update_sessions
 where fsm_state = 'abandoned' and closure_reason is null;

-- An effect recorded twice for one message id. Unique keys make this impossible; the view proves it.
create view public.fsm_duplicate_actions with (security_invoker = true) as
select kind, message_id, count(*) as effects
  from (select 'progress_update' as kind, message_id from public.progress_updates
        union all select 'incident', message_id from public.incidents
        union all select 'photo', message_id || '#' || media_index from public.photos) e
 group by kind, message_id
having count(*) > 1;

create view public.fsm_success_criteria with (security_invoker = true) as
select 'no_stuck_sessions' as criterion, 'Workers do not get stuck' as description,
       '= 0' as target, (select count(*) from public.fsm_stuck_sessions)::numeric as current_value,
       (select count(*) from public.fsm_stuck_sessions) = 0 as met
union all
select 'clarifications_answered', 'Ambiguous messages are clarified', '> 80 %',
       (select answered_pct from public.fsm_clarification_effectiveness),
       coalesce((select answered_pct > 80 from public.fsm_clarification_effectiveness), true)
union all
select 'clean_abandonment', 'Every abandoned session has a closure reason', '= 0',
       (select count(*) from public.fsm_unclean_abandonments)::numeric,
       (select count(*) from public.fsm_unclean_abandonments) = 0
union all
select 'no_double_execution', 'No action is executed twice', '= 0',
       (select count(*) from public.fsm_duplicate_actions)::numeric,
       (select count(*) from public.fsm_duplicate_actions) = 0
union all
select 'no_invalid_transitions_applied', 'Invalid transitions are refused, never applied', '= 0',
       (select count(*) from public.fsm_transition_log l
         where l.success and l.from_state is not null
           and not exists (select 1 from public.fsm_transition_rules r
                            where r.from_state = l.from_state and r.event = l.event and r.to_state = l.to_state))::numeric,
       not exists (select 1 from public.fsm_transition_log l
                    where l.success and l.from_state is not null
                      and not exists (select 1 from public.fsm_transition_rules r
                                       where r.from_state = l.from_state and r.event = l.event and r.to_state = l.to_state));

revoke all on table
  public.fsm_active_sessions, public.fsm_abandoned_by_reason, public.fsm_clarification_effectiveness,
  public.fsm_invalid_transitions, public.fsm_common_transitions, public.fsm_stuck_sessions,
  public.fsm_unclean_abandonments, public.fsm_duplicate_actions, public.fsm_success_criteria
  from public, anon, authenticated;
grant select on table
  public.fsm_active_sessions, public.fsm_abandoned_by_reason, public.fsm_clarification_effectiveness,
  public.fsm_invalid_transitions, public.fsm_common_transitions, public.fsm_stuck_sessions,
  public.fsm_unclean_abandonments, public.fsm_duplicate_actions, public.fsm_success_criteria
  to service_role;
