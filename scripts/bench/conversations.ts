// The whole conversations a simulated worker has with the bot, one message after the other as on
// WhatsApp, each with the reply it must get. Every script ends with the session closed, so a worker can
// run them again and again in any order.
import { TEXTS } from "../../functions/whatsapp-webhook/messages.ts";
import type { Media } from "./twilio-client.ts";

export interface Line {
  body: string;
  media?: Media[];
  /** The reply must match; anything else counts as an error. */
  expect: RegExp;
}

export interface Script {
  name: string;
  lines: Line[];
}

/** Every bench worker has these three open tasks, numbered in this order. */
export const TASK_TITLES = ["Paint the north wall", "Install kitchen cabinets", "Replace roof tiles"] as const;

const PHOTO: Media = {
  url: "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM0/Media/ME0",
  contentType: "image/jpeg",
};

export const SCRIPTS: Script[] = [
  {
    name: "update",
    lines: [
      { body: "update 1", expect: /^Updating "Paint the north wall" \(now \d+%\)/ },
      { body: "", media: [PHOTO], expect: /^Photo saved \(1 so far\)/ },
      { body: "First coat on the north wall", expect: /^Comment saved/ },
      { body: "60%", expect: /^Progress set to 60%/ },
      { body: "done", expect: /^Please confirm the update of "Paint the north wall":\n• progress: 60%\n• photos: 1/ },
      { body: "yes", expect: /^Recorded, thank you! "Paint the north wall" is now at 60%/ },
    ],
  },
  {
    name: "incident",
    lines: [
      { body: "incident", expect: /^Which task is the incident about\?/ },
      { body: "2", expect: /^Incident on "Install kitchen cabinets"/ },
      { body: "The ladder fell off the scaffold", expect: /^Noted\./ },
      {
        body: "done",
        expect: /^Please confirm the incident on "Install kitchen cabinets":\n• The ladder fell off the scaffold/,
      },
      { body: "yes", expect: /^Incident on "Install kitchen cabinets" reported/ },
    ],
  },
  {
    name: "clarify+cancel",
    lines: [
      { body: "update 3", expect: /^Updating "Replace roof tiles"/ },
      { body: "there is a problem", expect: /^Do you want to:\n1\. Add it as a comment\n2\. Report an incident/ },
      { body: "1", expect: /^Comment saved/ },
      { body: "cancel", expect: /^Cancelled: nothing was recorded/ },
    ],
  },
];

export const MESSAGES_PER_ROUND = SCRIPTS.reduce((n, s) => n + s.lines.length, 0);

/** Replies that mean the product failed, whatever the script expected. */
export const APOLOGIES = [TEXTS.en.apology, TEXTS.fr.apology];
