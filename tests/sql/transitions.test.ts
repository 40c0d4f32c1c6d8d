import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_STATES, connect, craftSession, newWorker, OPEN_STATES, sessionRow, type Sql, transition } from "../support/db.ts";

let sql: Sql;
let rules: { from_state: string; event: string; to_state: string }[];
let events: string[];

beforeAll(async () => {
  sql = connect();
  rules = [...await sql`select from_state, event, to_state from fsm_transition_rules order by 1, 2`] as typeof rules;
  events = [...new Set(rules.map((r) => r.event))];
});
afterAll(() => sql.end());

function payloadFor(event: string, worker: { tasks: string[] }) {
  switch (event) {
    case "select_task": return { task_id: worker.tasks[1] };
    case "add_data": return { comment: "wall painted", progress_percent: 40 };
    case "abandon": return { closure_reason: "cancelled" };
    default: return {};
  }
}

describe("the rule table", () => {
  it("holds the reference design's rules, force-abandon from every open state included", async () => {
    expect(rules.length).toBeGreaterThanOrEqual(15);
    for (const state of OPEN_STATES) {
      expect(rules).toContainEqual({ from_state: state, event: "abandon", to_state: "abandoned" });
    }
    expect(rules.filter((r) => r.from_state === "completed" || r.from_state === "abandoned")).toEqual([]);
  });
});

describe("each valid transition", () => {
  it("moves the state, bumps the version, appends history and an audit row", async () => {
    for (const rule of rules) {
      const worker = await newWorker(sql);
      const session = await craftSession(sql, worker, rule.from_state, { metadata: { comments: ["collected"] } });
      const correlationId = randomUUID();
      const result = await transition(sql, session.id, rule.event, {
        version: 0,
        payload: payloadFor(rule.event, worker),
        correlationId,
      });
      expect(result, `${rule.from_state} --${rule.event}-->`).toMatchObject({ ok: true });
      expect(result.session.fsm_state).toBe(rule.to_state);
      expect(result.session.version).toBe(1);

      const row = await sessionRow(sql, session.id);
      expect(row.fsm_state).toBe(rule.to_state);
      expect(row.transition_history.at(-1)).toMatchObject({
        from: rule.from_state, to: rule.to_state, event: rule.event, correlation_id: correlationId,
      });
      const log = await sql`select from_state, to_state, event, success, correlation_id from fsm_transition_log
                             where session_id = ${session.id}`;
      expect([...log]).toEqual([{
        from_state: rule.from_state, to_state: rule.to_state, event: rule.event, success: true,
        correlation_id: correlationId,
      }]);
    }
  });

  it("closes the session with its reason on the terminal moves", async () => {
    const worker = await newWorker(sql);
    const s = await craftSession(sql, worker, "collecting_data", {});
    const result = await transition(sql, s.id, "abandon", { payload: { closure_reason: "cancelled" } });
    expect(result.session).toMatchObject({ fsm_state: "abandoned", closure_reason: "cancelled" });
    expect((await sessionRow(sql, s.id)).closed_at).not.toBeNull();
  });
});

