// The cleanup clock during the run: cleanup_expired_fsm_records() every few seconds, as pg_cron calls
// it every 5 minutes on Supabase. It keeps going through the faults; a run that fails (the server is
// down) is counted and the next tick tries again.
import type { Sql } from "./database.ts";
import { sleep, withTimeout } from "./random.ts";

export class CleanupClock {
  runs = 0;
  failures = 0;
  readonly totals = new Map<string, number>();
  #stopped = false;
  #paused = false;
  #loop?: Promise<void>;

  constructor(readonly sql: Sql, readonly everyMs: number, readonly log: (line: string) => void) {}

  start() {
    this.#loop = (async () => {
      while (!this.#stopped) {
        await sleep(this.everyMs);
        if (this.#stopped) break;
        if (!this.#paused) await this.tick();
      }
    })();
  }

  /** One run now; returns its counts (undefined when it failed). */
  async tick(): Promise<Record<string, number> | undefined> {
    try {
      const [{ result }] = await withTimeout(
        this.sql`select public.cleanup_expired_fsm_records() as result`,
        60_000,
        "cleanup_expired_fsm_records()",
      );
      this.runs++;
      for (const [k, v] of Object.entries(result as Record<string, number>)) {
        if (k !== "duration_ms") this.totals.set(k, (this.totals.get(k) ?? 0) + Number(v));
      }
      return result as Record<string, number>;
    } catch (error) {
      this.failures++;
      this.log(`cleanup: failed (${(error as Error).message})`);
      return undefined;
    }
  }

  pause() {
    this.#paused = true;
  }

  async stop() {
    this.#stopped = true;
    await this.#loop;
  }
}
