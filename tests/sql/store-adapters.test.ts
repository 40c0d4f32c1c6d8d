// The two ways the webhook reaches the database. The direct one (postgres.js) runs end to end in
// tests/e2e. PostgREST cannot run here, so the supabase-js one is checked up to the HTTP request it
// sends, and that request's arguments are then called by name on the real functions, as PostgREST would.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresStore } from "../../functions/whatsapp-webhook/store/postgres.ts";
import { supabaseStore } from "../../functions/whatsapp-webhook/store/supabase.ts";
import { connect, craftSession, messageId, newWorker, type Sql } from "../support/db.ts";
import { inject } from "vitest";

let sql: Sql;
beforeAll(() => {
  sql = connect();
  // supabase-js builds a realtime client it never uses here, and refuses Node 20, which has no
  // WebSocket; Deno, where the adapter runs, has one. A stand-in for the constructor is enough.
  globalThis.WebSocket ??= class {} as unknown as typeof WebSocket;
});
afterAll(() => sql.end());

interface Captured {
  url: string;
  method: string;
  headers: Headers;
  body: Record<string, unknown>;
}

function recordingFetch(answer: unknown) {
  const calls: Captured[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    calls.push({ url: req.url, method: req.method, headers: req.headers, body: await req.json() });
    return new Response(JSON.stringify(answer), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
  return { calls, fetchFn };
}

/** What PostgREST does with an RPC body: call the function with the body's keys as named arguments. */
async function callByName(fn: string, body: Record<string, unknown>) {
  const isJson = (v: unknown) => v !== null && typeof v === "object";
  const args = Object.entries(body).map(([k, v], i) => `${k} => $${i + 1}${isJson(v) ? "::jsonb" : ""}`).join(", ");
  // postgres.js serialises a value sent for a jsonb parameter itself.
  const values = Object.values(body);
  const [row] = await sql.unsafe(`select public.${fn}(${args}) as r`, values as never[]);
  return row.r;
}

describe("the supabase-js adapter", () => {
  it("posts each RPC to PostgREST with the service key and the functions' own argument names", async () => {
    const worker = await newWorker(sql);
    await craftSession(sql, worker, "collecting_data");
    const { calls, fetchFn } = recordingFetch({ status: "unknown_worker" });
    const store = supabaseStore("https://abcd.supabase.co", "service-role-key", { fetch: fetchFn });
    const id = messageId();

    await store.begin(id, worker.number);
    await store.apply({ messageId: id, claimToken: crypto.randomUUID(), expectedSessionId: null, expectedVersion: null, steps: [], reply: "ok" });
    await store.fail(id, crypto.randomUUID(), "boom", "sorry");

    expect(calls.map((c) => [c.method, c.url])).toEqual([
      ["POST", "https://abcd.supabase.co/rest/v1/rpc/fsm_begin_message"],
      ["POST", "https://abcd.supabase.co/rest/v1/rpc/fsm_apply_message"],
      ["POST", "https://abcd.supabase.co/rest/v1/rpc/fsm_fail_message"],
    ]);
    for (const c of calls) {
      expect(c.headers.get("apikey")).toBe("service-role-key");
      expect(c.headers.get("authorization")).toBe("Bearer service-role-key");
    }
    for (const c of calls) {
      const fn = c.url.split("/").pop()!;
      const [proc] = await sql`select proargnames from pg_proc where proname = ${fn} and pronamespace = 'public'::regnamespace`;
      expect(Object.keys(c.body).sort(), fn).toEqual([...proc.proargnames].sort());
    }

    // The same bodies, called by name on the real functions, do what the direct adapter does.
    const begun = await callByName("fsm_begin_message", calls[0].body);
    expect(begun).toMatchObject({ status: "claimed" });
    const apply = { ...calls[1].body, p_claim_token: begun.claim_token, p_expected_session_id: begun.context.session.id,
                    p_expected_version: begun.context.session.version, p_steps: [{ op: "event", event: "add_data", payload: { comment: "via rpc" } }] };
    expect(await callByName("fsm_apply_message", apply)).toMatchObject({ status: "applied", reply: "ok" });
  });

  it("turns a PostgREST error into a thrown error", async () => {
    const failing = (async () =>
      new Response(JSON.stringify({ code: "42501", message: "permission denied for function fsm_begin_message" }),
        { status: 401, headers: { "content-type": "application/json" } })) as typeof fetch;
    const store = supabaseStore("https://abcd.supabase.co", "wrong-key", { fetch: failing });
    await expect(store.begin(messageId(), "+15550100001")).rejects.toThrow(/42501 permission denied/);
  });
});

describe("the postgres.js adapter", () => {
  it("runs a message's two round trips against the database", async () => {
    const worker = await newWorker(sql);
    const store = postgresStore(inject("databaseUrl"), { max: 1 });
    try {
      const id = messageId();
      const begun = await store.begin(id, worker.number);
      expect(begun.status).toBe("claimed");
      if (begun.status !== "claimed") return;
      const applied = await store.apply({
        messageId: id, claimToken: begun.claim_token, expectedSessionId: null, expectedVersion: null,
        steps: [{ op: "start", session_type: "progress_update" }, { op: "event", event: "start_update" }], reply: "Which task?",
      });
      expect(applied).toMatchObject({ status: "applied", reply: "Which task?" });
      expect(await store.begin(id, worker.number)).toEqual({ status: "duplicate", outcome: "completed", reply: "Which task?" });
    } finally {
      await store.close();
    }
  });
});
