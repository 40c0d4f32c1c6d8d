// The store over a direct connection (postgres.js): SUPABASE_DB_URL inside Supabase, DATABASE_URL
// locally. prepare: false, because Supabase's transaction pooler (port 6543) cannot keep prepared
// statements; each call is one statement, so one transaction, and the pooler is safe.
import postgres from "postgres";
import type { ApplyArgs, ApplyResult, BeginResult, FsmStore } from "./types.ts";

/**
 * Errors after which the call did not take effect, or took it at most once: the connection was refused,
 * closed or terminated, or the server was shutting down or starting (postgres.js may hand a
 * connection's last such error to its first query after reconnecting). Each call is safe to repeat:
 * a claim is taken once, an apply needs the claim's token, which a completed apply has retired.
 */
const TRANSIENT = new Set([
  "ECONNREFUSED", "ECONNRESET", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED",
  "57P01", "57P02", "57P03", "08000", "08003", "08006",
]);

async function onceMore<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!TRANSIENT.has((error as { code?: string }).code ?? "")) throw error;
    await new Promise((r) => setTimeout(r, 250));
    return await call();
  }
}

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
    begin: (messageId, whatsappNumber, payload) =>
      onceMore(async () => {
        const [{ r }] = await sql`
          select public.fsm_begin_message(${messageId}, ${whatsappNumber}, ${payload ? sql.json(payload) : null}) as r`;
        return r as BeginResult;
      }),
    apply: (a: ApplyArgs) =>
      onceMore(async () => {
        const [{ r }] = await sql`
          select public.fsm_apply_message(${a.messageId}, ${a.claimToken}, ${a.expectedSessionId}, ${a.expectedVersion},
                                          ${sql.json(a.steps as never)}, ${a.reply}) as r`;
        return r as ApplyResult;
      }),
    fail: (messageId, claimToken, error, reply) =>
      onceMore(async () => {
        await sql`select public.fsm_fail_message(${messageId}, ${claimToken}, ${error}, ${reply})`;
      }),
    close: () => sql.end({ timeout: 5 }),
  };
}
