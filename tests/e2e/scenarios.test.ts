// The reference design's 14 scenarios, and the cases around them, end to end: signed Twilio requests
// over real HTTP to the function served by Deno, on a real PostgreSQL; the replies and the rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, newWorker, type Sql, type Worker } from "../support/db.ts";
import { conversation, newMessageSid, photo, send, startWebhook, type Webhook } from "../support/webhook.ts";

let sql: Sql;
let webhook: Webhook;

beforeAll(async () => {
  sql = connect();
  webhook = await startWebhook();
});
afterAll(async () => {
  await webhook?.stop();
  await sql?.end();
});

async function openSession(worker: Worker) {
  const [s] = await sql`select * from progress_update_sessions
                         where worker_id = ${worker.id} and fsm_state not in ('completed', 'abandoned')`;
  return s;
}
async function sessions(worker: Worker) {
  return await sql`select * from progress_update_sessions where worker_id = ${worker.id} order by created_at`;
}

describe("the reference design's scenarios", () => {
  it("1. happy path: update, task, photo, comment, percentage, done, yes", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    expect(await say("update")).toMatch(/Which task\?[\s\S]*1\. Task 1 \(0%\)[\s\S]*3\. Task 3/);
    expect(await say("2")).toMatch(/Updating "Task 2"/);
    expect(await say("", { media: [photo(1)] })).toMatch(/Photo saved \(1 so far\)/);
    expect(await say("First coat on the north wall")).toMatch(/Comment saved/);
    expect(await say("60%")).toMatch(/Progress set to 60%/);
    const summary = await say("done");
    expect(summary).toMatch(/confirm the update of "Task 2"/);
    expect(summary).toMatch(/progress: 60%[\s\S]*photos: 1[\s\S]*comment: First coat on the north wall/);
    expect(await say("yes")).toMatch(/Recorded, thank you! "Task 2" is now at 60%/);

    const [update] = await sql`select * from progress_updates where worker_id = ${w.id}`;
    expect(update).toMatchObject({ task_id: w.tasks[1], progress_percent: 60, comment: "First coat on the north wall", photo_count: 1 });
    const [task] = await sql`select progress_percent from tasks where id = ${w.tasks[1]}`;
    expect(task.progress_percent).toBe(60);
    const [s] = await sessions(w);
    expect(s).toMatchObject({ fsm_state: "completed", closure_reason: "completed" });
    const [p] = await sql`select media_url, content_type from photos where session_id = ${s.id}`;
    expect(p).toEqual({ media_url: photo(1).url, content_type: "image/jpeg" });
    expect(s.transition_history.map((h: { event: string }) => h.event)).toEqual([
      "start", "start_update", "select_task", "add_data", "add_data", "add_data", "request_confirmation", "confirm",
    ]);
  });

  it("2. minimal update: a comment only", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    expect(await say("update 1")).toMatch(/Updating "Task 1"/);
    await say("All good today");
    expect(await say("done")).toMatch(/comment: All good today/);
    expect(await say("yes")).toMatch(/Update of "Task 1" saved/);
    const [update] = await sql`select progress_percent, comment, photo_count from progress_updates where worker_id = ${w.id}`;
    expect(update).toEqual({ progress_percent: null, comment: "All good today", photo_count: 0 });
  });

  it("3. 'there is a problem' mid-update is ambiguous: the bot asks, and the answer applies", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("Plastering done");
    const question = await say("there is a problem with the pipes");
    expect(question).toMatch(/Do you want to:\n1\. Add it as a comment\n2\. Report an incident/);
    const [c] = await sql`select status, original_message, options from fsm_clarification_requests where worker_id = ${w.id}`;
    expect(c).toMatchObject({ status: "pending", original_message: "there is a problem with the pipes" });

    expect(await say("2")).toMatch(/Incident on "Task 1"[\s\S]*Noted/);
    const [old, incident] = await sessions(w);
    expect(old).toMatchObject({ fsm_state: "abandoned", closure_reason: "task_switched" });
    expect(incident).toMatchObject({ session_type: "incident", fsm_state: "collecting_data", task_id: w.tasks[0] });
    expect(await say("done")).toMatch(/confirm the incident on "Task 1":\n• there is a problem with the pipes/);
    expect(await say("yes")).toMatch(/Incident on "Task 1" reported/);
    const [row] = await sql`select description, task_id from incidents where worker_id = ${w.id}`;
    expect(row).toEqual({ description: "there is a problem with the pipes", task_id: w.tasks[0] });
    const [answered] = await sql`select status, answer from fsm_clarification_requests where worker_id = ${w.id}`;
    expect(answered).toEqual({ status: "answered", answer: "2" });
  });

  it("3b. …or the worker meant a comment: no incident is created", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("there is a problem with the paint supply");
    expect(await say("1")).toMatch(/Comment saved/);
    expect((await openSession(w)).session_metadata.comments).toEqual(["there is a problem with the paint supply"]);
    expect(await sql`select 1 from incidents where worker_id = ${w.id}`).toHaveLength(0);
  });

  it("4. switching task mid-update closes the first update and starts the new one", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("", { media: [photo(7)] });
    expect(await say("update 3")).toMatch(/Closed the update of "Task 1"[\s\S]*Updating "Task 3"/);
    const [first, second] = await sessions(w);
    expect(first).toMatchObject({ fsm_state: "abandoned", closure_reason: "task_switched" });
    expect(second).toMatchObject({ fsm_state: "awaiting_action", task_id: w.tasks[2] });
    // What was collected stays: the photo is still stored on the closed session.
    expect(await sql`select 1 from photos where session_id = ${first.id}`).toHaveLength(1);
  });

  it("5. explicit cancellation", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 2");
    await say("50%");
    expect(await say("cancel")).toMatch(/Cancelled: nothing was recorded/);
    const [s] = await sessions(w);
    expect(s).toMatchObject({ fsm_state: "abandoned", closure_reason: "cancelled" });
    expect(await say("cancel")).toMatch(/Nothing to cancel/);
    expect(await sql`select 1 from progress_updates where worker_id = ${w.id}`).toHaveLength(0);
  });

  it("6. timeout: an idle session is abandoned by the cleanup and the worker is told when back", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("started");
    await sql`update progress_update_sessions set last_activity = now() - interval '31 minutes' where worker_id = ${w.id}`;
    await sql`select cleanup_expired_fsm_records()`;
    const [s] = await sessions(w);
    expect(s).toMatchObject({ fsm_state: "abandoned", closure_reason: "timeout" });
    const back = await say("hi");
    expect(back).toMatch(/^Your update of "Task 1" was closed after 30 minutes without activity and was not recorded\./);
    expect(back).toMatch(/Your open tasks/);
    expect(await say("hi")).not.toMatch(/was closed/);
  });

  it("7. clarification timeout: after 5 minutes the question lapses and the next message is taken as it is", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("there is a problem here");
    await sql`update fsm_clarification_requests set expires_at = now() - interval '1 second' where worker_id = ${w.id}`;
    // "2" is no longer an answer: mid-update it is read afresh (a task number, which the bot asks about).
    expect(await say("painted the door")).toMatch(/Comment saved/);
    await sql`select cleanup_expired_fsm_records()`;
    const [c] = await sql`select status from fsm_clarification_requests where worker_id = ${w.id}`;
    expect(c.status).toBe("expired");
    expect(await sql`select 1 from incidents where worker_id = ${w.id}`).toHaveLength(0);
  });

  it("8. a duplicate delivery gets the same reply and does nothing twice", async () => {
    const w = await newWorker(sql);
    await conversation(webhook, w.number)("update 1");
    const messageSid = newMessageSid();
    const first = await send(webhook, w.number, "", { media: [photo(3)], messageSid });
    const again = await send(webhook, w.number, "", { media: [photo(3)], messageSid });
    expect(first.messages).toEqual(["Photo saved (1 so far). Send more, a comment, a percentage, or \"done\"."]);
    expect(again.messages).toEqual(first.messages);
    expect(await sql`select 1 from photos where message_id = ${messageSid}`).toHaveLength(1);
    expect((await openSession(w)).version).toBe(2); // select_task, add_data: the copy added nothing
  });

  it("9. concurrent messages: photos picked together all land, in one acknowledgement", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 2");
    const burst = await Promise.all([1, 2, 3, 4, 5].map((n) => send(webhook, w.number, "", { media: [photo(n)] })));
    expect(burst.every((b) => b.status === 200)).toBe(true);
    const replies = burst.flatMap((b) => b.messages);
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatch(/Photo saved/);
    const s = await openSession(w);
    expect(await sql`select 1 from photos where session_id = ${s.id}`).toHaveLength(5);
    expect(s.version).toBe(1 + 5); // select_task, then one add_data per photo
    // A comment sent at the same moment as more photos is applied too, on the state they left.
    const mixed = await Promise.all([
      send(webhook, w.number, "", { media: [photo(6)] }),
      send(webhook, w.number, "east side done"),
    ]);
    expect(mixed.every((m) => m.status === 200)).toBe(true);
    const after = await openSession(w);
    expect(after.session_metadata.comments).toEqual(["east side done"]);
    expect(await sql`select 1 from photos where session_id = ${s.id}`).toHaveLength(6);
  });

  it("10. P0 commands override everything: cancel during a clarification, help during confirmation", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    await say("wall done");
    expect(await say("done")).toMatch(/confirm/);
    expect(await say("help")).toMatch(/You can say/);
    expect((await openSession(w)).fsm_state).toBe("confirmation_pending");
    await say("no");
    await say("there is a problem");
    expect(await say("stop")).toMatch(/Cancelled/);
    const [s] = await sessions(w);
    expect(s).toMatchObject({ fsm_state: "abandoned", closure_reason: "cancelled" });
    const [c] = await sql`select status from fsm_clarification_requests where worker_id = ${w.id}`;
    expect(c.status).toBe("cancelled");
  });

  it("11. low confidence: a near-miss word gets a question, not a guess", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    const question = await say("updte");
    expect(question).toMatch(/Do you want to:\n1\. Start a progress update\n2\. Neither: carry on/);
    expect(await say("1")).toMatch(/Which task\?/);
    expect((await openSession(w)).fsm_state).toBe("task_selection");
  });

  it("12. restart: the function killed mid-conversation comes back and the conversation goes on", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 3");
    await say("35%");
    await webhook.stop("SIGKILL");
    webhook = await startWebhook();
    const again = conversation(webhook, w.number);
    expect(await again("done")).toMatch(/progress: 35%/);
    expect(await again("yes")).toMatch(/"Task 3" is now at 35%/);
  });

  it("12b. a delivery whose processing crashed after the claim is taken over once its lease expires", async () => {
    const w = await newWorker(sql);
    await conversation(webhook, w.number)("update 1");
    const messageSid = newMessageSid();
    // As if a previous instance claimed it and died before applying.
    await sql`insert into fsm_idempotency_records (message_id, worker_id, locked_until)
              values (${messageSid}, ${w.id}, now() + interval '30 seconds')`;
    const during = await send(webhook, w.number, "halfway", { messageSid });
    expect(during.body).toMatch(/<Response\/>/);
    await sql`update fsm_idempotency_records set locked_until = now() - interval '1 second' where message_id = ${messageSid}`;
    const retried = await send(webhook, w.number, "halfway", { messageSid });
    expect(retried.messages.join()).toMatch(/Comment saved/);
    const [r] = await sql`select status, attempts from fsm_idempotency_records where message_id = ${messageSid}`;
    expect(r).toEqual({ status: "completed", attempts: 2 });
  });

  it("13. an invalid move is not made: 'yes' with nothing to confirm changes nothing", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    const before = await openSession(w);
    const reply = await say("done");
    expect(reply).toMatch(/Nothing to send yet/);
    expect((await openSession(w)).version).toBe(before.version);
    const [{ invalid }] = await sql`select count(*)::int as invalid from fsm_transition_log l
      where l.success and l.from_state is not null and not exists (
        select 1 from fsm_transition_rules r where r.from_state = l.from_state and r.event = l.event and r.to_state = l.to_state)`;
    expect(invalid).toBe(0);
  });

  it("14. force abandon from any open state", async () => {
    for (const reach of [["update"], ["update 1"], ["update 1", "note"], ["update 1", "note", "done"]]) {
      const w = await newWorker(sql);
      const say = conversation(webhook, w.number);
      for (const line of reach) await say(line);
      const state = (await openSession(w)).fsm_state;
      expect(await say("cancel"), state).toMatch(/Cancelled/);
      const [s] = await sessions(w);
      expect(s, state).toMatchObject({ fsm_state: "abandoned", closure_reason: "cancelled" });
    }
  });
});

