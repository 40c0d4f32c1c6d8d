// The load: every worker holds conversations, one after another, until the load ends. Most go one
// message at a time with a pause to think; some are sent all at once in a shuffled order (messages
// of one worker arriving together and out of order); some messages are delivered two or three times
// at the same moment; a sample is kept to be delivered again at the end, long after the first time.
import type { Client, Media, Message } from "./client.ts";
import type { Options } from "./options.ts";
import { Random, sleep } from "./random.ts";

type Step =
  | { say: string; media?: number }
  | { burst: number } // photos picked together: one webhook per photo, at the same moment
  | { silence: true }; // the worker goes quiet past the session timeout

interface Conversation {
  weight: number;
  name: string;
  steps: Step[];
}

export interface LoadControl {
  endsAt: number;
  /** Messages first sent before this instant may be sampled for the late duplicates. */
  lateCutoff: number;
}

export interface LoadStats {
  conversations: Map<string, number>;
  shuffled: number;
  messages: number;
  late: Message[];
}

const COMMENTS = [
  "First coat on the north wall",
  "Cabinets delivered, two are scratched",
  "Finished the east side today",
  "Waiting for the electrician",
  "Tiles replaced on the left slope",
];
const INCIDENTS = [
  "the scaffold on the east side is damaged",
  "water leaking through the roof near the chimney",
  "a worker hurt his hand on the saw",
];

/** The conversations a worker may hold, each with its weight. A string is a text message; `photo(n)` is
 *  one message with n photos, `burst(n)` n photo messages at the same moment, `silence` a pause past the
 *  session timeout (the cleanup closes the session; the next message hears about it). */
function conversations(r: Random): Conversation[] {
  const task = () => String(r.int(1, 3));
  const pct = () => `${r.int(1, 20) * 5}%`;
  const photo = (n: number): Step => ({ say: "", media: n });
  const burst = (n: number): Step => ({ burst: n });
  const silence: Step = { silence: true };
  const say = (...texts: (string | Step)[]) => texts.map((t) => (typeof t === "string" ? { say: t } : t));
  return [
    { weight: 5, name: "update, photo, comment, %, done, yes",
      steps: say(`update ${task()}`, photo(r.int(1, 2)), r.pick(COMMENTS), pct(), "done", "yes") },
    { weight: 2, name: "update, pick task, %, done, no, more, done, yes",
      steps: say("update", task(), pct(), "done", "no", r.pick(COMMENTS), "done", "yes") },
    { weight: 2, name: "incident, task, description, photo, done, yes",
      steps: say("incident", task(), r.pick(INCIDENTS), photo(1), "done", "yes") },
    { weight: 2, name: "update, comment, cancel", steps: say(`update ${task()}`, r.pick(COMMENTS), "cancel") },
    { weight: 2, name: "update 1, %, switch to 2, %, done, yes", steps: say("update 1", pct(), "update 2", pct(), "done", "yes") },
    { weight: 2, name: "update, photo burst, done, yes", steps: say(`update ${task()}`, burst(r.int(2, 5)), "done", "yes") },
    { weight: 1, name: "update, ambiguous, answer, done, yes",
      steps: say(`update ${task()}`, "there is a problem with the mixer", r.pick(["1", "2"]), "done", "yes") },
    { weight: 1, name: "near-miss word, answer, task, %, done, yes", steps: say("updte", "1", task(), pct(), "done", "yes") },
    { weight: 1, name: "hi, tasks, help", steps: say("hi", "tasks", "help") },
    { weight: 1, name: "update, %, silent past the session timeout", steps: say(`update ${task()}`, pct(), silence) },
  ];
}

function photos(sid: string, n: number): Media[] {
  return Array.from({ length: n }, (_, i) => ({
    url: `https://media.example.test/${sid}/${i}.jpg`,
    contentType: "image/jpeg",
  }));
}

export class Load {
  readonly stats: LoadStats = { conversations: new Map(), shuffled: 0, messages: 0, late: [] };

  constructor(
    readonly client: Client,
    /** Each worker draws from a random source of its own, so a seed replays the same conversations. */
    readonly seed: number,
    readonly options: Options,
    readonly control: LoadControl,
  ) {}

  run(numbers: string[]): Promise<void> {
    return Promise.all(numbers.map((n, i) => this.worker(n, new Random(this.seed * 7919 + i + 1)))).then(() => {});
  }

  private pickConversation(r: Random): Conversation {
    const all = conversations(r);
    let x = r.next() * all.reduce((total, c) => total + c.weight, 0);
    for (const c of all) {
      x -= c.weight;
      if (x < 0) return c;
    }
    return all[0];
  }

  private async worker(number: string, r: Random) {
    await sleep(r.int(0, 3000));
    while (Date.now() < this.control.endsAt) {
      const conversation = this.pickConversation(r);
      this.stats.conversations.set(conversation.name, (this.stats.conversations.get(conversation.name) ?? 0) + 1);
      const shuffled = conversation.steps.length > 2 && !conversation.steps.some((s) => "silence" in s) &&
        r.chance(this.options.shuffledShare);
      if (shuffled) {
        this.stats.shuffled++;
        // The whole conversation at once, in a random order, each message a little apart or not at all.
        await Promise.all(r.shuffle(conversation.steps).map(async (step) => {
          await sleep(r.int(0, 150));
          await this.step(number, step, r);
        }));
        await this.think(r);
        continue;
      }
      for (const step of conversation.steps) {
        if (Date.now() >= this.control.endsAt) break;
        await this.step(number, step, r);
        await this.think(r);
      }
    }
  }

  private think(r: Random) {
    const [min, max] = this.options.thinkMs;
    return sleep(r.int(min, max));
  }

  private async step(number: string, step: Step, r: Random) {
    if ("silence" in step) {
      const quietMs = (this.options.sessionTimeoutSeconds + this.options.cleanupEverySeconds + 2) * 1000;
      await sleep(Math.min(quietMs, this.control.endsAt - Date.now()));
      return;
    }
    if ("burst" in step) {
      await Promise.all(Array.from({ length: step.burst }, () => this.send(number, "", 1, r)));
      return;
    }
    await this.send(number, step.say, step.media ?? 0, r);
  }

  /** One message: usually one copy; sometimes 2 or 3 copies at the same moment. */
  private async send(number: string, body: string, mediaCount: number, r: Random) {
    const m = this.client.newMessage(number, body);
    if (mediaCount) m.media = photos(m.sid, mediaCount);
    this.stats.messages++;
    const copies = r.chance(this.options.concurrentDuplicateShare) ? r.int(2, 3) : 1;
    const deliveries = [this.client.deliver(m, "first")];
    for (let i = 1; i < copies; i++) {
      deliveries.push(sleep(r.int(0, 40)).then(() => this.client.deliver(m, "concurrent")));
    }
    await Promise.all(deliveries);
    if (m.firstSentAt! < this.control.lateCutoff && r.chance(this.options.lateDuplicateShare)) this.stats.late.push(m);
  }
}
