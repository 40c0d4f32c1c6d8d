-- Each success criterion computed once (the first version computed each twice: value and verdict),
-- which halves the cost of reading the view on a large transition log.
create or replace view public.fsm_success_criteria with (security_invoker = true) as
with stuck as (select count(*)::numeric as n from public.fsm_stuck_sessions),
     clarified as (select answered_pct from public.fsm_clarification_effectiveness),
     unclean as (select count(*)::numeric as n from public.fsm_unclean_abandonments),
     duplicated as (select count(*)::numeric as n from public.fsm_duplicate_actions),
     outside_rules as (
       select count(*)::numeric as n
         from public.fsm_transition_log l
        where l.success and l.from_state is not null
          and not exists (select 1 from public.fsm_transition_rules r
                           where r.from_state = l.from_state and r.event = l.event and r.to_state = l.to_state))
select 'no_stuck_sessions' as criterion, 'Workers do not get stuck' as description, '= 0' as target,
       stuck.n as current_value, stuck.n = 0 as met
  from stuck
union all
select 'clarifications_answered', 'Ambiguous messages are clarified', '> 80 %',
       clarified.answered_pct, coalesce(clarified.answered_pct > 80, true)
  from clarified
union all
select 'clean_abandonment', 'Every abandoned session has a closure reason', '= 0', unclean.n, unclean.n = 0
  from unclean
union all
select 'no_double_execution', 'No action is executed twice', '= 0', duplicated.n, duplicated.n = 0
  from duplicated
union all
select 'no_invalid_transitions_applied', 'Invalid transitions are refused, never applied', '= 0',
       outside_rules.n, outside_rules.n = 0
  from outside_rules;
