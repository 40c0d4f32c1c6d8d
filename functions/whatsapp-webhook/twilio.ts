// Twilio's side of the WhatsApp webhook: the inbound form (validated into an InboundMessage), the
// X-Twilio-Signature (computed and verified as Twilio's own SDKs do), and TwiML replies (built and read
// back). Web-standard APIs only, so the edge function, the tests (Node) and scripts/chat.ts share it.
import { z } from "zod";

export interface InboundMedia {
  url: string;
  contentType: string;
}

export interface InboundMessage {
  messageId: string;
  /** E.164, without the "whatsapp:" prefix */
  from: string;
  to: string;
  body: string;
  media: InboundMedia[];
  profileName?: string;
  waId?: string;
}

export const TWIML_CONTENT_TYPE = "text/xml; charset=utf-8";

const MAX_MEDIA = 10;
const MAX_BODY = 4096;
// Twilio's limit for one <Message> body.
const MAX_REPLY = 1600;

const SID = /^[A-Z]{2}[0-9a-fA-F]{32}$/;
const WHATSAPP_ADDRESS = /^whatsapp:\+[1-9][0-9]{6,14}$/;
const MIME_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;.*)?$/;

const whatsappAddress = (field: string) =>
  z.string({ error: `${field} is required` })
    .regex(WHATSAPP_ADDRESS, { error: `${field} must be whatsapp:+<E.164 number>` })
    .transform((value) => value.slice("whatsapp:".length));

const mediaUrl = (i: number, count: number) =>
  z.url({
    protocol: /^https?$/,
    error: (issue) =>
      issue.input === undefined
        ? `MediaUrl${i} is required when NumMedia is ${count}`
        : `MediaUrl${i} must be an http(s) URL`,
  });

const mediaContentType = (i: number, count: number) =>
  z.string({ error: `MediaContentType${i} is required when NumMedia is ${count}` })
    .regex(MIME_TYPE, { error: `MediaContentType${i} must be a MIME type such as image/jpeg` });

const formSchema = z.object({
  MessageSid: z.string({ error: "MessageSid is required" })
    .regex(SID, { error: "MessageSid must be a Twilio message SID (two capital letters and 32 hex digits)" }),
  From: whatsappAddress("From"),
  To: whatsappAddress("To"),
  Body: z.string().max(MAX_BODY, { error: `Body must be at most ${MAX_BODY} characters` }).default(""),
  NumMedia: z.string()
    .regex(/^(?:[0-9]|10)$/, { error: `NumMedia must be a whole number from 0 to ${MAX_MEDIA}` })
    .transform(Number)
    .default(0),
  ProfileName: z.string().optional(),
  WaId: z.string().optional(),
  // MediaUrl{i} and MediaContentType{i} for i < 10, checked below once NumMedia says how many must be there.
  media: z.array(z.object({ url: z.string().optional(), contentType: z.string().optional() })),
}).transform((form, ctx): InboundMessage => {
  const media: InboundMedia[] = [];
  for (let i = 0; i < form.NumMedia; i++) {
    const url = mediaUrl(i, form.NumMedia).safeParse(form.media[i].url);
    const contentType = mediaContentType(i, form.NumMedia).safeParse(form.media[i].contentType);
    for (const result of [url, contentType]) {
      if (!result.success) ctx.issues.push({ code: "custom", message: result.error.issues[0].message, input: form });
    }
    if (url.success && contentType.success) media.push({ url: url.data, contentType: contentType.data });
  }
  if (form.Body.trim() === "" && form.NumMedia === 0) {
    ctx.issues.push({ code: "custom", message: "Body is empty and the message has no media", input: form });
  }
  return {
    messageId: form.MessageSid,
    from: form.From,
    to: form.To,
    body: form.Body,
    media,
    ...(form.ProfileName ? { profileName: form.ProfileName } : {}),
    ...(form.WaId ? { waId: form.WaId } : {}),
  };
});

/** Validates Twilio's inbound WhatsApp webhook form. Unknown parameters are ignored; never throws. */
export function parseTwilioForm(
  params: URLSearchParams,
): { ok: true; message: InboundMessage } | { ok: false; reason: string } {
  // Only the fields read, so an arbitrary parameter name never becomes a property of anything.
  const field = (name: string) => params.get(name) ?? undefined;
  const result = formSchema.safeParse({
    MessageSid: field("MessageSid"),
    From: field("From"),
    To: field("To"),
    Body: field("Body"),
    NumMedia: field("NumMedia"),
    ProfileName: field("ProfileName"),
    WaId: field("WaId"),
    media: Array.from({ length: MAX_MEDIA }, (_, i) => ({
      url: field(`MediaUrl${i}`),
      contentType: field(`MediaContentType${i}`),
    })),
  });
  return result.success
    ? { ok: true, message: result.data }
    : { ok: false, reason: result.error.issues[0]?.message ?? "The form is invalid" };
}

