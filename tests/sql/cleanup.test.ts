import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, craftSession, messageId, newWorker, sessionRow, type Sql } from "../support/db.ts";

let sql: Sql;
beforeAll(() => {
  sql = connect();
});
afterEach(() => sql`update fsm_settings set cleanup_batch_size = default, cleanup_time_budget = default`);
afterAll(() => sql.end());

async function cleanup() {
  const [{ r }] = await sql`select cleanup_expired_fsm_records() as r`;
  return r as Record<string, number>;
}

async function oldRecord(workerId: string, age: string, status = "completed") {
  const id = messageId();
  await sql`insert into fsm_idempotency_records (message_id, worker_id, status, locked_until, processed_at, created_at)
            values (${id}, ${workerId}, ${status},
                    ${status === "processing" ? sql`now() - ${age}::interval + interval '30 seconds'` : null},
                    ${status === "processing" ? null : sql`now() - ${age}::interval`},
                    now() - ${age}::interval)`;
  return id;
}

describe("cleanup_expired_fsm_records()", () => {
  it("abandons sessions idle past the timeout with closure_reason 'timeout', logged like any transition", async () => {
    const worker = await newWorker(sql);
    const stale = await craftSession(sql, worker, "collecting_data", { idleFor: "31 minutes" });
    const fresh = await craftSession(sql, await newWorker(sql), "collecting_data", { idleFor: "29 minutes" });
    const result = await cleanup();
    expect(result.sessions_timed_out).toBeGreaterThanOrEqual(1);
    expect(await sessionRow(sql, stale.id)).toMatchObject({ fsm_state: "abandoned", closure_reason: "timeout", version: 1 });
    expect((await sessionRow(sql, fresh.id)).fsm_state).toBe("collecting_data");
    const log = await sql`select from_state, to_state, event, success from fsm_transition_log where session_id = ${stale.id}`;
    expect([...log]).toEqual([{ from_state: "collecting_data", to_state: "abandoned", event: "abandon", success: true }]);
    expect((await sessionRow(sql, stale.id)).transition_history.at(-1)).toMatchObject({ from: "collecting_data", to: "abandoned" });
  });

  it("expires pending clarifications past their time", async () => {
    const worker = await newWorker(sql);
    const [c] = await sql`
      insert into fsm_clarification_requests (worker_id, question, options, original_message, expires_at)
      values (${worker.id}, 'q?', '[{"key":"a"},{"key":"b"}]', 'm', now() - interval '1 second') returning id`;
    expect((await cleanup()).clarifications_expired).toBeGreaterThanOrEqual(1);
    const [row] = await sql`select status, resolved_at from fsm_clarification_requests where id = ${c.id}`;
    expect(row.status).toBe("expired");
    expect(row.resolved_at).not.toBeNull();
  });

  it("deletes idempotency records past the 7-day retention and keeps younger ones", async () => {
    const worker = await newWorker(sql);
    const old = await oldRecord(worker.id, "7 days 1 minute");
    const young = await oldRecord(worker.id, "6 days 23 hours");
    expect((await cleanup()).idempotency_records_deleted).toBeGreaterThanOrEqual(1);
    expect(await sql`select 1 from fsm_idempotency_records where message_id = ${old}`).toHaveLength(0);
    expect(await sql`select 1 from fsm_idempotency_records where message_id = ${young}`).toHaveLength(1);
  });

  it("works in bounded batches and starts none once its time budget is spent", async () => {
    const worker = await newWorker(sql);
    for (let i = 0; i < 25; i++) await oldRecord(worker.id, "8 days");
    const count = async () =>
      (await sql`select count(*)::int as n from fsm_idempotency_records
                  where worker_id = ${worker.id} and created_at < now() - interval '7 days'`)[0].n;

    await sql`update fsm_settings set cleanup_batch_size = 10, cleanup_time_budget = '1 microsecond'`;
    const spent = await cleanup();
    expect(await count()).toBe(25); // the budget was gone before the first batch: the next run does it
    expect(spent.idempotency_records_deleted).toBe(0);

    await sql`update fsm_settings set cleanup_time_budget = default`;
    const result = await cleanup();
    expect(result.idempotency_records_deleted).toBeGreaterThanOrEqual(25); // batches of 10, 10 and 5
    expect(await count()).toBe(0);
  });

  it("returns what it did as counts", async () => {
    expect(Object.keys(await cleanup()).sort()).toEqual([
      "claims_failed", "clarifications_expired", "cron_history_deleted", "duration_ms", "idempotency_records_deleted",
      "sessions_orphaned", "sessions_timed_out", "transition_log_deleted",
    ]);
  });
});

