// Where the local stack lives and the local-only secrets it uses, for npm start and the tools that
// talk to it (chat, dead letters). None of these is ever valid anywhere but on this machine.
export const LOCAL_TWILIO_TOKEN = "local-dev-token";

export function localStack(env: Record<string, string | undefined> = Deno.env.toObject()) {
  const port = Number(env.FSM_PORT ?? 54321);
  const dbPort = Number(env.FSM_DB_PORT ?? 54322);
  const webhookUrl = `http://127.0.0.1:${port}/functions/v1/whatsapp-webhook`;
  return {
    port,
    dbPort,
    webhookUrl,
    /** The URL Twilio would sign: the public one when set, else the local one. */
    signedUrl: env.TWILIO_WEBHOOK_URL || webhookUrl,
    twilioToken: env.TWILIO_AUTH_TOKEN || LOCAL_TWILIO_TOKEN,
    databaseUrl: env.DATABASE_URL || `postgresql://postgres:postgres@127.0.0.1:${dbPort}/postgres`,
  };
}
