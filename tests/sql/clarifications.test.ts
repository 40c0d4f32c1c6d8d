import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply, begin, connect, craftSession, messageId, newWorker, type Sql } from "../support/db.ts";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterAll(() => sql.end());

const options = [{ key: "comment", label: "Add it as a comment" }, { key: "incident", label: "Report an incident" }];

async function create(workerId: string, sessionId: string | null = null) {
  const [{ c }] = await sql`
    select fsm_create_clarification(${workerId}, 'Comment or incident?', ${sql.json(options)},
                                    'there is a problem', ${sessionId}) as c`;
  return c as { id: string; status: string; expires_at: string; created_at: string };
}
async function pending(workerId: string) {
  const [{ c }] = await sql`select fsm_get_pending_clarification(${workerId}) as c`;
  return c as { id: string } | null;
}

describe("clarifications", () => {
  it("are created pending with the options and the original message, expiring after 5 minutes", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    const c = await create(worker.id, session.id);
    expect(c).toMatchObject({ status: "pending", options, original_message: "there is a problem", session_id: session.id });
    const [{ seconds }] = await sql`select extract(epoch from expires_at - created_at)::int as seconds
                                      from fsm_clarification_requests where id = ${c.id}`;
    expect(seconds).toBe(300);
    expect(await pending(worker.id)).toMatchObject({ id: c.id });
  });

  it("allow one pending per worker", async () => {
    const worker = await newWorker(sql);
    await create(worker.id);
    await expect(create(worker.id)).rejects.toMatchObject({ code: "FS006" });
    const other = await newWorker(sql);
    await create(other.id);
  });

  it("refuse bad input with FS004", async () => {
    const worker = await newWorker(sql);
    await expect(sql`select fsm_create_clarification(${worker.id}, 'q?', ${sql.json([{ key: "only one" }])}, 'm')`)
      .rejects.toMatchObject({ code: "FS004" });
  });

  it("are answered once; a second answer or a cancel after it is refused", async () => {
    const worker = await newWorker(sql);
    const c = await create(worker.id);
    const [{ a }] = await sql`select fsm_answer_clarification(${c.id}, '1', ${sql.json(options[0])}) as a`;
    expect(a).toMatchObject({ status: "answered", answer: "1", chosen_option: options[0] });
    expect(a.resolved_at).not.toBeNull();
    await expect(sql`select fsm_answer_clarification(${c.id}, '2')`).rejects.toMatchObject({ code: "FS010" });
    await expect(sql`select fsm_cancel_clarification(${c.id})`).rejects.toMatchObject({ code: "FS010" });
    expect(await pending(worker.id)).toBeNull();
  });

  it("can be cancelled, which frees the worker for a new one", async () => {
    const worker = await newWorker(sql);
    const c = await create(worker.id);
    const [{ x }] = await sql`select fsm_cancel_clarification(${c.id}) as x`;
    expect(x.status).toBe("cancelled");
    expect((await create(worker.id)).status).toBe("pending");
  });

  it("expire by their time even before the cleanup runs, and cannot be answered then", async () => {
    const worker = await newWorker(sql);
    const c = await create(worker.id);
    await sql`update fsm_clarification_requests set expires_at = now() - interval '1 second' where id = ${c.id}`;
    expect(await pending(worker.id)).toBeNull();
    await expect(sql`select fsm_answer_clarification(${c.id}, '1')`).rejects.toMatchObject({ code: "FS010" });
    // A new one may be created: the stale one is marked expired on the way.
    expect((await create(worker.id)).status).toBe("pending");
    const [old] = await sql`select status from fsm_clarification_requests where id = ${c.id}`;
    expect(old.status).toBe("expired");
  });

  it("are created, answered and cancelled inside a message's apply, atomically with its effects", async () => {
    const worker = await newWorker(sql);
    await craftSession(sql, worker, "collecting_data");
    const m1 = messageId();
    const b1 = await begin(sql, m1, worker.number);
    const asked = await apply(sql, m1, b1.claim_token!, b1.context!.session, [{
      op: "clarify", question: "Comment or incident?", options, original_message: "there is a problem",
    }], "1. comment  2. incident");
    expect(asked.status).toBe("applied");

    const m2 = messageId();
    const b2 = await begin(sql, m2, worker.number);
    const clarification = b2.context!.clarification!;
    expect(clarification).toMatchObject({ status: "pending", original_message: "there is a problem" });
    const answered = await apply(sql, m2, b2.claim_token!, b2.context!.session, [
      { op: "resolve_clarification", id: clarification.id, status: "answered", answer: "1", chosen_option: options[0] },
      { op: "event", event: "add_data", payload: { comment: "there is a problem" } },
    ], "Added as a comment.");
    expect(answered.status).toBe("applied");
    const [row] = await sql`select status from fsm_clarification_requests where id = ${clarification.id}`;
    expect(row.status).toBe("answered");

    // Another worker cannot resolve this worker's clarification.
    const intruder = await newWorker(sql);
    const m3 = messageId();
    const b3 = await begin(sql, m3, intruder.number);
    const stolen = await apply(sql, m3, b3.claim_token!, null,
      [{ op: "resolve_clarification", id: clarification.id, status: "cancelled" }], "x");
    expect(stolen).toMatchObject({ status: "rejected", error_code: "FS010" });
  });
});
