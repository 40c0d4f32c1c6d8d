// A Twilio-like sender: the inbound WhatsApp form as Twilio posts it, signed with X-Twilio-Signature
// over the public URL (computeTwilioSignature, the product's own), a fresh MessageSid each time. The
// latency is the HTTP exchange alone: signing happens on Twilio's side, before the clock starts.
import { computeTwilioSignature, parseTwiml } from "../../functions/whatsapp-webhook/twilio.ts";

export interface Media {
  url: string;
  contentType: string;
}

export interface Reply {
  status: number;
  /** The <Message> texts of the TwiML answer (none for an empty <Response/>). */
  texts: string[];
  body: string;
  ms: number;
  messageSid: string;
}

export interface TwilioClient {
  send(from: string, body: string, media?: Media[]): Promise<Reply>;
}

/** Unique SIDs without a random source per call: a random run prefix and a counter. */
export function messageSidGenerator(): () => string {
  const prefix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
  let n = 0;
  return () => `SM${prefix}${(n++).toString(16).padStart(20, "0")}`;
}

export function twilioClient(options: { url: string; publicUrl: string; token: string }): TwilioClient {
  const nextSid = messageSidGenerator();
  const accountSid = `AC${"0".repeat(32)}`;
  return {
    async send(from, body, media = []) {
      const messageSid = nextSid();
      const params = new URLSearchParams({
        MessageSid: messageSid,
        SmsMessageSid: messageSid,
        AccountSid: accountSid,
        From: `whatsapp:${from}`,
        To: "whatsapp:+14155238886",
        Body: body,
        NumMedia: String(media.length),
        ProfileName: "Bench worker",
        WaId: from.slice(1),
        ApiVersion: "2010-04-01",
      });
      media.forEach((m, i) => {
        params.set(`MediaUrl${i}`, m.url);
        params.set(`MediaContentType${i}`, m.contentType);
      });
      const signature = await computeTwilioSignature(options.token, options.publicUrl, params);
      const started = performance.now();
      const res = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature },
        body: params.toString(),
      });
      const text = await res.text();
      const ms = performance.now() - started;
      const xml = res.headers.get("content-type")?.includes("xml") ?? false;
      return { status: res.status, texts: xml ? parseTwiml(text) : [], body: text, ms, messageSid };
    },
  };
}
