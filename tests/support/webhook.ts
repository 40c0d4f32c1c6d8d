// The whatsapp-webhook function served by Deno for real, and a Twilio-like client for it.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { type ServedFunction, serveFunction } from "./functions.ts";
import { computeTwilioSignature, parseTwiml } from "../../functions/whatsapp-webhook/twilio.ts";

export const TEST_TOKEN = "test-auth-token";
/** The public URL Twilio would call; the function is told it, as behind Supabase. */
export const PUBLIC_URL = "https://fsm.example.test/functions/v1/whatsapp-webhook";

export type Webhook = ServedFunction;

export function startWebhook(env: Record<string, string> = {}): Promise<Webhook> {
  return serveFunction("whatsapp-webhook", {
    SUPABASE_DB_URL: inject("databaseUrl"),
    FSM_DB_ADAPTER: "postgres",
    TWILIO_AUTH_TOKEN: TEST_TOKEN,
    TWILIO_WEBHOOK_URL: PUBLIC_URL,
    ENABLE_FSM: "true",
    ...env,
  });
}

export const newMessageSid = () => `SM${randomBytes(16).toString("hex")}`;

export interface Sent {
  status: number;
  messages: string[];
  body: string;
  messageSid: string;
}

export interface SendOptions {
  media?: { url: string; contentType: string }[];
  messageSid?: string;
  token?: string;
  unsigned?: boolean;
  extra?: Record<string, string>;
}

/** Posts Twilio's inbound form for `from` saying `body`, signed like Twilio. */
export async function send(webhook: Webhook, from: string, body: string, options: SendOptions = {}): Promise<Sent> {
  const messageSid = options.messageSid ?? newMessageSid();
  const media = options.media ?? [];
  const params = new URLSearchParams({
    MessageSid: messageSid,
    SmsMessageSid: messageSid,
    AccountSid: `AC${"0".repeat(32)}`,
    From: `whatsapp:${from}`,
    To: "whatsapp:+14155238886",
    Body: body,
    NumMedia: String(media.length),
    ProfileName: "Test worker",
    WaId: from.slice(1),
    ApiVersion: "2010-04-01",
    ...options.extra,
  });
  media.forEach((m, i) => {
    params.set(`MediaUrl${i}`, m.url);
    params.set(`MediaContentType${i}`, m.contentType);
  });
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (!options.unsigned) {
    headers["x-twilio-signature"] = await computeTwilioSignature(options.token ?? TEST_TOKEN, PUBLIC_URL, params);
  }
  const res = await fetch(webhook.url, { method: "POST", headers, body: params.toString() });
  const text = await res.text();
  return {
    status: res.status,
    body: text,
    messages: res.headers.get("content-type")?.includes("xml") ? parseTwiml(text) : [],
    messageSid,
  };
}

export const photo = (n = 1) => ({ url: `https://api.twilio.com/media/ME${String(n).padStart(32, "0")}`, contentType: "image/jpeg" });

/** A worker's side of the conversation: say() returns the bot's reply, joined. */
export function conversation(webhook: Webhook, number: string) {
  return async (body: string, options: SendOptions = {}) => {
    const sent = await send(webhook, number, body, options);
    if (sent.status !== 200) throw new Error(`HTTP ${sent.status}: ${sent.body}`);
    return sent.messages.join("\n");
  };
}