/** Twilio's signature: the URL, then key+value of every parameter sorted by key, HMAC-SHA1, base64. */
export async function computeTwilioSignature(authToken: string, url: string, params: URLSearchParams): Promise<string> {
  if (!authToken) throw new Error("computeTwilioSignature: the auth token is empty");
  const byKey = new Map<string, string[]>();
  for (const [key, value] of params) byKey.set(key, [...(byKey.get(key) ?? []), value]);
  let data = url;
  for (const key of [...byKey.keys()].sort()) {
    // Repeated identical values count once: twilio-node (new Set) and twilio-python (set()) both do so.
    for (const value of [...new Set(byKey.get(key))].sort()) data += key + value;
  }
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(authToken), { name: "HMAC", hash: "SHA-1" }, false, [
    "sign",
  ]);
  return toBase64(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data))));
}

/**
 * Whether `signature` is Twilio's for this URL and every parameter received. Like twilio-node's
 * validateRequest, the URL is also tried with the default port added (when it has none) or removed
 * (when it has it), because Twilio signs either form.
 */
export async function verifyTwilioSignature(
  authToken: string,
  url: string,
  params: URLSearchParams,
  signature: string | null,
): Promise<boolean> {
  if (!signature || !authToken) return false;
  const given = fromBase64(signature);
  if (!given) return false;
  let valid = false;
  for (const candidate of urlVariants(url)) {
    const expected = fromBase64(await computeTwilioSignature(authToken, candidate, params))!;
    valid = constantTimeEqual(given, expected) || valid;
  }
  return valid;
}

function urlVariants(url: string): string[] {
  const match = /^(https?):\/\/([^/?#]*)([\s\S]*)$/i.exec(url);
  if (!match) return [url];
  const [, scheme, authority, rest] = match;
  const defaultPort = scheme.toLowerCase() === "https" ? 443 : 80;
  const at = authority.lastIndexOf("@");
  const userinfo = authority.slice(0, at + 1);
  // The host may be an IPv6 literal ("[::1]:443"), so only a trailing ":digits" is a port.
  const [, host, port] = /^([\s\S]*?)(?::(\d+))?$/.exec(authority.slice(at + 1))!;
  if (port === undefined) return [url, `${scheme}://${userinfo}${host}:${defaultPort}${rest}`];
  if (Number(port) === defaultPort) return [url, `${scheme}://${userinfo}${host}${rest}`];
  return [url];
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array | null {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** A TwiML reply: one <Message> per non-blank text, texts over 1600 characters split into several. */
export function twiml(messages: string[]): string {
  const elements = messages
    .flatMap((message) => splitMessage(stripNonXml(message)))
    .filter((text) => text.trim() !== "")
    .map((text) => `<Message>${escapeXml(text)}</Message>`);
  const head = '<?xml version="1.0" encoding="UTF-8"?>';
  return elements.length ? `${head}<Response>${elements.join("")}</Response>` : `${head}<Response/>`;
}

// Characters XML 1.0 cannot carry even escaped (control characters, lone surrogates, U+FFFE/U+FFFF):
// one of them would make Twilio reject the whole reply, so they are dropped.
function stripNonXml(text: string): string {
  return text.replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "");
}

// Splits at the last newline in the second half of the window, else at the last newline or space,
// else hard (never inside a surrogate pair). The newline or space split at is dropped.
function splitMessage(text: string): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > MAX_REPLY) {
    const window = rest.slice(0, MAX_REPLY + 1);
    const newline = window.lastIndexOf("\n");
    const cut = newline >= MAX_REPLY / 2 ? newline : Math.max(newline, window.lastIndexOf(" "));
    if (cut > 0) {
      parts.push(rest.slice(0, cut));
      rest = rest.slice(cut + 1);
    } else {
      const hard = /[\uD800-\uDBFF]/.test(rest[MAX_REPLY - 1]) ? MAX_REPLY - 1 : MAX_REPLY;
      parts.push(rest.slice(0, hard));
      rest = rest.slice(hard);
    }
  }
  parts.push(rest);
  return parts;
}

const XML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  // An XML parser would read a literal CR as LF.
  "\r": "&#13;",
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => XML_ESCAPES[c]);
}

const XML_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g, (entity, dec, hex, name) => {
    if (name) return XML_ENTITIES[name];
    const codePoint = dec !== undefined ? Number(dec) : parseInt(hex, 16);
    return codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
  });
}

/** The texts of a TwiML reply's <Message> elements, in order (a <Body> noun counts as the text). */
export function parseTwiml(xml: string): string[] {
  const texts: string[] = [];
  for (const [, inner = ""] of xml.matchAll(/<Message\b[^>]*?(?:\/>|>([\s\S]*?)<\/Message>)/g)) {
    const body = /<Body\b[^>]*>([\s\S]*?)<\/Body>/.exec(inner);
    const content = body ? body[1] : inner.replace(/<Media\b[^>]*?(?:\/>|>[\s\S]*?<\/Media>)/g, "");
    texts.push(unescapeXml(content));
  }
  return texts;
}

/** A POST as Twilio sends it: form-encoded, signed over `url`, which is also where it goes. */
export async function signedTwilioRequest(options: {
  url: string;
  authToken: string;
  params: Record<string, string>;
}): Promise<Request> {
  const form = new URLSearchParams(options.params);
  const signature = await computeTwilioSignature(options.authToken, options.url, form);
  return new Request(options.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": signature,
      "user-agent": "TwilioProxy/1.1",
    },
    body: form.toString(),
  });
}
