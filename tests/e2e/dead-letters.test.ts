// A message that fails after it was accepted: recorded with its payload, error and attempts, the worker
// gets an apology, and `npm run dead-letters` lists it and replays it once the cause is gone.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { projectRoot } from "../../scripts/lib/database.ts";
import { connect, newWorker, type Sql } from "../support/db.ts";
import { conversation, PUBLIC_URL, send, startWebhook, TEST_TOKEN, type Webhook } from "../support/webhook.ts";

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

function deadLetters(...args: string[]) {
  return new Promise<{ code: number | null; out: string }>((done) => {
    const child = spawn(join(projectRoot, "node_modules", ".bin", "deno"),
      ["run", "--allow-net", "--allow-env", "--allow-read", join(projectRoot, "scripts", "dead-letters.ts"), ...args], {
        cwd: projectRoot,
        env: {
          ...process.env,
          DATABASE_URL: inject("databaseUrl"),
          FSM_PORT: new URL(webhook.url).port,
          TWILIO_AUTH_TOKEN: TEST_TOKEN,
          TWILIO_WEBHOOK_URL: PUBLIC_URL,
        },
      });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    child.on("close", (code) => done({ code, out }));
  });
}

describe("dead letters", () => {
  it("records a failed message with payload, error and attempts, apologises, and replays it exactly once", async () => {
    const w = await newWorker(sql);
    await conversation(webhook, w.number)("update 1");

    // The database stalls after the message was claimed: a side transaction holds the worker's open
    // session past the functions' lock_timeout, so the apply fails.
    const blocker = connect({ max: 1 });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const holding = blocker.begin(async (tx) => {
      await tx`select 1 from progress_update_sessions where worker_id = ${w.id} and closed_at is null for update`;
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    const failed = await send(webhook, w.number, "Second coat drying");
    release();
    await holding;
    await blocker.end();

    expect(failed.status).toBe(200);
    expect(failed.messages.join()).toMatch(/^Sorry, something went wrong on our side/);
    const [letter] = await sql`select * from fsm_dead_letters where message_id = ${failed.messageSid}`;
    expect(letter).toMatchObject({ attempts: 1, reply_sent: failed.messages[0] });
    expect(letter.error).toMatch(/lock/);
    expect(letter.payload).toMatchObject({ MessageSid: failed.messageSid, Body: "Second coat drying", From: `whatsapp:${w.number}` });
    // Twilio's redelivery gets the apology again, not a second attempt.
    expect((await send(webhook, w.number, "Second coat drying", { messageSid: failed.messageSid })).messages).toEqual(failed.messages);

    const listed = await deadLetters();
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(failed.messageSid);
    expect(listed.out).not.toContain(w.number);

    const [first, second] = await Promise.all([deadLetters("replay", "--all"), deadLetters("replay", failed.messageSid)]);
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(`${first.out}\n${second.out}`).toMatch(new RegExp(`${failed.messageSid}: HTTP 200, now completed; reply \\(not sent to the worker\\): Comment saved`));
    const [record] = await sql`select status, attempts from fsm_idempotency_records where message_id = ${failed.messageSid}`;
    expect(record).toEqual({ status: "completed", attempts: 2 });
    const [s] = await sql`select session_metadata from progress_update_sessions where worker_id = ${w.id} and closed_at is null`;
    expect(s.session_metadata.comments).toEqual(["Second coat drying"]);

    const again = await deadLetters("replay", failed.messageSid);
    expect(again.out).toMatch(/not a dead letter/);
    expect((await deadLetters()).out).not.toContain(failed.messageSid);
  });
});
