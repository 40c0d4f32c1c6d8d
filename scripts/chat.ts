// `npm run chat -- --as +15550100001`: chat with the local webhook as a worker would on WhatsApp. Each line
// goes out as the form Twilio posts, signed as Twilio signs it; the TwiML reply is printed as `bot>` lines.
// Lines may be typed or piped in (piped lines are echoed as `you>`). /help lists the commands.
import { parseTwiml, signedTwilioRequest } from "../functions/whatsapp-webhook/twilio.ts";
import { localStack } from "./lib/local.ts";

const E164 = /^\+[1-9][0-9]{6,14}$/;
const TWILIO_NUMBER = "+14155238886"; // Twilio's WhatsApp sandbox number
const SAMPLE_PHOTO = { url: "https://demo.twilio.com/owl.png", contentType: "image/png" };
const HELP = `commands:
  /photo [caption]   send one photo, with the caption as its text
  /photos N          send N photos at the same moment, as N webhooks (as WhatsApp does for an album)
  /as <number>       go on as another worker (E.164, e.g. +15550100002)
  /help              this list
  /quit              leave (so does Ctrl-D)
anything else is sent as a text message`;

function option(name: string): string | undefined {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 ? Deno.args[at + 1] : Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

let worker = option("as") ?? "+15550100001";
const local = localStack();
const url = option("url") ?? local.webhookUrl;
const authToken = local.twilioToken;
const interactive = Deno.stdin.isTerminal();
if (!E164.test(worker)) {
  console.error(`--as wants an E.164 number such as +15550100001, not ${JSON.stringify(worker)}`);
  Deno.exit(2);
}

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
const accountSid = `AC${hex(16)}`;

type Media = { url: string; contentType: string };

// Twilio's inbound WhatsApp form, with the fields the webhook reads and the usual others.
function twilioForm(body: string, media: Media[]): Record<string, string> {
  const sid = `SM${hex(16)}`;
  const form: Record<string, string> = {
    MessageSid: sid,
    SmsMessageSid: sid,
    SmsSid: sid,
    AccountSid: accountSid,
    ApiVersion: "2010-04-01",
    From: `whatsapp:${worker}`,
    To: `whatsapp:${TWILIO_NUMBER}`,
    Body: body,
    NumMedia: String(media.length),
    NumSegments: "1",
    SmsStatus: "received",
    MessageType: media.length ? "image" : "text",
    ProfileName: "Local chat",
    WaId: worker.slice(1),
  };
  media.forEach((m, i) => {
    form[`MediaUrl${i}`] = m.url;
    form[`MediaContentType${i}`] = m.contentType;
  });
  return form;
}

/** One webhook delivery; the lines to print for its answer. */
async function send(body: string, media: Media[] = []): Promise<string[]> {
  try {
    const response = await fetch(await signedTwilioRequest({ url, authToken, params: twilioForm(body, media) }));
    const text = await response.text();
    if (response.status !== 200) return [`[http ${response.status}] ${text.trim()}`];
    if (!text.includes("<Response")) return [`[http 200, not TwiML] ${text.trim()}`];
    return parseTwiml(text).map((message) => `bot> ${message.replaceAll("\n", "\n     ")}`);
  } catch (error) {
    const cause = (error as Error).cause;
    const reason = `${(error as Error).message}${cause ? ` (${cause instanceof Error ? cause.message : cause})` : ""}`;
    if (/connection refused|ECONNREFUSED/i.test(reason)) {
      return [`[nothing listens at ${url}: start the local stack with \`npm start\` first]`];
    }
    return [`[error] ${reason}`];
  }
}

async function* lines(): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const complete = buffer.split(/\r?\n/);
    buffer = complete.pop() ?? "";
    yield* complete;
  }
  if (buffer) yield buffer;
}

const prompt = () => interactive && Deno.stdout.writeSync(new TextEncoder().encode("you> "));
const print = (output: string[]) => output.forEach((line) => console.log(line));

console.error(`chatting as ${worker} with ${url} (/help lists the commands)`);
prompt();
for await (const line of lines()) {
  const text = line.trim();
  if (!interactive && text) console.log(`you> ${line}`);
  const [command, argument = ""] = text.startsWith("/") ? [text.split(/\s/, 1)[0], text.replace(/^\S+\s*/, "")] : [""];
  if (!text) {
    // nothing to send: WhatsApp sends no empty messages
  } else if (command === "/quit") {
    break;
  } else if (command === "/help") {
    console.log(HELP);
  } else if (command === "/as") {
    if (E164.test(argument)) {
      worker = argument;
      console.log(`[now chatting as ${worker}]`);
    } else console.log("[/as wants an E.164 number, such as /as +15550100002]");
  } else if (command === "/photo") {
    print(await send(argument, [SAMPLE_PHOTO]));
  } else if (command === "/photos") {
    const count = Number(argument);
    if (Number.isInteger(count) && count >= 1 && count <= 10) {
      const answers = await Promise.all(Array.from({ length: count }, () => send("", [SAMPLE_PHOTO])));
      answers.forEach(print);
    } else console.log("[/photos wants a number from 1 to 10, such as /photos 3]");
  } else if (command) {
    console.log(`[unknown command ${command}; /help lists them]`);
  } else {
    print(await send(line));
  }
  prompt();
}
if (interactive) console.log();
