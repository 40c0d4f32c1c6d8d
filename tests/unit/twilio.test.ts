// functions/whatsapp-webhook/twilio.ts: Twilio's signature, the inbound form, TwiML. No database.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  computeTwilioSignature,
  parseTwilioForm,
  parseTwiml,
  signedTwilioRequest,
  twiml,
  TWIML_CONTENT_TYPE,
  verifyTwilioSignature,
} from "../../functions/whatsapp-webhook/twilio.ts";

const XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>';

describe("the X-Twilio-Signature", () => {
  const docsUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const docsParams = (number: string) =>
    new URLSearchParams({
      CallSid: "CA1234567890ABCDE",
      Caller: number,
      Digits: "1234",
      From: number,
      To: "+18005551212",
    });

  it("reproduces Twilio's published examples", async () => {
    // Twilio's "Webhooks security" guide (twilio.com/docs/usage/webhooks/webhooks-security): token 12345,
    // Caller and From +12349013030.
    expect(await computeTwilioSignature("12345", docsUrl, docsParams("+12349013030"))).toBe(
      "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    );
    // GvWf1cFY… belongs to the same example with Caller and From +14158675310, as in Twilio's own
    // snippet TwilioDevEd/api-snippets security/signature_validation/signature_validation.3.x.js.
    expect(await computeTwilioSignature("12345", docsUrl, docsParams("+14158675310"))).toBe(
      "GvWf1cFY/Q7PnoempGyD5oXAezc=",
    );
    expect(await verifyTwilioSignature("12345", docsUrl, docsParams("+14158675310"), "GvWf1cFY/Q7PnoempGyD5oXAezc="))
      .toBe(true);
    expect(await verifyTwilioSignature("12345", docsUrl, docsParams("+12349013030"), "GvWf1cFY/Q7PnoempGyD5oXAezc="))
      .toBe(false);
  });

  it("accepts the URL with and without its default port, both ways", async () => {
    const params = new URLSearchParams({ Body: "hi", From: "whatsapp:+15550100001" });
    for (
      const [withPort, withoutPort] of [
        ["https://x.example.com:443/path?q=1", "https://x.example.com/path?q=1"],
        ["http://x.example.com:80/path", "http://x.example.com/path"],
        ["https://user:pw@[2001:db8::1]:443/path", "https://user:pw@[2001:db8::1]/path"],
      ]
    ) {
      const signedWithPort = await computeTwilioSignature("token", withPort, params);
      const signedWithoutPort = await computeTwilioSignature("token", withoutPort, params);
      expect(signedWithPort).not.toBe(signedWithoutPort);
      expect(await verifyTwilioSignature("token", withoutPort, params, signedWithPort)).toBe(true);
      expect(await verifyTwilioSignature("token", withPort, params, signedWithoutPort)).toBe(true);
      expect(await verifyTwilioSignature("token", withPort, params, signedWithPort)).toBe(true);
      expect(await verifyTwilioSignature("token", withoutPort, params, signedWithoutPort)).toBe(true);
    }
  });

  it("never drops a port that is not the default, nor adds the other scheme's", async () => {
    const params = new URLSearchParams({ Body: "hi" });
    const local = "http://127.0.0.1:54321/functions/v1/whatsapp-webhook";
    const signed = await computeTwilioSignature("token", local, params);
    expect(await verifyTwilioSignature("token", local, params, signed)).toBe(true);
    const portless = "http://127.0.0.1/functions/v1/whatsapp-webhook";
    expect(await verifyTwilioSignature("token", portless, params, signed)).toBe(false);
    const signedPortless = await computeTwilioSignature("token", portless, params);
    expect(await verifyTwilioSignature("token", local, params, signedPortless)).toBe(false);
    const https443 = await computeTwilioSignature("token", "https://x.example.com:443/path", params);
    expect(await verifyTwilioSignature("token", "http://x.example.com/path", params, https443)).toBe(false);
    const http443 = await computeTwilioSignature("token", "http://x.example.com:443/path", params);
    expect(await verifyTwilioSignature("token", "http://x.example.com/path", params, http443)).toBe(false);
  });

  it("rejects a wrong token, a changed, added or removed parameter, another URL and a missing signature", async () => {
    const url = "https://x.example.com/functions/v1/whatsapp-webhook";
    const params = new URLSearchParams({
      MessageSid: `SM${"a".repeat(32)}`,
      Body: "50%",
      From: "whatsapp:+15550100001",
    });
    const signature = await computeTwilioSignature("right-token", url, params);
    expect(await verifyTwilioSignature("right-token", url, params, signature)).toBe(true);

    expect(await verifyTwilioSignature("wrong-token", url, params, signature)).toBe(false);
    const changed = new URLSearchParams(params);
    changed.set("Body", "100%");
    expect(await verifyTwilioSignature("right-token", url, changed, signature)).toBe(false);
    const added = new URLSearchParams(params);
    added.append("NumMedia", "0");
    expect(await verifyTwilioSignature("right-token", url, added, signature)).toBe(false);
    const removed = new URLSearchParams(params);
    removed.delete("Body");
    expect(await verifyTwilioSignature("right-token", url, removed, signature)).toBe(false);
    expect(await verifyTwilioSignature("right-token", `${url}?x=1`, params, signature)).toBe(false);

    expect(await verifyTwilioSignature("right-token", url, params, null)).toBe(false);
    expect(await verifyTwilioSignature("right-token", url, params, "")).toBe(false);
    expect(await verifyTwilioSignature("right-token", url, params, "not base64 at all!")).toBe(false);
    expect(await verifyTwilioSignature("right-token", url, params, signature.slice(0, 20))).toBe(false);
    expect(await verifyTwilioSignature("right-token", url, params, btoa("x".repeat(21)))).toBe(false);
    expect(await verifyTwilioSignature("", url, params, signature)).toBe(false);
  });

  it("sorts repeated keys' values, counting identical ones once as Twilio's SDKs do", async () => {
    const url = "https://x.example.com/hook";
    const oneOrder = new URLSearchParams("b=1&a=2&a=1&c=");
    const otherOrder = new URLSearchParams("c=&a=1&b=1&a=2");
    const signature = await computeTwilioSignature("token", url, oneOrder);
    expect(await computeTwilioSignature("token", url, otherOrder)).toBe(signature);
    expect(signature).toBe(hmacSha1Base64("token", `${url}a1a2b1c`));
    expect(await verifyTwilioSignature("token", url, otherOrder, signature)).toBe(true);
    expect(await verifyTwilioSignature("token", url, new URLSearchParams("a=1&b=1&c="), signature)).toBe(false);
    // twilio-node (new Set) and twilio-python (set()) both sign a value repeated under one key once.
    expect(await computeTwilioSignature("token", url, new URLSearchParams("a=1&a=1"))).toBe(
      hmacSha1Base64("token", `${url}a1`),
    );
  });

  it("builds a request the way Twilio sends it, which verifies on arrival", async () => {
    const url = "http://127.0.0.1:54321/functions/v1/whatsapp-webhook?tenant=demo";
    const params = { Body: "Fotos & 50% hecho ✅ 🚧", From: "whatsapp:+15550100001", ProfileName: "Alice O'Neil" };
    const request = await signedTwilioRequest({ url, authToken: "local-dev-token", params });
    expect(request.method).toBe("POST");
    expect(request.url).toBe(url);
    expect(request.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
    const received = new URLSearchParams(await request.text());
    expect(Object.fromEntries(received)).toEqual(params);
    const signature = request.headers.get("x-twilio-signature");
    expect(signature).toBe(await computeTwilioSignature("local-dev-token", url, new URLSearchParams(params)));
    expect(await verifyTwilioSignature("local-dev-token", request.url, received, signature)).toBe(true);
    expect(await verifyTwilioSignature("another-token", request.url, received, signature)).toBe(false);
  });
});

describe("parseTwilioForm", () => {
  const sid = `SM${"0123456789abcdef".repeat(2)}`;
  const base = { MessageSid: sid, From: "whatsapp:+15550100001", To: "whatsapp:+14155238886", Body: "hola" };
  const parse = (fields: Record<string, string>) => parseTwilioForm(new URLSearchParams(fields));
  const reason = (fields: Record<string, string>) => {
    const result = parse(fields);
    return result.ok ? "(accepted)" : result.reason;
  };
  const without = (key: keyof typeof base) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));

  it("reads a message with text, two photos and Twilio's other fields", () => {
    const result = parse({
      ...base,
      Body: "Avance del techo",
      NumMedia: "2",
      MediaUrl0: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
      MediaContentType0: "image/jpeg",
      MediaUrl1: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2",
      MediaContentType1: "image/png",
      ProfileName: "Alice",
      WaId: "15550100001",
      AccountSid: `AC${"1".repeat(32)}`,
      ApiVersion: "2010-04-01",
      SmsMessageSid: sid,
      NumSegments: "1",
      MessageType: "image",
      SomeFieldTwilioAddsNextYear: "whatever",
    });
    expect(result).toEqual({
      ok: true,
      message: {
        messageId: sid,
        from: "+15550100001",
        to: "+14155238886",
        body: "Avance del techo",
        media: [
          { url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", contentType: "image/jpeg" },
          { url: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME2", contentType: "image/png" },
        ],
        profileName: "Alice",
        waId: "15550100001",
      },
    });
  });

  it("reads a plain text message, leaving the optional fields out", () => {
    const result = parse(base);
    expect(result).toEqual({
      ok: true,
      message: { messageId: sid, from: "+15550100001", to: "+14155238886", body: "hola", media: [] },
    });
    if (!result.ok) throw new Error("unreachable");
    expect(result.message).not.toHaveProperty("profileName");
    expect(result.message).not.toHaveProperty("waId");
  });

  it("accepts media without text, and media beyond NumMedia is ignored", () => {
    const result = parse({
      ...without("Body"),
      NumMedia: "1",
      MediaUrl0: "http://media.example/1.jpg",
      MediaContentType0: "image/jpeg",
      MediaUrl1: "http://media.example/2.jpg",
    });
    expect(result.ok && result.message.body).toBe("");
    expect(result.ok && result.message.media).toEqual([{
      url: "http://media.example/1.jpg",
      contentType: "image/jpeg",
    }]);
  });

  it("names the missing or malformed field", () => {
    expect(reason(without("From"))).toBe("From is required");
    for (
      const from of [
        "+15550100001",
        "whatsapp:15550100001",
        "whatsapp:+05550100001",
        "whatsapp:+12345",
        "sms:+15550100001",
        "",
      ]
    ) {
      expect(reason({ ...base, From: from })).toBe("From must be whatsapp:+<E.164 number>");
    }
    expect(reason(without("To"))).toBe("To is required");
    expect(reason({ ...base, To: "whatsapp:+1415523888612345" })).toBe("To must be whatsapp:+<E.164 number>");
    expect(reason(without("MessageSid"))).toBe("MessageSid is required");
    expect(reason({ ...base, MessageSid: "SM123" })).toMatch(/^MessageSid must be a Twilio message SID/);
    expect(reason({ ...base, MessageSid: `sm${"a".repeat(32)}` })).toMatch(/^MessageSid must be/);
    expect(reason({ ...base, Body: "x".repeat(4097) })).toBe("Body must be at most 4096 characters");
    expect(parse({ ...base, Body: "x".repeat(4096) }).ok).toBe(true);
    for (const count of ["11", "-1", "1.5", "two", ""]) {
      expect(reason({ ...base, NumMedia: count })).toBe("NumMedia must be a whole number from 0 to 10");
    }
  });

  it("wants every photo NumMedia announces, with an http(s) URL and a content type", () => {
    const one = { MediaUrl0: "https://media.example/1.jpg", MediaContentType0: "image/jpeg" };
    expect(reason({ ...base, NumMedia: "2", ...one, MediaContentType1: "image/jpeg" }))
      .toBe("MediaUrl1 is required when NumMedia is 2");
    expect(reason({ ...base, NumMedia: "2", ...one, MediaUrl1: "https://media.example/2.jpg" }))
      .toBe("MediaContentType1 is required when NumMedia is 2");
    for (const url of ["ftp://media.example/1.jpg", "javascript:alert(1)", "not a url", "/relative.jpg"]) {
      expect(reason({ ...base, NumMedia: "1", ...one, MediaUrl0: url })).toBe("MediaUrl0 must be an http(s) URL");
    }
    expect(reason({ ...base, NumMedia: "1", ...one, MediaContentType0: "jpeg" }))
      .toBe("MediaContentType0 must be a MIME type such as image/jpeg");
  });

  it("refuses a message with neither text nor media", () => {
    expect(reason(without("Body"))).toBe("Body is empty and the message has no media");
    expect(reason({ ...base, Body: "" })).toBe("Body is empty and the message has no media");
    expect(reason({ ...base, Body: " \n\t ", NumMedia: "0" })).toBe("Body is empty and the message has no media");
  });

  it("reads the first value of a repeated field", () => {
    const params = new URLSearchParams(base);
    params.append("From", "whatsapp:+15550100002");
    const result = parseTwilioForm(params);
    expect(result.ok && result.message.from).toBe("+15550100001");
  });
});

describe("TwiML", () => {
  it("escapes what XML needs escaped", () => {
    expect(twiml([`Tom & Jerry <b>"50%"</b> it's`])).toBe(
      `${XML_HEAD}<Response><Message>Tom &amp; Jerry &lt;b&gt;&quot;50%&quot;&lt;/b&gt; it&apos;s</Message></Response>`,
    );
    expect(TWIML_CONTENT_TYPE).toBe("text/xml; charset=utf-8");
  });

  it("answers nothing with an empty response, skipping blank messages", () => {
    expect(twiml([])).toBe(`${XML_HEAD}<Response/>`);
    expect(twiml(["", "  \n"])).toBe(`${XML_HEAD}<Response/>`);
    expect(twiml(["one", "", "two"])).toBe(
      `${XML_HEAD}<Response><Message>one</Message><Message>two</Message></Response>`,
    );
    expect(parseTwiml(twiml([]))).toEqual([]);
  });

  it("splits a 4000-character message at spaces into three of at most 1600", () => {
    const words = Array.from({ length: 1000 }, (_, i) => `w${i}`).join(" ");
    const text = words.slice(0, 4000).trimEnd();
    expect(text.length).toBeGreaterThan(3990);
    const parts = parseTwiml(twiml([text]));
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(1600);
    // Each split consumed exactly one space and nothing else.
    expect(parts.join(" ")).toBe(text);
  });

  it("prefers a newline in the second half of the window to a later space", () => {
    const first = "a ".repeat(500) + "a"; // 1001 characters
    const second = "b ".repeat(600) + "b";
    const parts = parseTwiml(twiml([`${first}\n${second}`]));
    expect(parts).toEqual([first, second]);
  });

  it("cuts text without spaces hard, never inside a surrogate pair", () => {
    expect(parseTwiml(twiml(["x".repeat(3500)])).map((p) => p.length)).toEqual([1600, 1600, 300]);
    const emoji = `x${"😀".repeat(1000)}`;
    const parts = parseTwiml(twiml([emoji]));
    expect(parts.map((p) => p.length)).toEqual([1599, 402]);
    expect(parts.join("")).toBe(emoji);
    for (const part of parts) expect(hasLoneSurrogate(part)).toBe(false);
  });

  it("drops characters XML cannot carry and keeps carriage returns", () => {
    expect(parseTwiml(twiml(["a\u0000b\u001Fc\uFFFEd\uD800e"]))).toEqual(["abcde"]);
    expect(twiml(["line\r\nnext"])).toContain("line&#13;\nnext");
    expect(parseTwiml(twiml(["line\r\nnext"]))).toEqual(["line\r\nnext"]);
  });

  it("reads back messages in order, entities once, and a <Body> noun", () => {
    const texts = ["Elige una tarea:\n1. Techo\n2. Muro", "&lt; is written <", "'quoted' & \"double\"", "✅ listo 🚧"];
    expect(parseTwiml(twiml(texts))).toEqual(texts);
    expect(
      parseTwiml(
        `${XML_HEAD}<Response><Message to="+1"><Body>hi &#x1F600;&#65;</Body><Media>https://m/1.jpg</Media></Message><Message/></Response>`,
      ),
    )
      .toEqual(["hi 😀A", ""]);
  });
});

describe("properties over 200 random inputs", () => {
  // Seeded, so a failure reproduces; the seed is in the failure message.
  const seed = 0x5eed_2026;
  const random = mulberry32(seed);
  const int = (max: number) => Math.floor(random() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];

  function randomChar(): string {
    switch (int(10)) {
      case 0:
        return pick(["&", "<", ">", '"', "'", ";", "#", "&amp;", "&#13;"]);
      case 1:
        return pick([" ", " ", "\n", "\r", "\t", "\u00A0", "\u2028", "\u3000"]);
      case 2:
        return String.fromCharCode(int(0x20)); // control characters
      case 3:
        return String.fromCharCode(0xd800 + int(0x800)); // a lone surrogate
      case 4:
        return String.fromCodePoint(0x10000 + int(0x100000)); // astral, a proper pair
      case 5:
        return pick(["\uFFFE", "\uFFFF", "\uFEFF", "\u0000"]);
      case 6:
        return String.fromCharCode(0x80 + int(0xd800 - 0x80));
      default:
        return String.fromCharCode(0x20 + int(0x5f)); // printable ASCII
    }
  }

  function randomText(): string {
    const long = random() < 0.3;
    const length = long ? 1500 + int(3500) : int(80);
    const noSpaces = long && random() < 0.3;
    let text = "";
    while (text.length < length) {
      const c = randomChar();
      text += noSpaces && /\s/.test(c) ? "x" : c;
    }
    return text;
  }

  // Half the time a valid form, otherwise one with a few random changes; always some unknown keys.
  function randomForm(): [string, string][] {
    const hex = () => Array.from({ length: 32 }, () => "0123456789abcdef"[int(16)]).join("");
    const phone = () => `+${1 + int(9)}${Array.from({ length: 6 + int(9) }, () => int(10)).join("")}`;
    const media = int(4);
    const entries: [string, string][] = [
      ["MessageSid", `${pick(["SM", "MM"])}${hex()}`],
      ["From", `whatsapp:${phone()}`],
      ["To", `whatsapp:${phone()}`],
      ["Body", media && random() < 0.3 ? "" : `${pick(["ok", "50%", "<b>"])}${randomText()}`.slice(0, 4096)],
      ["NumMedia", String(media)],
      ["ProfileName", randomText()],
      ["WaId", phone().slice(1)],
    ];
    for (let i = 0; i < media; i++) {
      entries.push([`MediaUrl${i}`, `https://media.example/${i}.jpg`], [`MediaContentType${i}`, "image/jpeg"]);
    }
    for (let i = int(4); i > 0; i--) {
      entries.push([pick(["__proto__", "constructor", "toString", "AccountSid", randomText()]), randomText()]);
    }
    if (random() < 0.5) {
      for (let i = 1 + int(3); i > 0; i--) {
        const at = int(entries.length);
        const change = int(4);
        if (change === 0) entries.splice(at, 1);
        else if (change === 1) entries[at] = [entries[at][0], randomText()];
        else if (change === 2) entries[at] = [entries[at][0], pick(["", "-1", "11", "2", "ftp://x/y", "+15550100001"])];
        else entries.push([entries[at][0], randomText()]); // a repeated key
      }
    }
    return entries.sort(() => random() - 0.5);
  }

  it("parseTwilioForm never throws, and what it accepts is a well-formed message", () => {
    let accepted = 0;
    for (let run = 0; run < 200; run++) {
      const params = new URLSearchParams(randomForm());
      const result = parseTwilioForm(params);
      if (!result.ok) {
        expect(result.reason, `seed ${seed}, run ${run}`).toMatch(/^[A-Z]\S* .{5,100}$/);
        continue;
      }
      accepted++;
      const { message } = result;
      expect(message.messageId).toMatch(/^[A-Z]{2}[0-9a-fA-F]{32}$/);
      expect(message.from).toMatch(/^\+[1-9][0-9]{6,14}$/);
      expect(message.to).toMatch(/^\+[1-9][0-9]{6,14}$/);
      expect(message.body).toBe(params.get("Body") ?? "");
      expect(message.media).toHaveLength(Number(params.get("NumMedia") ?? 0));
      expect(message.body.trim() !== "" || message.media.length > 0).toBe(true);
      for (const media of message.media) expect(media.url).toMatch(/^https?:\/\//);
    }
    // The generator is meant to produce both; if it stops doing so this test tests little.
    expect(accepted).toBeGreaterThan(10);
    expect(accepted).toBeLessThan(190);
  });

  it("signatures agree with an independent HMAC and survive the form encoding", async () => {
    for (let run = 0; run < 200; run++) {
      const params = new URLSearchParams(randomForm());
      const url = pick(["https://hooks.example.com/functions/v1/whatsapp-webhook", "http://127.0.0.1:54321/x?y=1&z"]);
      const token = pick(["local-dev-token", "0123456789abcdef0123456789abcdef"]);
      const signature = await computeTwilioSignature(token, url, params);
      expect(signature, `seed ${seed}, run ${run}`).toBe(twilioNodeSignature(token, url, params));
      const received = new URLSearchParams(params.toString());
      expect(await verifyTwilioSignature(token, url, received, signature)).toBe(true);
      const flipped = signature[0] === "A" ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
      expect(await verifyTwilioSignature(token, url, received, flipped)).toBe(false);
    }
  });

  it("twiml then parseTwiml gives the text back, split only at whitespace when long", () => {
    for (let run = 0; run < 200; run++) {
      const count = int(4);
      const texts = Array.from({ length: count }, randomText);
      const parts = parseTwiml(twiml(texts));
      const expected = texts.map(xmlCharactersOnly).filter((text) => text.trim() !== "");
      let next = 0;
      for (const text of expected) {
        const context = `seed ${seed}, run ${run}, text ${JSON.stringify(text.slice(0, 40))}…`;
        if (text.length <= 1600) {
          expect(parts[next++], context).toBe(text);
          continue;
        }
        // Consume the parts that make up this text: each one found at the current position after
        // skipping only whitespace, each at most 1600 characters, never blank, no pair split.
        let position = 0;
        while (position < text.length && text.slice(position).trim() !== "") {
          const part = parts[next++];
          expect(part, context).toBeDefined();
          expect(part.length, context).toBeLessThanOrEqual(1600);
          expect(part.trim(), context).not.toBe("");
          expect(hasLoneSurrogate(part), context).toBe(false);
          while (!text.startsWith(part, position) && /\s/.test(text[position])) position++;
          expect(text.startsWith(part, position), context).toBe(true);
          position += part.length;
        }
      }
      expect(next, `seed ${seed}, run ${run}`).toBe(parts.length);
    }
  });
});

function hmacSha1Base64(key: string, data: string): string {
  return createHmac("sha1", key).update(Buffer.from(data, "utf-8")).digest("base64");
}

// twilio-node's getExpectedTwilioSignature, on node:crypto rather than WebCrypto.
function twilioNodeSignature(token: string, url: string, params: URLSearchParams): string {
  const grouped = new Map<string, string[]>();
  for (const [key, value] of params) grouped.set(key, [...(grouped.get(key) ?? []), value]);
  const data = [...grouped.keys()].sort().reduce(
    (acc, key) => acc + Array.from(new Set(grouped.get(key))).sort().map((value) => key + value).join(""),
    url,
  );
  return hmacSha1Base64(token, data);
}

// What XML 1.0 can carry, code point by code point.
function xmlCharactersOnly(text: string): string {
  let kept = "";
  for (const char of text) {
    const c = char.codePointAt(0)!;
    const allowed = c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (allowed) kept += char;
  }
  return kept;
}

function hasLoneSurrogate(text: string): boolean {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
