-- Schedule the cleanup every 5 minutes with pg_cron where pg_cron can live: the extension is available,
-- preloaded, and this is the database named by cron.database_name (`postgres` on Supabase). Anywhere
-- else this migration does nothing and the local runner calls the cleanup itself.
-- `set local statement_timeout` bounds the run: in a multi-statement command each statement gets it.
do $$
begin
  if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
     and pg_catalog.current_setting('shared_preload_libraries') ~ '(^|[ ,])pg_cron([ ,]|$)'
     and pg_catalog.current_database() = coalesce(pg_catalog.current_setting('cron.database_name', true), 'postgres')
  then
    create extension if not exists pg_cron;
    perform cron.schedule(
      'cleanup-expired-fsm-records',
      '*/5 * * * *',
      $cmd$set local statement_timeout = '60s'; select public.cleanup_expired_fsm_records()$cmd$);
  else
    raise notice 'pg_cron is not usable in this database: schedule cleanup_expired_fsm_records() elsewhere';
  end if;
end
$$;
