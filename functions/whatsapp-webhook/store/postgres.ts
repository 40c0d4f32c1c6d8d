// The store over a direct connection (postgres.js): SUPABASE_DB_URL inside Supabase, DATABASE_URL
// locally. prepare: false, because Supabase's transaction pooler (port 6543) cannot keep prepared
// statements; each call is one statement, so one transaction, and the pooler is safe.
import postgres from "postgres";
import type { ApplyArgs, ApplyResult, BeginResult, FsmStore } from "./types.ts";

export function postgresStore(url: string, options: { max?: number } = {}): FsmStore {
  const sql = postgres(url, {
    max: options.max ?? 5,
    prepare: false,
    idle_timeout: 30,
    connect_timeout: 10,
    // The default backoff grows to 20 s and is shared by the pool: after a database restart the webhook
    // would stay unavailable for up to 20 s (seen in the chaos run). Reconnect within a second instead.
    backoff: (attempt: number) => Math.min(0.05 * 2 ** attempt, 1),
    // No arrays are read, so skip the type lookup, whose failure during a restart is an unhandled rejection.
    fetch_types: false,
    onnotice: () => {},
  });
  return {
    async begin(messageId, whatsappNumber, payload) {
      const [{ r }] = await sql`
        select public.fsm_begin_message(${messageId}, ${whatsappNumber}, ${payload ? sql.json(payload) : null}) as r`;
      return r as BeginResult;
    },
    async apply(a: ApplyArgs) {
      const [{ r }] = await sql`
        select public.fsm_apply_message(${a.messageId}, ${a.claimToken}, ${a.expectedSessionId}, ${a.expectedVersion},
                                        ${sql.json(a.steps as never)}, ${a.reply}) as r`;
      return r as ApplyResult;
    },
    async fail(messageId, claimToken, error, reply) {
      await sql`select public.fsm_fail_message(${messageId}, ${claimToken}, ${error}, ${reply})`;
    },
    close: () => sql.end({ timeout: 5 }),
  };
}