describe("recover_orphaned_sessions()", () => {
  async function recover() {
    const [{ r }] = await sql`select recover_orphaned_sessions() as r`;
    return r as { sessions_orphaned: number; claims_failed: number };
  }

  it("closes open sessions that can no longer go anywhere, with closure_reason 'orphaned'", async () => {
    const stuckInIdle = await craftSession(sql, await newWorker(sql), "idle", { idleFor: "31 minutes" });
    const goneWorker = await newWorker(sql);
    const ofInactive = await craftSession(sql, goneWorker, "collecting_data", { idleFor: "31 minutes" });
    await sql`update workers set is_active = false where id = ${goneWorker.id}`;
    const closedTaskWorker = await newWorker(sql);
    const ofClosedTask = await craftSession(sql, closedTaskWorker, "awaiting_action", { idleFor: "40 minutes" });
    await sql`update tasks set status = 'cancelled' where id = ${closedTaskWorker.tasks[0]}`;
    const healthy = await craftSession(sql, await newWorker(sql), "collecting_data", { idleFor: "31 minutes" });
    const recentIdle = await craftSession(sql, await newWorker(sql), "idle", { idleFor: "5 minutes" });

    expect((await recover()).sessions_orphaned).toBeGreaterThanOrEqual(3);
    for (const s of [stuckInIdle, ofInactive, ofClosedTask]) {
      expect(await sessionRow(sql, s.id)).toMatchObject({ fsm_state: "abandoned", closure_reason: "orphaned" });
    }
    // Idle too long but healthy: that is the timeout's business, not recovery's.
    expect((await sessionRow(sql, healthy.id)).fsm_state).toBe("collecting_data");
    expect((await sessionRow(sql, recentIdle.id)).fsm_state).toBe("idle");
  });

  it("records claims abandoned by a crash as failed, so no accepted message stays in limbo", async () => {
    const worker = await newWorker(sql);
    const abandoned = await oldRecord(worker.id, "45 minutes", "processing");
    const live = messageId();
    await sql`insert into fsm_idempotency_records (message_id, worker_id, locked_until)
              values (${live}, ${worker.id}, now() + interval '30 seconds')`;
    expect((await recover()).claims_failed).toBeGreaterThanOrEqual(1);
    const [a] = await sql`select status, error from fsm_idempotency_records where message_id = ${abandoned}`;
    expect(a.status).toBe("failed");
    expect(a.error).toMatch(/lease expired/);
    const [l] = await sql`select status from fsm_idempotency_records where message_id = ${live}`;
    expect(l.status).toBe("processing");
  });
});

describe("the monitoring views", () => {
  it("count what the reference design's queries count, and the success criteria read them", async () => {
    const worker = await newWorker(sql);
    const stuck = await craftSession(sql, worker, "collecting_data", { idleFor: "3 hours" });
    const [{ n: stuckBefore }] = await sql`select count(*)::int as n from fsm_stuck_sessions where id = ${stuck.id}`;
    expect(stuckBefore).toBe(1);
    const [criterion] = await sql`select met from fsm_success_criteria where criterion = 'no_stuck_sessions'`;
    expect(criterion.met).toBe(false);

    await cleanup();
    expect(await sql`select 1 from fsm_stuck_sessions`).toHaveLength(0);
    const criteria = await sql`select criterion, met from fsm_success_criteria order by criterion`;
    expect(criteria.map((c) => c.criterion)).toEqual([
      "clarifications_answered", "clean_abandonment", "no_double_execution", "no_invalid_transitions_applied",
      "no_stuck_sessions",
    ]);
    for (const c of criteria.filter((c) => c.criterion !== "clarifications_answered")) expect(c, c.criterion).toMatchObject({ met: true });

    const [timeouts] = await sql`select sessions from fsm_abandoned_by_reason where closure_reason = 'timeout'`;
    expect(Number(timeouts.sessions)).toBeGreaterThanOrEqual(1);
    const [common] = await sql`select transitions from fsm_common_transitions
                                where from_state = 'collecting_data' and event = 'abandon'`;
    expect(Number(common.transitions)).toBeGreaterThanOrEqual(1);
    const [eff] = await sql`select total, answered, expired, cancelled, pending from fsm_clarification_effectiveness`;
    expect(Number(eff.total)).toBe(Number(eff.answered) + Number(eff.expired) + Number(eff.cancelled) + Number(eff.pending));
  });
});
