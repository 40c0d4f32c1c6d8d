// The dashboard as a Web-standard handler. Routes, relative to the function (the path ends in
// `/functions/v1/fsm-dashboard/…` behind the local gateway, `/fsm-dashboard/…` on Supabase):
//   GET /                 the page (?window=hour|day|week, default day)       cookie or Bearer
//   GET /metrics.json     the same figures as JSON, for alerting               cookie or Bearer
//   GET /login            ?expires=<unix>&sig=<hex>: sets the session cookie
//   GET /logout           clears it
// A request without a valid session cookie or `Authorization: Bearer <DASHBOARD_SECRET>` gets 401 and no
// figure. Every response carries the security headers.
import { authenticate, clearedSessionCookie, sessionCookie } from "./auth.ts";
import { type LoadMetrics, parseWindow } from "./metrics.ts";
import { renderDashboard, renderLinkRefused, renderSignedIn, renderSignedOut, renderUnauthorized, STYLESHEET } from "./render.ts";
import { verifyLogin } from "./signing.ts";

export interface HandlerDeps {
  secret: string;
  load: LoadMetrics;
  log?: (event: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
}

/** The CSP: nothing from anywhere, the page's one stylesheet by its hash, no framing, no forms. */
export async function contentSecurityPolicy(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(STYLESHEET));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  return `default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

/** The part of the path after `/fsm-dashboard`; `undefined` for the function's bare URL (no trailing slash). */
export function routeOf(pathname: string): string | undefined {
  const match = pathname.match(/\/fsm-dashboard(?=\/|$)(.*)$/);
  if (!match) return pathname || "/";
  return match[1] === "" ? undefined : match[1];
}

export function createHandler(deps: HandlerDeps): (req: Request) => Promise<Response> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const csp = contentSecurityPolicy();

  const respond = async (body: string | null, status: number, type: string, extra: Record<string, string> = {}) =>
    new Response(body, {
      status,
      headers: {
        "content-type": type,
        "content-security-policy": await csp,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        ...extra,
      },
    });
  const page = (body: string, status: number, extra?: Record<string, string>) =>
    respond(body, status, "text/html; charset=utf-8", extra);
  const json = (body: unknown, status: number, extra?: Record<string, string>) =>
    respond(JSON.stringify(body), status, "application/json; charset=utf-8", extra);
  const challenge = { "www-authenticate": 'Bearer realm="fsm-dashboard"' };

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const route = routeOf(url.pathname);
    if (req.method !== "GET") return respond("use GET", 405, "text/plain; charset=utf-8", { allow: "GET, HEAD" });
    if (route === undefined) {
      // The bare function URL: the page's relative links need the trailing slash.
      return respond(null, 308, "text/plain; charset=utf-8", { location: `fsm-dashboard/${url.search}` });
    }

    switch (route) {
      case "/login": {
        const check = await verifyLogin(deps.secret, url.searchParams.get("expires"), url.searchParams.get("sig"), now());
        if (!check.ok) {
          log("login_refused", { reason: check.reason });
          return page(renderLinkRefused(), 401);
        }
        log("login", { link_expires: new Date(check.expires * 1000).toISOString() });
        return page(renderSignedIn(), 200, { "set-cookie": await sessionCookie(req, deps.secret, now()) });
      }
      case "/logout":
        return page(renderSignedOut(), 200, { "set-cookie": clearedSessionCookie(req) });
      case "/":
      case "/metrics.json": {
        const asJson = route === "/metrics.json";
        const auth = await authenticate(req, deps.secret, now());
        if (!auth.ok) {
          log("unauthorized", { route });
          return asJson
            ? json({ error: "unauthorized: send Authorization: Bearer <DASHBOARD_SECRET> or sign in with a link" }, 401, challenge)
            : page(renderUnauthorized(), 401, challenge);
        }
        const window = parseWindow(url.searchParams.get("window"));
        if (!window) {
          const message = "window must be hour, day or week";
          return asJson ? json({ error: message }, 400) : respond(message, 400, "text/plain; charset=utf-8");
        }
        let metrics;
        try {
          metrics = await deps.load(window);
        } catch (error) {
          log("metrics_failed", { error: (error as Error).message });
          const message = "the database did not answer; try again shortly";
          return asJson ? json({ error: message }, 503) : respond(message, 503, "text/plain; charset=utf-8");
        }
        return asJson
          ? json({ ...metrics, window: { name: window, ...metrics.window } }, 200)
          : page(renderDashboard(metrics, window), 200);
      }
      default:
        return respond("not found", 404, "text/plain; charset=utf-8");
    }
  }

  return async (req: Request) => {
    if (req.method !== "HEAD") return await handle(req);
    const res = await handle(new Request(req.url, { method: "GET", headers: req.headers }));
    await res.body?.cancel();
    return new Response(null, { status: res.status, headers: res.headers });
  };
}
