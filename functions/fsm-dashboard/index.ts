// The operator's dashboard: GET /functions/v1/fsm-dashboard/ (the page) and …/metrics.json (the same
// figures as JSON, for alerting). Settings are checked once, here: without a DASHBOARD_SECRET of at least
// 16 characters the function does not start.
import { loadConfig } from "./config.ts";
import { createHandler } from "./handler.ts";
import { LOCAL_DASHBOARD_SECRET } from "./signing.ts";
import { postgresMetrics } from "./store.ts";

const log = (event: string, fields: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ ts: new Date().toISOString(), fn: "fsm-dashboard", event, ...fields }));

const config = loadConfig(Deno.env.toObject());
const store = postgresMetrics(config.databaseUrl);
if (config.secret === LOCAL_DASHBOARD_SECRET) {
  log("local_secret", { note: "DASHBOARD_SECRET is the local default: anyone can sign links for it; local use only" });
}
log("dashboard_started");

Deno.serve(createHandler({ secret: config.secret, load: store.load, log }));
