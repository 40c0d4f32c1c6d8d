// The dashboard's signatures, shared by the function and `npm run dashboard` (scripts/dashboard-link.ts):
// short-lived sign-in links and the session cookie they lead to. HMAC-SHA256 with DASHBOARD_SECRET, Web
// Crypto only (Deno and Node alike), every comparison in constant time. The secret itself never leaves.

/** The secret `npm start` and `npm run dashboard` use when DASHBOARD_SECRET is unset. Local use only. */
export const LOCAL_DASHBOARD_SECRET = "local-dashboard-secret-change-me";
export const MIN_SECRET_LENGTH = 16;

/** A sign-in link is refused when it expires more than this far ahead: links are meant to be short-lived. */
export const MAX_LINK_SECONDS = 60 * 60;
/** What `npm run dashboard` prints: a link valid ten minutes. */
export const DEFAULT_LINK_SECONDS = 10 * 60;
/** How long the session cookie set by a sign-in link lasts. */
export const SESSION_SECONDS = 12 * 60 * 60;
export const SESSION_COOKIE = "fsm_dashboard_session";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    keys.set(secret, key);
  }
  return key;
}

const toHex = (bytes: ArrayBuffer) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");

export async function hmacHex(secret: string, message: string): Promise<string> {
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

/**
 * Whether two strings are equal, in time that depends on neither's content nor length: both are hashed
 * first, and the digests compared with no early exit.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([a, b].map((s) => crypto.subtle.digest("SHA-256", encoder.encode(s))));
  const xa = new Uint8Array(x);
  const ya = new Uint8Array(y);
  let diff = 0;
  for (let i = 0; i < xa.length; i++) diff |= xa[i] ^ ya[i];
  return diff === 0;
}

const nowSeconds = (nowMs: number) => Math.floor(nowMs / 1000);

/** The signature of a sign-in link: HMAC-SHA256 of its `expires` (unix seconds, in decimal). */
export const signLogin = (secret: string, expires: number) => hmacHex(secret, String(expires));

/** `<base>/login?expires=…&sig=…`, valid `ttlSeconds` from `nowMs`. */
export async function loginLink(
  baseUrl: string,
  secret: string,
  ttlSeconds = DEFAULT_LINK_SECONDS,
  nowMs = Date.now(),
): Promise<string> {
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_LINK_SECONDS)) {
    throw new Error(`a sign-in link lasts from 1 to ${MAX_LINK_SECONDS} seconds, not ${ttlSeconds}`);
  }
  const expires = nowSeconds(nowMs) + Math.floor(ttlSeconds);
  const url = new URL(`${baseUrl.replace(/\/+$/, "")}/login`);
  url.searchParams.set("expires", String(expires));
  url.searchParams.set("sig", await signLogin(secret, expires));
  return url.toString();
}

export type LinkCheck =
  | { ok: true; expires: number }
  | { ok: false; reason: "malformed" | "bad_signature" | "expired" | "too_far_ahead" };

/** Checks a sign-in link's `expires` and `sig` as they came in the query string. */
export async function verifyLogin(
  secret: string,
  expires: string | null,
  sig: string | null,
  nowMs = Date.now(),
): Promise<LinkCheck> {
  if (!expires || !/^[0-9]{1,12}$/.test(expires) || !sig || !/^[0-9a-fA-F]{64}$/.test(sig)) {
    return { ok: false, reason: "malformed" };
  }
  const at = Number(expires);
  if (!(await constantTimeEqual(sig.toLowerCase(), await signLogin(secret, at)))) {
    return { ok: false, reason: "bad_signature" };
  }
  const now = nowSeconds(nowMs);
  if (at <= now) return { ok: false, reason: "expired" };
  if (at - now > MAX_LINK_SECONDS) return { ok: false, reason: "too_far_ahead" };
  return { ok: true, expires: at };
}

// The cookie's value is `<expires>.<HMAC of "session.<expires>">`: not the secret, not a link's signature
// (those sign the bare number), and worthless after it expires.
const sessionMessage = (expires: number) => `session.${expires}`;

export async function issueSession(secret: string, nowMs = Date.now()): Promise<{ value: string; maxAge: number }> {
  const expires = nowSeconds(nowMs) + SESSION_SECONDS;
  return { value: `${expires}.${await hmacHex(secret, sessionMessage(expires))}`, maxAge: SESSION_SECONDS };
}

export async function verifySession(secret: string, value: string | undefined, nowMs = Date.now()): Promise<boolean> {
  const match = value?.match(/^([0-9]{1,12})\.([0-9a-f]{64})$/);
  if (!match) return false;
  const expires = Number(match[1]);
  const valid = await constantTimeEqual(match[2], await hmacHex(secret, sessionMessage(expires)));
  const now = nowSeconds(nowMs);
  return valid && expires > now && expires - now <= SESSION_SECONDS;
}