describe("each invalid transition", () => {
  it("is refused with FS001, changes nothing, and is logged with success = false", async () => {
    let refused = 0;
    for (const state of OPEN_STATES) {
      for (const event of [...events, "teleport"]) {
        if (rules.some((r) => r.from_state === state && r.event === event)) continue;
        const worker = await newWorker(sql);
        const session = await craftSession(sql, worker, state, { metadata: { comments: ["c"] } });
        const before = await sessionRow(sql, session.id);
        const result = await transition(sql, session.id, event, { payload: payloadFor(event, worker) });
        expect(result, `${state} --${event}-->`).toMatchObject({ ok: false, error_code: "FS001" });
        expect(result.error).toMatch(/invalid transition/);
        expect(await sessionRow(sql, session.id)).toEqual(before);
        const log = await sql`select from_state, to_state, event, success, error_code from fsm_transition_log
                               where session_id = ${session.id}`;
        expect([...log]).toEqual([{ from_state: state, to_state: null, event, success: false, error_code: "FS001" }]);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(20);
  });

  it("is refused on a closed session, whatever the event", async () => {
    for (const state of ALL_STATES.filter((s) => !OPEN_STATES.includes(s))) {
      const worker = await newWorker(sql);
      const session = await craftSession(sql, worker, state);
      for (const event of events) {
        const result = await transition(sql, session.id, event, { payload: payloadFor(event, worker) });
        expect(result).toMatchObject({ ok: false, error_code: "FS404" });
      }
      expect((await sessionRow(sql, session.id)).fsm_state).toBe(state);
    }
  });
});

describe("the version check", () => {
  it("refuses a stale expected version with FS002 and changes nothing", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    expect(await transition(sql, session.id, "add_data", { version: 0, payload: { comment: "one" } }))
      .toMatchObject({ ok: true, session: { version: 1 } });
    const stale = await transition(sql, session.id, "add_data", { version: 0, payload: { comment: "two" } });
    expect(stale).toMatchObject({ ok: false, error_code: "FS002" });
    const row = await sessionRow(sql, session.id);
    expect(row.version).toBe(1);
    expect(row.session_metadata.comments).toEqual(["one"]);
  });
});

describe("side effects", () => {
  it("refuses a percentage outside 0-100 or not a whole number, changing nothing", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "collecting_data");
    for (const bad of [101, -1, 55.5, "60", 1000]) {
      const result = await transition(sql, session.id, "add_data", { payload: { progress_percent: bad } });
      expect(result, String(bad)).toMatchObject({ ok: false, error_code: "FS004" });
    }
    const row = await sessionRow(sql, session.id);
    expect(row.version).toBe(0);
    expect(row.session_metadata).toEqual({});
  });

  it("only lets a worker select their own open tasks", async () => {
    const alice = await newWorker(sql);
    const bob = await newWorker(sql);
    const session = await craftSession(sql, alice, "task_selection");
    expect(await transition(sql, session.id, "select_task", { payload: { task_id: bob.tasks[0] } }))
      .toMatchObject({ ok: false, error_code: "FS005" });
    await sql`update tasks set status = 'done' where id = ${alice.tasks[0]}`;
    expect(await transition(sql, session.id, "select_task", { payload: { task_id: alice.tasks[0] } }))
      .toMatchObject({ ok: false, error_code: "FS005" });
    expect(await transition(sql, session.id, "select_task", { payload: { task_id: "not-a-uuid" } }))
      .toMatchObject({ ok: false, error_code: "FS004" });
    expect(await transition(sql, session.id, "select_task", { payload: { task_id: alice.tasks[1] } }))
      .toMatchObject({ ok: true, session: { fsm_state: "awaiting_action", task_id: alice.tasks[1] } });
  });

  it("records photos, comments and percentage, and on confirm the update and the task's new percentage", async () => {
    const worker = await newWorker(sql);
    const session = await craftSession(sql, worker, "awaiting_action", { taskId: worker.tasks[2] });
    let r = await transition(sql, session.id, "add_data", {
      payload: { photos: [{ url: "https://media.example/1.jpg", content_type: "image/jpeg", caption: "north wall" },
                          { url: "https://media.example/2.jpg", content_type: "image/png" }] },
    });
    expect(r).toMatchObject({ ok: true, session: { fsm_state: "collecting_data", photo_count: 2 } });
    r = await transition(sql, session.id, "add_data", { payload: { comment: "first coat done", progress_percent: 60 } });
    expect(r.ok).toBe(true);
    r = await transition(sql, session.id, "request_confirmation");
    expect(r.session.fsm_state).toBe("confirmation_pending");
    r = await transition(sql, session.id, "confirm");
    expect(r.session).toMatchObject({ fsm_state: "completed", closure_reason: "completed" });

    const [update] = await sql`select * from progress_updates where session_id = ${session.id}`;
    expect(update).toMatchObject({ task_id: worker.tasks[2], progress_percent: 60, comment: "first coat done", photo_count: 2 });
    const [task] = await sql`select progress_percent from tasks where id = ${worker.tasks[2]}`;
    expect(task.progress_percent).toBe(60);
  });

  it("will not confirm an empty update, and files an incident from its description", async () => {
    const worker = await newWorker(sql);
    const empty = await craftSession(sql, worker, "collecting_data");
    expect(await transition(sql, empty.id, "request_confirmation")).toMatchObject({ ok: false, error_code: "FS009" });
    await transition(sql, empty.id, "abandon", { payload: { closure_reason: "cancelled" } });

    const incident = await craftSession(sql, worker, "collecting_data", { sessionType: "incident" });
    await transition(sql, incident.id, "add_data", { payload: { comment: "scaffolding is loose" } });
    await transition(sql, incident.id, "request_confirmation");
    expect(await transition(sql, incident.id, "confirm")).toMatchObject({ ok: true, session: { fsm_state: "completed" } });
    const [row] = await sql`select description, task_id from incidents where session_id = ${incident.id}`;
    expect(row).toEqual({ description: "scaffolding is loose", task_id: worker.tasks[0] });
  });

  it("keeps at most one open session per worker, in the database", async () => {
    const worker = await newWorker(sql);
    await craftSession(sql, worker, "collecting_data");
    await expect(craftSession(sql, worker, "idle")).rejects.toMatchObject({ code: "23505" });
    await craftSession(sql, worker, "abandoned");
  });
});
