// The clock where pg_cron is missing: calls cleanup_expired_fsm_records() every 5 minutes, as the
// pg_cron job does on Supabase.
import type postgres from "postgres";

export const CLEANUP_INTERVAL_MS = 5 * 60 * 1000;

export async function cleanupScheduledByPgCron(sql: postgres.Sql): Promise<boolean> {
  const [row] = await sql`
    select to_regclass('cron.job') is not null
       and exists (select 1 from pg_extension where extname = 'pg_cron') as present`;
  if (!row.present) return false;
  const jobs = await sql`select 1 from cron.job where jobname = 'cleanup-expired-fsm-records' and active`;
  return jobs.length > 0;
}

/** One cleanup run, its counts logged. Never throws: a failed run is logged and the next one retries. */
export async function runCleanup(sql: postgres.Sql, log: (line: string) => void): Promise<void> {
  try {
    const [{ result }] = await sql`select public.cleanup_expired_fsm_records() as result`;
    const did = Object.entries(result as Record<string, number>)
      .filter(([key, n]) => key !== "duration_ms" && n > 0)
      .map(([key, n]) => `${key}=${n}`);
    log(`cleanup: ${did.length ? did.join(" ") : "nothing to do"} (${result.duration_ms} ms)`);
  } catch (error) {
    log(`cleanup failed: ${(error as Error).message}`);
  }
}

export function startTimekeeper(
  sql: postgres.Sql,
  log: (line: string) => void,
  intervalMs = CLEANUP_INTERVAL_MS,
): { stop(): void } {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return; // a slow run is never overlapped by the next tick
    running = true;
    await runCleanup(sql, log);
    running = false;
  }, intervalMs);
  return { stop: () => clearInterval(timer) };
}