describe("around the scenarios", () => {
  it("refuses an unsigned or wrongly signed request with 403 and stores nothing", async () => {
    const w = await newWorker(sql);
    const unsigned = await send(webhook, w.number, "update", { unsigned: true });
    const forged = await send(webhook, w.number, "update", { token: "not-the-token" });
    expect([unsigned.status, forged.status]).toEqual([403, 403]);
    expect(await sql`select 1 from fsm_idempotency_records where worker_id = ${w.id}`).toHaveLength(0);
  });

  it("accepts a signature over parameters Twilio added without notice", async () => {
    const w = await newWorker(sql);
    const sent = await send(webhook, w.number, "hi", { extra: { ReferralNumMedia: "0", NewParameter2031: "x" } });
    expect(sent.status).toBe(200);
  });

  it("refuses a malformed body with 400 and a clear reason", async () => {
    const w = await newWorker(sql);
    const bad = await send(webhook, w.number, "hi", { extra: { From: "not-a-number" } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/From/);
    const json = await fetch(webhook.url, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(json.status).toBe(415);
    await json.body?.cancel();
  });

  it("tells an unknown number it is not registered, and stores nothing about it", async () => {
    const sent = await send(webhook, "+15559990000", "hello");
    expect(sent.messages.join()).toMatch(/not registered/);
    expect(await sql`select 1 from fsm_idempotency_records where message_id = ${sent.messageSid}`).toHaveLength(0);
  });

  it("checks percentages: out of range is refused and changes nothing", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 1");
    expect(await say("140%")).toMatch(/140% is not possible: send a percentage from 0 to 100/);
    expect(await say("-5%")).toMatch(/not possible/);
    expect((await openSession(w)).fsm_state).toBe("awaiting_action");
  });

  it("stores a photo's caption as a comment", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    await say("update 2");
    expect(await say("Roof tiles replaced on the left", { media: [photo(1), photo(2)] })).toMatch(/Photo saved \(2 so far\)/);
    const s = await openSession(w);
    expect(s.session_metadata.comments).toEqual(["Roof tiles replaced on the left"]);
    const photos = await sql`select caption, media_index from photos where session_id = ${s.id} order by media_index`;
    expect(photos.map((p) => [p.media_index, p.caption])).toEqual([[0, "Roof tiles replaced on the left"], [1, "Roof tiles replaced on the left"]]);
  });

  it("speaks French to a French worker", async () => {
    const w = await newWorker(sql, { language: "fr" });
    const say = conversation(webhook, w.number);
    expect(await say("bonjour")).toMatch(/Bonjour Test ![\s\S]*Vos tâches en cours/);
    expect(await say("maj 1")).toMatch(/Mise à jour de « Task 1 »/);
    expect(await say("Peinture terminée")).toMatch(/Commentaire enregistré/);
    expect(await say("80 %")).toMatch(/Avancement fixé à 80 %/);
    expect(await say("fini")).toMatch(/Confirmez la mise à jour/);
    expect(await say("oui")).toMatch(/Enregistré, merci ! « Task 1 » est à 80 %/);
  });

  it("lets a worker act on their own tasks only, whatever number they send", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    expect(await say("update 9")).toMatch(/There is no task 9/);
    expect(await openSession(w)).toBeUndefined();
  });

  it("reports an incident from scratch: task, description, photo, confirm", async () => {
    const w = await newWorker(sql);
    const say = conversation(webhook, w.number);
    expect(await say("incident")).toMatch(/Which task is the incident about/);
    expect(await say("3")).toMatch(/Incident on "Task 3"/);
    await say("Ladder broke", { media: [photo(9)] });
    expect(await say("done")).toMatch(/confirm the incident on "Task 3":\n• Ladder broke\n• photos: 1/);
    expect(await say("yes")).toMatch(/reported/);
    const [row] = await sql`select description, photo_count from incidents where worker_id = ${w.id}`;
    expect(row).toEqual({ description: "Ladder broke", photo_count: 1 });
  });

  it("logs JSON lines with the correlation id and no full phone number", async () => {
    const w = await newWorker(sql);
    const sent = await send(webhook, w.number, "tasks");
    await new Promise((r) => setTimeout(r, 200));
    const line = webhook.logs().split("\n").find((l) => l.includes(sent.messageSid));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ event: "message_applied", correlation_id: sent.messageSid, intent: "list_tasks" });
    expect(webhook.logs()).not.toContain(w.number);
    const [log] = await sql`select count(*)::int as n from fsm_transition_log where correlation_id = ${sent.messageSid}`;
    expect(log.n).toBe(0); // "tasks" moves nothing; a moving message's id lands in the log:
    const moving = await send(webhook, w.number, "update 1");
    const rows = await sql`select event from fsm_transition_log where correlation_id = ${moving.messageSid} order by id`;
    expect(rows.map((r) => r.event)).toEqual(["start", "select_task"]);
  });
});

