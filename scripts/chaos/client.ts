// Twilio's side: signed form posts, and the provider's retry rule. A message is retried with the same
// MessageSid after any answer but 200 (a 5xx, a refused or reset connection, a timeout) until it gets a
// 200, as Twilio and Meta retry an undelivered webhook. Every attempt is counted.
import { computeTwilioSignature, parseTwiml } from "../../functions/whatsapp-webhook/twilio.ts";
import { type Random, sleep } from "./random.ts";
import { PUBLIC_URL, WEBHOOK_TOKEN } from "./webhook.ts";

export interface Media {
  url: string;
  contentType: string;
}

export interface Message {
  sid: string;
  from: string;
  body: string;
  media: Media[];
  /** When the first delivery of this message id was attempted. */
  firstSentAt?: number;
  /** Each delivery (a copy of the message, sent by the provider) that got its 200, with the reply. */
  answers: { at: number; replies: string[]; late: boolean }[];
  /** No 200 before the deadline. */
  undelivered?: boolean;
}

const SLOW_MS = 5000;

export class Stats {
  /** HTTP attempts of every kind. */
  attempts = 0;
  /** Copies of a message id the provider sent (a copy may take several attempts). */
  deliveries = 0;
  concurrentCopies = 0;
  lateCopies = 0;
  /** Copies of messages whose claim had lapsed (its holder died), delivered again after the lease. */
  redeliveries = 0;
  retries = 0;
  readonly outcomes = new Map<string, number>();
  /** Duration of every attempt, ms. */
  readonly latencies: number[] = [];
  /** Attempts slower than SLOW_MS: when, how long, how they ended. */
  readonly slow: { sid: string; startedAt: number; ms: number; outcome: string }[] = [];
  count(outcome: string) {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
  }
}

export class Client {
  readonly messages = new Map<string, Message>();
  readonly stats = new Stats();
  /** Deliveries still retrying (for draining). */
  inFlight = 0;

  constructor(
    readonly url: string,
    readonly random: Random,
    readonly requestTimeoutMs: number,
    /** After this instant, a delivery stops retrying and its message counts as undelivered. */
    public deadline: number,
  ) {}

  newMessage(from: string, body: string, media: Media[] = []): Message {
    const m: Message = { sid: `SM${this.random.hex(32)}`, from, body, media, answers: [] };
    this.messages.set(m.sid, m);
    return m;
  }

  /** One copy of the message, retried until a 200. */
  async deliver(m: Message, kind: "first" | "concurrent" | "late" | "redelivery" = "first"): Promise<string[] | undefined> {
    this.stats.deliveries++;
    if (kind === "concurrent") this.stats.concurrentCopies++;
    if (kind === "late") this.stats.lateCopies++;
    if (kind === "redelivery") this.stats.redeliveries++;
    m.firstSentAt ??= Date.now();
    this.inFlight++;
    try {
      let backoff = 200;
      for (let attempt = 1;; attempt++) {
        if (attempt > 1) this.stats.retries++;
        const started = Date.now();
        const outcome = await this.attempt(m);
        const ms = Date.now() - started;
        this.stats.latencies.push(ms);
        if (ms >= SLOW_MS) this.stats.slow.push({ sid: m.sid, startedAt: started, ms, outcome: outcome.label });
        this.stats.attempts++;
        this.stats.count(outcome.label);
        if (outcome.replies) {
          m.answers.push({ at: Date.now(), replies: outcome.replies, late: kind === "late" });
          return outcome.replies;
        }
        if (Date.now() > this.deadline) {
          m.undelivered = true;
          return undefined;
        }
        await sleep(backoff / 2 + this.random.next() * backoff);
        backoff = Math.min(backoff * 2, 3000);
      }
    } finally {
      this.inFlight--;
    }
  }

  private async attempt(m: Message): Promise<{ label: string; replies?: string[] }> {
    const params = new URLSearchParams({
      MessageSid: m.sid,
      SmsMessageSid: m.sid,
      AccountSid: `AC${"0".repeat(32)}`,
      From: `whatsapp:${m.from}`,
      To: "whatsapp:+14155238886",
      Body: m.body,
      NumMedia: String(m.media.length),
      ProfileName: "Chaos worker",
      WaId: m.from.slice(1),
      ApiVersion: "2010-04-01",
    });
    m.media.forEach((x, i) => {
      params.set(`MediaUrl${i}`, x.url);
      params.set(`MediaContentType${i}`, x.contentType);
    });
    const signature = await computeTwilioSignature(WEBHOOK_TOKEN, PUBLIC_URL, params);
    try {
      const res = await fetch(this.url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body: params.toString(),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const text = await res.text();
      if (res.status === 200) return { label: "200", replies: parseTwiml(text) };
      return { label: String(res.status) };
    } catch (error) {
      return { label: networkError(error) };
    }
  }
}

function networkError(error: unknown): string {
  const e = error as Error & { code?: string };
  const text = `${e.name} ${e.code ?? ""} ${e.message} ${(e.cause as Error | undefined)?.message ?? ""}`;
  if (/TimeoutError|timed out/i.test(text)) return "client timeout";
  if (/refused/i.test(text)) return "connection refused";
  if (/reset|closed|broken pipe|EOF|incomplete|aborted|error sending request/i.test(text)) return "connection reset";
  return `network error (${e.name}: ${e.message.slice(0, 60)})`;
}
