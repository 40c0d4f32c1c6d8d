import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply, begin, connect, craftSession, messageId, newWorker, sessionRow, type Sql, transition } from "../support/db.ts";

let sql: Sql;
beforeAll(() => {
  sql = connect({ max: 25 });
});
afterAll(() => sql.end());

const photo = (n: number) => ({ url: `https://media.example/${n}.jpg`, content_type: "image/jpeg" });

describe("claiming a message id", () => {
  it("stores nothing for an unknown number", async () => {
    const id = messageId();
    expect(await begin(sql, id, "+15550000000")).toEqual({ status: "unknown_worker" });
    expect(await sql`select 1 from fsm_idempotency_records where message_id = ${id}`).toHaveLength(0);
  });

  it("hands a finished message's stored reply to a second delivery, with no second effect", async () => {
    const worker = await newWorker(sql);
    await craftSession(sql, worker, "collecting_data");
    const id = messageId();
    const first = await begin(sql, id, worker.number);
    expect(first.status).toBe("claimed");
    const applied = await apply(sql, id, first.claim_token!, first.context!.session,
      [{ op: "event", event: "add_data", payload: { photos: [photo(1)] } }], "Photo saved.");
    expect(applied.status).toBe("applied");

    expect(await begin(sql, id, worker.number)).toEqual({ status: "duplicate", outcome: "completed", reply: "Photo saved." });
    // Even a stale worker holding the old token cannot apply it again.
    expect((await apply(sql, id, first.claim_token!, applied.session!, [], "again")).status).toBe("claim_lost");
    expect(await sql`select 1 from photos where message_id = ${id}`).toHaveLength(1);
  });

  it("gives 20 concurrent deliveries of one message one effect; each caller gets the reply or in-progress", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const id = messageId();
    const deliveries = await Promise.all(Array.from({ length: 20 }, async () => {
      const b = await begin(sql, id, worker.number);
      if (b.status !== "claimed") return b;
      const a = await apply(sql, id, b.claim_token!, b.context!.session,
        [{ op: "event", event: "add_data", payload: { photos: [photo(2)], comment: "north side" } }], "Got it.");
      return { status: a.status, reply: "Got it." };
    }));
    const statuses = deliveries.map((d) => d.status);
    expect(statuses.filter((s) => s === "applied")).toHaveLength(1);
    for (const d of deliveries) {
      expect(["applied", "in_progress", "duplicate"]).toContain(d.status);
      if (d.status === "duplicate") expect(d.reply).toBe("Got it.");
    }
    expect(await sql`select 1 from photos where message_id = ${id}`).toHaveLength(1);
    const row = await sessionRow(sql, session.id);
    expect(row.version).toBe(1);
    expect(row.session_metadata.comments).toEqual(["north side"]);
    const [record] = await sql`select status, attempts, reply from fsm_idempotency_records where message_id = ${id}`;
    expect(record).toEqual({ status: "completed", attempts: 1, reply: "Got it." });
  });
});

describe("a crash between claim and completion", () => {
  it("holds the claim for its lease, then lets the next delivery take it over; the crashed holder cannot complete", async () => {
    const worker = await newWorker(sql);
    await craftSession(sql, worker, "collecting_data");
    const id = messageId();
    const crashed = await begin(sql, id, worker.number);
    expect(crashed.status).toBe("claimed");
    // The process dies here: no apply, no fail.

    const early = await begin(sql, id, worker.number);
    expect(early.status).toBe("in_progress");

    await sql`update fsm_idempotency_records set locked_until = now() - interval '1 second' where message_id = ${id}`;
    const retry = await begin(sql, id, worker.number);
    expect(retry).toMatchObject({ status: "claimed", attempt: 2 });
    expect(retry.claim_token).not.toBe(crashed.claim_token);

    const late = await apply(sql, id, crashed.claim_token!, crashed.context!.session,
      [{ op: "event", event: "add_data", payload: { comment: "from the dead" } }], "late");
    expect(late.status).toBe("claim_lost");

    const done = await apply(sql, id, retry.claim_token!, retry.context!.session,
      [{ op: "event", event: "add_data", payload: { comment: "retried" } }], "Saved.");
    expect(done.status).toBe("applied");
    const [record] = await sql`select status, attempts, reply from fsm_idempotency_records where message_id = ${id}`;
    expect(record).toEqual({ status: "completed", attempts: 2, reply: "Saved." });
  });

  it("never leaves an effect without its record: a failing apply rolls back both", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const id = messageId();
    const b = await begin(sql, id, worker.number);
    // A malformed step (not a refusal the FSM knows) aborts the whole transaction.
    await expect(apply(sql, id, b.claim_token!, b.context!.session, [
      { op: "event", event: "add_data", payload: { comment: "kept?" } },
      { op: "resolve_clarification", id: "not-a-uuid", status: "answered" },
    ], "never stored")).rejects.toMatchObject({ code: "22P02" });
    expect((await sessionRow(sql, session.id)).session_metadata).toEqual({});
    const [record] = await sql`select status from fsm_idempotency_records where message_id = ${id}`;
    expect(record.status).toBe("processing");

    const failed = await sql`select fsm_fail_message(${id}, ${b.claim_token!}, 'boom', 'Sorry, something went wrong.') as r`;
    expect(failed[0].r).toEqual({ status: "failed" });
    expect(await begin(sql, id, worker.number)).toEqual({
      status: "duplicate", outcome: "failed", reply: "Sorry, something went wrong.",
    });
  });
});