describe("the rollout flag", () => {
  it("off: a clear answer, and the FSM tables are not touched", async () => {
    const off = await startWebhook({ ENABLE_FSM: "false" });
    try {
      const w = await newWorker(sql);
      const sent = await send(off, w.number, "update");
      expect(sent.messages.join()).toMatch(/not available for your number yet/);
      expect(await sql`select 1 from fsm_idempotency_records where message_id = ${sent.messageSid}`).toHaveLength(0);
    } finally {
      await off.stop();
    }
  });

  it("a list of numbers: those on it get the bot, the others are forwarded to the legacy webhook", async () => {
    const legacy = await import("node:http").then(({ createServer }) => {
      const received: string[] = [];
      const server = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          received.push(body);
          res.writeHead(200, { "content-type": "text/xml" }).end("<Response><Message>legacy bot</Message></Response>");
        });
      });
      return new Promise<{ url: string; received: string[]; close: () => void }>((done) =>
        server.listen(0, "127.0.0.1", () =>
          done({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/legacy`, received, close: () => server.close() })));
    });
    const inList = await newWorker(sql);
    const outside = await newWorker(sql);
    const partial = await startWebhook({ ENABLE_FSM: inList.number, LEGACY_WEBHOOK_URL: legacy.url });
    try {
      expect((await send(partial, inList.number, "tasks")).messages.join()).toMatch(/Your open tasks/);
      const forwarded = await send(partial, outside.number, "tasks");
      expect(forwarded.messages).toEqual(["legacy bot"]);
      expect(legacy.received).toHaveLength(1);
      expect(legacy.received[0]).toContain(`MessageSid=${forwarded.messageSid}`);
      expect(await sql`select 1 from fsm_idempotency_records where message_id = ${forwarded.messageSid}`).toHaveLength(0);
    } finally {
      await partial.stop();
      legacy.close();
    }
  });
});
