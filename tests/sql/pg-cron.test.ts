// The cleanup schedule on a server with pg_cron preloaded: the migration schedules the job in the
// database named by cron.database_name, and pg_cron really runs it. That database is the test's own:
// it is emptied and migrated anew, so it must be a scratch one (.ci/run sets `fsm_cron`).
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, databaseExists, prepareDatabase, withDatabase } from "../../scripts/lib/database.ts";
import type { Sql } from "../support/db.ts";

const JOB = "cleanup-expired-fsm-records";
const adminUrl = inject("adminUrl");
const required = process.env.FSM_REQUIRE_PG_CRON === "1";

const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
const [settings] = await admin`
  select current_setting('shared_preload_libraries') as preload,
         current_setting('cron.database_name', true) as cron_db`;
await admin.end();
const cronDb: string = settings.cron_db ?? "postgres";
const kept = ["postgres", "template0", "template1", decodeURIComponent(new URL(adminUrl).pathname.slice(1))];
const unusable = !/(^|[ ,])pg_cron([ ,]|$)/.test(settings.preload)
  ? "pg_cron is not in shared_preload_libraries on this server"
  : kept.includes(cronDb)
  ? `cron.database_name is '${cronDb}', which this test must not empty: set it to a scratch database (e.g. fsm_cron)`
  : undefined;
// The default reporter shows a skipped file without its tests' names: say why here too.
if (unusable && !required) console.warn(`[pg_cron] skipped: ${unusable}`);

/** Everything the migrations create, pg_cron and its jobs included, gone; the database itself stays. */
async function emptyDatabase(sql: Sql) {
  await sql.unsafe(`
    drop extension if exists pg_cron cascade;
    drop schema if exists fsm_internal, supabase_migrations cascade;
    drop schema if exists public cascade;
    create schema public authorization pg_database_owner;
    grant usage on schema public to public;
  `);
}

async function poll<T>(timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await probe();
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe.skipIf(unusable !== undefined && !required)(
  unusable ? `pg_cron (not testable here: ${unusable})` : `pg_cron in ${cronDb}`,
  () => {
    let sql: Sql;

    beforeAll(async () => {
      if (unusable) throw new Error(`pg_cron is required (FSM_REQUIRE_PG_CRON=1), but ${unusable}`);
      if (!(await databaseExists(adminUrl, cronDb))) await createDatabase(adminUrl, cronDb);
      const url = withDatabase(adminUrl, cronDb);
      sql = postgres(url, { max: 1, onnotice: () => {} });
      // Emptied in place, not dropped: a pg_cron launcher connected to a database that is dropped exits
      // cleanly, and Postgres never restarts a background worker that exited cleanly.
      await emptyDatabase(sql);
      await prepareDatabase(url);
      // A launcher that found its database missing retries every second: wait for it to connect.
      const launcher = await poll(20_000, async () => {
        const [row] = await sql`
          select pid from pg_stat_activity where backend_type = 'pg_cron launcher' and datname = ${cronDb}`;
        return row;
      });
      if (!launcher) throw new Error(`no pg_cron launcher is connected to ${cronDb}: restart the server`);
    });

    afterAll(async () => {
      // The job would go on running every minute: leave the database empty instead.
      if (sql) await emptyDatabase(sql);
      await sql?.end();
    });

    it("the migration schedules the cleanup every 5 minutes in the cron database", async () => {
      expect(await sql`select 1 from pg_extension where extname = 'pg_cron'`).toHaveLength(1);
      const jobs = await sql`select schedule, command, database from cron.job where jobname = ${JOB}`;
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ schedule: "*/5 * * * *", database: cronDb });
      expect(jobs[0].command).toMatch(/\bselect public\.cleanup_expired_fsm_records\(\)/);
    });

    it("pg_cron runs it: a pending clarification past its expiry gets expired", async () => {
      const [company] = await sql`insert into companies (name) values ('pg_cron company') returning id`;
      const [worker] = await sql`
        insert into workers (company_id, whatsapp_number, display_name)
        values (${company.id}, '+15550000001', 'pg_cron worker') returning id`;
      const [clarification] = await sql`
        insert into fsm_clarification_requests (worker_id, question, options, original_message, expires_at)
        values (${worker.id}, 'Which one?', '[{"key": "a", "label": "A"}, {"key": "b", "label": "B"}]',
                'done', now() - interval '1 minute')
        returning id`;
      const [{ since }] = await sql`select clock_timestamp() as since`;

      // Seconds schedules came with pg_cron 1.5; before that the next minute is the soonest.
      const [{ version, seconds }] = await sql`
        select extversion as version,
               string_to_array(split_part(extversion, '-', 1), '.')::int[] >= array[1, 5] as seconds
          from pg_extension where extname = 'pg_cron'`;
      const schedule = seconds ? "2 seconds" : "* * * * *";
      // alter_job keeps the job and the command the migration wrote; only the schedule changes.
      await sql`select cron.alter_job(jobid, schedule => ${schedule}) from cron.job where jobname = ${JOB}`;

      const started = Date.now();
      // A finished run, failed ones included, so that a failure shows as such rather than as a timeout.
      const run = await poll(90_000, async () => {
        const [row] = await sql`
          select d.status, d.return_message
            from cron.job_run_details d join cron.job j using (jobid)
           where j.jobname = ${JOB} and d.start_time >= ${since} and d.status in ('succeeded', 'failed')
           order by d.start_time limit 1`;
        return row;
      });
      console.log(`[pg_cron ${version}] schedule '${schedule}': run ${run?.status ?? "none"} after ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(run, `no run of ${JOB} finished within 90 s`).toBeDefined();
      expect(run!.status, `run of ${JOB}: ${run!.return_message}`).toBe("succeeded");

      const [row] = await sql`select status, resolved_at from fsm_clarification_requests where id = ${clarification.id}`;
      expect(row.status).toBe("expired");
      expect(row.resolved_at).not.toBeNull();
    }, 120_000);
  },
);