describe("one worker's messages", () => {
  it("apply one at a time: a message routed on a stale state gets a conflict and the fresh context", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data", { metadata: { comments: ["painted"] } });
    const [a, b] = [messageId(), messageId()];
    const ba = await begin(sql, a, worker.number);
    const bb = await begin(sql, b, worker.number);
    expect((await apply(sql, a, ba.claim_token!, ba.context!.session,
      [{ op: "event", event: "request_confirmation" }], "Confirm?")).status).toBe("applied");
    const second = await apply(sql, b, bb.claim_token!, bb.context!.session,
      [{ op: "event", event: "add_data", payload: { comment: "routed on the old state" } }], "x");
    expect(second.status).toBe("conflict");
    expect(second.context!.session).toMatchObject({ id: session.id, fsm_state: "confirmation_pending", version: 1 });
    // Routed again on the fresh state, it applies.
    expect((await apply(sql, b, bb.claim_token!, second.context!.session,
      [{ op: "event", event: "add_data", payload: { comment: "routed again" } }], "Added.")).status).toBe("applied");
  });

  it("two messages that both find no session cannot both open one", async () => {
    const worker = await newWorker(sql);
    const ids = [messageId(), messageId()];
    const claims = await Promise.all(ids.map((id) => begin(sql, id, worker.number)));
    const results = await Promise.all(claims.map((c, i) =>
      apply(sql, ids[i], c.claim_token!, null,
        [{ op: "start" }, { op: "event", event: "start_update" }], "Which task?")));
    expect(results.map((r) => r.status).sort()).toEqual(["applied", "conflict"]);
    expect(await sql`select 1 from progress_update_sessions where worker_id = ${worker.id}`).toHaveLength(1);
  });

  it("a refused step changes nothing but is logged, and the claim stays open for an honest reply", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const id = messageId();
    const b = await begin(sql, id, worker.number);
    const r = await apply(sql, id, b.claim_token!, b.context!.session, [
      { op: "event", event: "add_data", payload: { comment: "fine" } },
      { op: "event", event: "add_data", payload: { progress_percent: 140 } },
    ], "promised");
    expect(r).toMatchObject({ status: "rejected", error_code: "FS004" });
    expect((await sessionRow(sql, session.id)).session_metadata).toEqual({});
    const [log] = await sql`select success, error_code, correlation_id from fsm_transition_log where session_id = ${session.id}`;
    expect(log).toEqual({ success: false, error_code: "FS004", correlation_id: id });
    expect((await apply(sql, id, b.claim_token!, b.context!.session, [], "A percentage is 0 to 100.")).status)
      .toBe("applied");
  });
});

describe("50 concurrent transitions on one session", () => {
  it("are serialized by the row lock: none lost, the version counts them all", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      transition(sql, session.id, "add_data", { payload: { comment: `c${i}` } })));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(results.map((r) => r.session.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const row = await sessionRow(sql, session.id);
    expect(row.version).toBe(50);
    expect(new Set(row.session_metadata.comments)).toEqual(new Set(Array.from({ length: 50 }, (_, i) => `c${i}`)));
    expect(row.transition_history).toHaveLength(50);
    const [{ n }] = await sql`select count(*)::int as n from fsm_transition_log where session_id = ${session.id} and success`;
    expect(n).toBe(50);
  });

  it("with the same expected version: exactly one wins, the rest are refused as stale", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      transition(sql, session.id, "add_data", { version: 0, payload: { comment: `c${i}` } })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok).every((r) => r.error_code === "FS002")).toBe(true);
    expect((await sessionRow(sql, session.id)).version).toBe(1);
  });
});

describe("timeouts seen at the door", () => {
  it("closes a session idle past the timeout when the worker writes, before any cleanup ran, and says so", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data", { idleFor: "31 minutes" });
    const id = messageId();
    const b = await begin(sql, id, worker.number);
    expect(b.context!.session).toBeNull();
    expect(b.context!.unnotified_closure).toMatchObject({ session_id: session.id, closure_reason: "timeout" });
    expect(await sessionRow(sql, session.id)).toMatchObject({ fsm_state: "abandoned", closure_reason: "timeout" });
    await apply(sql, id, b.claim_token!, null, [{ op: "mark_notified", session_id: session.id }], "Your last update was closed.");
    const again = await begin(sql, messageId(), worker.number);
    expect(again.context!.unnotified_closure).toBeNull();
  });
});
