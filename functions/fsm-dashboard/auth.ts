// Who may see the figures: a browser holding the session cookie a sign-in link set, or a client sending
// `Authorization: Bearer <DASHBOARD_SECRET>` (alerting). Everything else is refused.
import { constantTimeEqual, issueSession, SESSION_COOKIE, verifySession } from "./signing.ts";

export type Authenticated = { ok: true; via: "cookie" | "bearer" } | { ok: false };

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}

export async function authenticate(req: Request, secret: string, nowMs = Date.now()): Promise<Authenticated> {
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    const match = authorization.match(/^Bearer\s+(\S+)\s*$/i);
    // A wrong Authorization header is a refusal, even next to a good cookie: a misconfigured alerting
    // client should hear about it.
    return match && (await constantTimeEqual(match[1], secret)) ? { ok: true, via: "bearer" } : { ok: false };
  }
  return (await verifySession(secret, readCookie(req, SESSION_COOKIE), nowMs)) ? { ok: true, via: "cookie" } : { ok: false };
}

/** Whether the browser reached us over https: directly, or through Supabase's (or any) TLS-terminating proxy. */
export function isHttps(req: Request): boolean {
  const forwarded = req.headers.get("x-forwarded-proto");
  return new URL(req.url).protocol === "https:" || (forwarded ?? "").split(",")[0].trim() === "https";
}

/**
 * The Set-Cookie for a new session. No Path attribute: the browser then scopes the cookie to the folder
 * of the sign-in URL it saw (…/fsm-dashboard), which is right both behind the local gateway and on
 * Supabase, where the function cannot see the public path's `/functions/v1` prefix.
 */
export async function sessionCookie(req: Request, secret: string, nowMs = Date.now()): Promise<string> {
  const { value, maxAge } = await issueSession(secret, nowMs);
  return `${SESSION_COOKIE}=${value}; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${isHttps(req) ? "; Secure" : ""}`;
}

export function clearedSessionCookie(req: Request): string {
  return `${SESSION_COOKIE}=; Max-Age=0; HttpOnly; SameSite=Strict${isHttps(req) ? "; Secure" : ""}`;
}
