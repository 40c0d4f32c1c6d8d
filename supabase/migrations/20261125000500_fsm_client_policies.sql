-- Say in policy what the grants already enforce: clients (anon, authenticated) never read or write
-- these tables. service_role and the security definer functions bypass RLS and are unaffected.
do $$
declare
  t text;
begin
  foreach t in array array[
    'fsm_settings', 'companies', 'workers', 'tasks', 'progress_update_sessions', 'photos',
    'progress_updates', 'incidents', 'fsm_transition_rules', 'fsm_transition_log',
    'fsm_idempotency_records', 'fsm_clarification_requests']
  loop
    execute format(
      'create policy no_client_access on public.%I as restrictive for all to anon, authenticated using (false) with check (false)',
      t);
  end loop;
end
$$;

create index tasks_company_id_idx on public.tasks (company_id);
