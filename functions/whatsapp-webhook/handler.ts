// The webhook as a Web-standard handler: Request in, TwiML out. Verifies and parses Twilio's form,
// applies the rollout flag, then runs the message through the two database round trips with the
// pure routing in between (see ../../README.md, "One message, exactly once").
import { type Config, fsmEnabledFor } from "./config.ts";
import { type Context, decide } from "./conversation.ts";
import type { IntentClassifier, Language } from "./intents.ts";
import { type Logger, maskNumber } from "./log.ts";
import { TEXTS } from "./messages.ts";
import type { FsmStore } from "./store/types.ts";
import {
  computeTwilioSignature,
  type InboundMessage,
  parseTwilioForm,
  TWIML_CONTENT_TYPE,
  twiml,
  verifyTwilioSignature,
} from "./twilio.ts";

export interface Deps {
  config: Config;
  store: FsmStore;
  classifier: IntentClassifier;
  log: Logger;
  fetch?: typeof fetch;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Other messages of the same worker may move the session between our read and our write. */
const MAX_ROUTING_ATTEMPTS = 8;

const xml = (messages: string[], status = 200) =>
  new Response(twiml(messages), { status, headers: { "content-type": TWIML_CONTENT_TYPE } });
const plain = (text: string, status: number) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8" } });

export function createHandler(deps: Deps): (req: Request) => Promise<Response> {
  const { config, store, classifier } = deps;

  return async function handle(req: Request): Promise<Response> {
    if (req.method !== "POST") return new Response("use POST", { status: 405, headers: { allow: "POST" } });
    if (!(req.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded")) {
      return plain("expected an application/x-www-form-urlencoded body (Twilio's webhook form)", 415);
    }
    const raw = await req.text();
    if (raw.length > MAX_BODY_BYTES) return plain("body too large", 413);
    const params = new URLSearchParams(raw);
    const log = deps.log.with({ correlation_id: params.get("MessageSid") || crypto.randomUUID() });

    if (config.twilio.checkSignature) {
      const url = config.twilio.webhookUrl ?? req.url;
      const signature = req.headers.get("x-twilio-signature");
      if (!(await verifyTwilioSignature(config.twilio.authToken!, url, params, signature))) {
        log.warn("signature_rejected", { reason: signature ? "mismatch" : "missing" });
        return plain("invalid or missing X-Twilio-Signature", 403);
      }
    }

    const parsed = parseTwilioForm(params);
    if (!parsed.ok) {
      log.warn("request_rejected", { reason: parsed.reason });
      return plain(parsed.reason, 400);
    }
    const message = parsed.message;
    const mlog = log.with({ from: maskNumber(message.from) });

    if (!fsmEnabledFor(config, message.from)) {
      if (config.legacyWebhookUrl) return forwardToLegacy(deps, params, mlog);
      mlog.info("fsm_disabled_for_number");
      return xml([TEXTS[await guessLanguage(classifier, message)].notEnabled]);
    }

    let begun;
    try {
      begun = await store.begin(message.messageId, message.from, Object.fromEntries(params));
    } catch (error) {
      // Nothing was accepted: the claim rolled back with the failed call. Let the provider retry.
      mlog.error("database_unavailable", { error: (error as Error).message });
      return plain("temporarily unavailable", 503);
    }

    switch (begun.status) {
      case "unknown_worker":
        mlog.info("unknown_worker");
        return xml([TEXTS[await guessLanguage(classifier, message)].notRegistered]);
      case "duplicate":
        mlog.info("duplicate_delivery", { outcome: begun.outcome });
        return xml(begun.reply ? [begun.reply] : []);
      case "in_progress":
        mlog.info("delivery_in_progress", { retry_after_ms: begun.retry_after_ms });
        return xml([]);
    }

    const claimToken = begun.claim_token;
    let context: Context = begun.context;
    let language: Language = context.worker.language;
    try {
      const classification = await classifier.classify({ text: message.body, mediaCount: message.media.length });
      for (let attempt = 1; attempt <= MAX_ROUTING_ATTEMPTS; attempt++) {
        const decision = decide({ message, context, classification, routing: config.routing });
        language = decision.language;
        const applied = await store.apply({
          messageId: message.messageId,
          claimToken,
          expectedSessionId: context.session?.id ?? null,
          expectedVersion: context.session?.version ?? null,
          steps: decision.steps,
          reply: decision.reply,
        });
        switch (applied.status) {
          case "applied":
            mlog.info("message_applied", {
              intent: decision.intent,
              steps: decision.steps.map((s) => (s.op === "event" ? s.event : s.op)),
              from_state: context.session?.fsm_state ?? null,
              attempt,
              claim_attempt: begun.attempt,
            });
            return xml(decision.reply ? [decision.reply] : []);
          case "conflict":
            context = applied.context;
            continue;
          case "rejected": {
            // The database refused what routing decided (a task closed meanwhile, say): record the
            // message with an honest answer instead.
            mlog.warn("steps_rejected", { error_code: applied.error_code, error: applied.error, intent: decision.intent });
            const t = TEXTS[language];
            const reply = `${t.notUnderstood} ${t.next.none}`;
            const retried = await store.apply({
              messageId: message.messageId,
              claimToken,
              expectedSessionId: applied.context.session?.id ?? null,
              expectedVersion: applied.context.session?.version ?? null,
              steps: [],
              reply,
            });
            if (retried.status === "conflict") {
              context = retried.context;
              continue;
            }
            return xml(retried.status === "applied" ? [reply] : []);
          }
          case "claim_lost":
            mlog.warn("claim_lost");
            return xml([]);
        }
      }
      throw new Error(`session kept moving: gave up after ${MAX_ROUTING_ATTEMPTS} routing attempts`);
    } catch (error) {
      const apology = TEXTS[language].apology;
      mlog.error("message_failed", { error: (error as Error).message });
      try {
        await store.fail(message.messageId, claimToken, (error as Error).message, apology);
      } catch (failError) {
        // The claim expires after its lease and the cleanup records it as failed.
        mlog.error("failure_not_recorded", { error: (failError as Error).message });
      }
      return xml([apology]);
    }
  };
}

async function guessLanguage(classifier: IntentClassifier, message: InboundMessage): Promise<Language> {
  const c = await classifier.classify({ text: message.body, mediaCount: message.media.length });
  return c.language ?? "en";
}

/** Numbers the rollout leaves out go to the old webhook, re-signed for its URL, untouched otherwise. */
async function forwardToLegacy(deps: Deps, params: URLSearchParams, log: Logger): Promise<Response> {
  const url = deps.config.legacyWebhookUrl!;
  const headers = new Headers({ "content-type": "application/x-www-form-urlencoded" });
  if (deps.config.twilio.authToken) {
    headers.set("x-twilio-signature", await computeTwilioSignature(deps.config.twilio.authToken, url, params));
  }
  try {
    const res = await (deps.fetch ?? fetch)(url, { method: "POST", headers, body: params.toString() });
    log.info("forwarded_to_legacy", { status: res.status });
    return new Response(res.body, {
      status: res.status,
      headers: { "content-type": res.headers.get("content-type") ?? TWIML_CONTENT_TYPE },
    });
  } catch (error) {
    log.error("legacy_unreachable", { error: (error as Error).message });
    return plain("legacy webhook unreachable", 502);
  }
}
