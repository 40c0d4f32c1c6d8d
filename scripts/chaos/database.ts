// The chaos run's database: created on its own server, migrated as `npm start` does, filled with
// workers, and set up for the run: shorter timeouts, the webhook's own role with a statement timeout,
// and a trigger that makes chosen workers' statements hang.
import postgres from "postgres";
import { createDatabase, prepareDatabase, withDatabase } from "../lib/database.ts";
import type { Options } from "./options.ts";

export type Sql = postgres.Sql;

export const DATABASE = "fsm_chaos";
/** The login role the webhook uses: a member of service_role, with a statement timeout of its own. */
export const WEBHOOK_ROLE = "fsm_chaos_webhook";
const WEBHOOK_PASSWORD = "chaos";

export interface Fixture {
  workers: { id: string; number: string }[];
}

/** A connection for the harness itself: no statement timeout, tolerant of the server's restarts. */
export function connect(url: string, max = 4): Sql {
  return postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 5,
    // The driver's array-type lookup on a fresh connection is not awaited by postgres.js 3.4.9: if the
    // server goes away during it, the rejection is unhandled. The harness never reads arrays.
    fetch_types: false,
    connection: { statement_timeout: 0, application_name: "fsm-chaos-harness" },
  });
}

export async function createChaosDatabase(
  adminUrl: string,
  log: (line: string) => void,
): Promise<{ url: string; webhookUrl: string }> {
  const url = await createDatabase(adminUrl, DATABASE);
  const t0 = Date.now();
  await prepareDatabase(url, (line) => {
    if (/^Applying migration/.test(line)) log(`migrations: ${line}`);
  });
  log(`migrations applied with the Supabase CLI in ${Date.now() - t0} ms`);
  const u = new URL(withDatabase(adminUrl, DATABASE));
  u.username = WEBHOOK_ROLE;
  u.password = WEBHOOK_PASSWORD;
  return { url, webhookUrl: u.toString() };
}

export async function seedWorkers(sql: Sql, count: number): Promise<Fixture> {
  const [company] = await sql`insert into companies (name) values ('Chaos Construction') returning id`;
  const workers = await sql<{ id: string; number: string }[]>`
    insert into workers (company_id, whatsapp_number, display_name, language)
    select ${company.id}, '+1555' || (7000000 + n)::text, 'Worker ' || n, 'en'
      from generate_series(1, ${count}) n
    returning id, whatsapp_number as number`;
  await sql`
    insert into tasks (company_id, worker_id, title, created_at)
    select ${company.id}, w.id, t.title, now() - make_interval(mins => 10 - t.n)
      from workers w,
           (values (1, 'Paint the north wall'), (2, 'Install kitchen cabinets'), (3, 'Replace roof tiles')) t(n, title)
     where w.company_id = ${company.id}`;
  const sorted = [...workers].sort((a, b) => a.number.localeCompare(b.number));
  return { workers: sorted.map((w) => ({ id: w.id, number: w.number })) };
}

/** Everything the run changes about the product's setup, in one place, said out loud by the caller. */
export async function configureForChaos(sql: Sql, options: Options): Promise<string[]> {
  await sql`
    update fsm_settings
       set session_timeout = make_interval(secs => ${options.sessionTimeoutSeconds}),
           idempotency_lease = make_interval(secs => ${options.idempotencyLeaseSeconds}),
           orphan_threshold = make_interval(secs => ${options.orphanThresholdSeconds}),
           updated_at = now()`;
  await sql.unsafe(`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${WEBHOOK_ROLE}') then
        create role ${WEBHOOK_ROLE} login password '${WEBHOOK_PASSWORD}';
      end if;
    end $$;
    grant service_role to ${WEBHOOK_ROLE};
    alter role ${WEBHOOK_ROLE} set statement_timeout = '${Math.round(options.statementTimeoutMs)}ms';`);
  // A hanging statement: while a worker is listed in chaos.hang_workers, any move of theirs made by the
  // webhook's role sleeps where its log row is written (inside fsm_apply_message, under the worker's
  // lock, or fsm_begin_message closing a timed-out session) until the role's statement_timeout cancels
  // it. The harness's own connections are not affected.
  await sql.unsafe(`
    create schema if not exists chaos;
    create table if not exists chaos.hang_workers (worker_id uuid primary key, until timestamptz not null);
    create or replace function chaos.hang() returns trigger language plpgsql as $$
    begin
      if session_user = '${WEBHOOK_ROLE}' and exists (
        select 1 from chaos.hang_workers h where h.worker_id = new.worker_id and h.until > pg_catalog.clock_timestamp()) then
        perform pg_catalog.pg_sleep(${options.hangMs / 1000});
      end if;
      return new;
    end $$;
    drop trigger if exists chaos_hang on public.fsm_transition_log;
    create trigger chaos_hang before insert on public.fsm_transition_log for each row execute function chaos.hang();`);
  return [
    `fsm_settings: session_timeout ${options.sessionTimeoutSeconds} s, idempotency_lease ${options.idempotencyLeaseSeconds} s, ` +
    `orphan_threshold ${options.orphanThresholdSeconds} s (defaults: 30 min, 30 s, 30 min)`,
    `the webhook connects as ${WEBHOOK_ROLE} (member of service_role) with statement_timeout ${options.statementTimeoutMs} ms`,
    `a trigger chaos.hang() on fsm_transition_log sleeps ${options.hangMs} ms on the moves of workers listed in ` +
    `chaos.hang_workers (a hanging statement; the webhook's role only)`,
  ];
}
