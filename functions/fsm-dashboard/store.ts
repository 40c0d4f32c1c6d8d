// The one database call: public.fsm_dashboard_metrics over a direct connection (postgres.js).
// prepare: false, because Supabase's transaction pooler (port 6543) cannot keep prepared statements.
import postgres from "postgres";
import { type DashboardMetrics, type LoadMetrics, WINDOWS } from "./metrics.ts";

export function postgresMetrics(url: string): { load: LoadMetrics; close(): Promise<void> } {
  const sql = postgres(url, { max: 2, prepare: false, idle_timeout: 30, connect_timeout: 10, onnotice: () => {} });
  return {
    async load(window) {
      const [{ m }] = await sql`select public.fsm_dashboard_metrics(${WINDOWS[window].interval}::interval) as m`;
      return m as DashboardMetrics;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
