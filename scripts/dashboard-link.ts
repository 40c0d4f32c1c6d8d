// `npm run dashboard`: prints a sign-in link for the operator dashboard, valid ten minutes, signed with
// DASHBOARD_SECRET (or the local default `npm start` uses). For a deployed project:
//   DASHBOARD_SECRET=… npm run dashboard -- --url https://<ref>.supabase.co/functions/v1/fsm-dashboard
import {
  DEFAULT_LINK_SECONDS,
  LOCAL_DASHBOARD_SECRET,
  loginLink,
  MIN_SECRET_LENGTH,
} from "../functions/fsm-dashboard/signing.ts";

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

const secret = Deno.env.get("DASHBOARD_SECRET") || LOCAL_DASHBOARD_SECRET;
if (secret.length < MIN_SECRET_LENGTH) {
  console.error(`DASHBOARD_SECRET must be at least ${MIN_SECRET_LENGTH} characters (the function refuses shorter ones)`);
  Deno.exit(2);
}
const base = option("url") ?? `http://127.0.0.1:${Deno.env.get("FSM_PORT") ?? 54321}/functions/v1/fsm-dashboard`;
try {
  new URL(base);
} catch {
  console.error(`--url wants the dashboard's URL, such as https://<ref>.supabase.co/functions/v1/fsm-dashboard, not ${JSON.stringify(base)}`);
  Deno.exit(2);
}

console.log(await loginLink(base, secret, DEFAULT_LINK_SECONDS));
console.error(`valid ${DEFAULT_LINK_SECONDS / 60} minutes${secret === LOCAL_DASHBOARD_SECRET ? ", signed with the local default secret" : ""}`);
