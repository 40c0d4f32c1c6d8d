// The store through PostgREST with supabase-js `.rpc()`, the default inside Supabase. The RPC
// parameter names are the SQL functions' own (p_…).
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type { ApplyArgs, ApplyResult, BeginResult, FsmStore } from "./types.ts";

export function supabaseStore(url: string, serviceRoleKey: string, options: { fetch?: typeof fetch } = {}): FsmStore {
  const client: SupabaseClient = createClient(url, serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: options.fetch ? { fetch: options.fetch } : undefined,
  });
  async function call<T>(fn: string, args: Record<string, unknown>): Promise<T> {
    const { data, error } = await client.rpc(fn, args);
    if (error) throw new Error(`${fn}: ${error.code ?? ""} ${error.message}`.trim());
    return data as T;
  }
  return {
    begin: (messageId, whatsappNumber, payload) =>
      call<BeginResult>("fsm_begin_message", {
        p_message_id: messageId,
        p_whatsapp_number: whatsappNumber,
        p_payload: payload ?? null,
      }),
    apply: (a: ApplyArgs) =>
      call<ApplyResult>("fsm_apply_message", {
        p_message_id: a.messageId,
        p_claim_token: a.claimToken,
        p_expected_session_id: a.expectedSessionId,
        p_expected_version: a.expectedVersion,
        p_steps: a.steps,
        p_reply: a.reply,
      }),
    fail: async (messageId, claimToken, error, reply) => {
      await call("fsm_fail_message", { p_message_id: messageId, p_claim_token: claimToken, p_error: error, p_reply: reply });
    },
    close: async () => {},
  };
}
