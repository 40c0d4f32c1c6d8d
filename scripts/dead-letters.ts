// `npm run dead-letters`: the messages that failed after they were accepted, with their error and
// attempts. `-- replay <message id>` or `-- replay --all` delivers them again to the running webhook,
// signed like Twilio, once the cause is fixed. A replay goes through the message's own claim, so a
// message is applied once however many times it is replayed.
import postgres from "postgres";
import { computeTwilioSignature, parseTwiml } from "../functions/whatsapp-webhook/twilio.ts";
import { maskNumber } from "../functions/whatsapp-webhook/log.ts";
import { localStack } from "./lib/local.ts";
import { redactUrl } from "./lib/database.ts";

const local = localStack();
const sql = postgres(local.databaseUrl, { max: 1, onnotice: () => {} });
const [command, target] = Deno.args;

try {
  if (!command || command === "list") await list();
  else if (command === "replay" && target) await replay(target === "--all" ? null : target);
  else {
    console.error("usage: npm run dead-letters [-- list | -- replay <message id> | -- replay --all]");
    Deno.exitCode = 2;
  }
} catch (error) {
  console.error(`dead-letters: ${(error as Error).message} (database ${redactUrl(local.databaseUrl)})`);
  Deno.exitCode = 1;
} finally {
  await sql.end();
}

async function list() {
  const rows = await sql`select message_id, attempts, error, payload, failed_at from fsm_dead_letters order by failed_at`;
  if (!rows.length) return console.log("no dead letters");
  for (const r of rows) {
    const body = String(r.payload?.Body ?? "").slice(0, 40);
    console.log(`${r.message_id}  ${r.failed_at.toISOString()}  attempts=${r.attempts}  from=${maskNumber(r.payload?.From)}` +
      `  "${body}"\n    error: ${r.error}`);
  }
  console.log(`${rows.length} dead letter(s). Replay with: npm run dead-letters -- replay <message id> | --all`);
}

async function replay(messageId: string | null) {
  const ids = messageId
    ? [messageId]
    : (await sql`select message_id from fsm_dead_letters where payload is not null order by failed_at`).map((r) => r.message_id);
  if (!ids.length) return console.log("nothing to replay");
  let failed = 0;
  for (const id of ids) {
    const [{ payload }] = await sql`select public.fsm_release_dead_letter(${id}) as payload`;
    if (!payload) {
      console.log(`${id}: not a dead letter (already replayed, or never failed): skipped`);
      continue;
    }
    const params = new URLSearchParams(payload as Record<string, string>);
    const res = await fetch(local.webhookUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": await computeTwilioSignature(local.twilioToken, local.signedUrl, params),
      },
      body: params.toString(),
    });
    const text = await res.text();
    const [{ status }] = await sql`select status from fsm_idempotency_records where message_id = ${id}`;
    if (status !== "completed") failed++;
    console.log(`${id}: HTTP ${res.status}, now ${status}` +
      (res.ok ? `; reply (not sent to the worker): ${parseTwiml(text).join(" / ") || "(none)"}` : `: ${text}`));
  }
  if (failed) Deno.exitCode = 1;
}
