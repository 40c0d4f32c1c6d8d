// Twilio's WhatsApp webhook: POST /functions/v1/whatsapp-webhook. Settings are read and checked once,
// here; a bad setting stops the function at start with the reason.
import { KeywordClassifier } from "./classifier/keyword.ts";
import { loadConfig } from "./config.ts";
import { createHandler } from "./handler.ts";
import { createLogger } from "./log.ts";
import { postgresStore } from "./store/postgres.ts";
import { supabaseStore } from "./store/supabase.ts";

const config = loadConfig(Deno.env.toObject());
const log = createLogger();
const store = config.database.adapter === "postgres"
  ? postgresStore(config.database.url)
  : supabaseStore(config.database.url, config.database.serviceRoleKey);

if (!config.twilio.checkSignature) {
  log.warn("signature_check_off", { note: "TWILIO_SIGNATURE_CHECK=off: anyone can post to this webhook; local use only" });
}
log.info("webhook_started", { adapter: config.database.adapter, fsm: config.fsm.mode });

Deno.serve(createHandler({ config, store, classifier: new KeywordClassifier(), log }));
