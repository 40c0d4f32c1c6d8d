// What the database itself says about a run: transactions and deadlocks from pg_stat_database (a
// cross-check of the round trips counted on the wire), and whether every message ended as it should.
import type postgres from "postgres";

export interface DatabaseCounters {
  transactions: number;
  deadlocks: number;
}

/**
 * This database's committed + rolled-back transactions and deadlocks, once every other connection to
 * it has closed. A backend reports its counts to pg_stat_database at most once a second while busy, up
 * to 10 s late once idle, and always when it exits: so the callers close their pools first, and the
 * figure then holds everything they did (plus this connection's own few statements).
 */
export async function readCounters(sql: postgres.Sql, timeoutMs = 10_000): Promise<DatabaseCounters> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [{ others }] = await sql`
      select count(*)::int as others from pg_stat_activity
       where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'`;
    if (others === 0) break;
    if (Date.now() > deadline) throw new Error(`${others} other connection(s) to the bench database stayed open`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await sql`select pg_stat_force_next_flush()`.catch(() => {}); // PostgreSQL 15+: this backend's own counts
  const [row] = await sql`
    select xact_commit + xact_rollback as transactions, deadlocks
      from pg_stat_database where datname = current_database()`;
  return { transactions: Number(row.transactions), deadlocks: Number(row.deadlocks) };
}

export interface Integrity {
  idempotency: Record<string, number>;
  refusedTransitions: number;
  openSessions: number;
  progressUpdates: number;
  incidents: number;
}

/** The end state of a run whose every script closes its session and whose every message succeeds. */
export async function integrity(sql: postgres.Sql): Promise<Integrity> {
  const statuses = await sql`select status, count(*)::int as n from public.fsm_idempotency_records group by status`;
  const [row] = await sql`
    select (select count(*)::int from public.fsm_transition_log where not success) as refused,
           (select count(*)::int from public.progress_update_sessions
             where fsm_state not in ('completed', 'abandoned')) as open,
           (select count(*)::int from public.progress_updates) as updates,
           (select count(*)::int from public.incidents) as incidents`;
  return {
    idempotency: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
    refusedTransitions: row.refused,
    openSessions: row.open,
    progressUpdates: row.updates,
    incidents: row.incidents,
  };
}
