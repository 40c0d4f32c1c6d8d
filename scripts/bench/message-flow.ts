// A steady stream of messages to the webhook while something else happens: each of a few hundred
// workers sends its next script line every `workers / rate` seconds (staggered, so the total is about
// `rate` messages a second), never two at once for the same worker. Every reply is kept with the time
// it was sent, so the figures can be cut into before, during and after.
import { APOLOGIES, type Line, SCRIPTS } from "./conversations.ts";
import { summarize, type Summary } from "./stats.ts";
import type { TwilioClient } from "./twilio-client.ts";
import type { BenchWorker } from "./workers.ts";

export interface FlowSample {
  /** performance.now() when it was sent. */
  at: number;
  ms: number;
  error?: string;
}

export interface Flow {
  samples: FlowSample[];
  stop(): Promise<void>;
}

export function startFlow(options: { client: TwilioClient; workers: BenchWorker[]; rate: number }): Flow {
  const { client, workers, rate } = options;
  const intervalMs = (workers.length / rate) * 1000;
  const samples: FlowSample[] = [];
  let stopped = false;
  const start = performance.now();

  async function worker(w: BenchWorker, offset: number) {
    let next = start + offset;
    let resync = false;
    while (!stopped) {
      // After a failed line the conversation is not where the script thinks: cancel, start afresh.
      const script = resync ? { name: "resync", lines: [RESYNC] } : SCRIPTS[w.nextScript++ % SCRIPTS.length];
      resync = false;
      for (const line of script.lines) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (stopped) return;
        const sample = await sendLine(client, w.number, line);
        samples.push(sample);
        next = Math.max(next + intervalMs, performance.now());
        if (sample.error) {
          sample.error = `${script.name} ${JSON.stringify(line.body)}: ${sample.error}`;
          resync = true;
          break;
        }
      }
    }
  }

  const running = Promise.all(workers.map((w, i) => worker(w, (i / workers.length) * intervalMs)));
  return {
    samples,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

const RESYNC: Line = { body: "cancel", expect: /^(Cancelled|Nothing to cancel)/ };

/** One message and its verdict: a non-200, an apology or an unexpected reply is an error. */
export async function sendLine(client: TwilioClient, number: string, line: Line): Promise<FlowSample> {
  const at = performance.now();
  try {
    const reply = await client.send(number, line.body, line.media);
    const text = reply.texts.join("\n");
    let error: string | undefined;
    if (reply.status !== 200) error = `HTTP ${reply.status}: ${reply.body.slice(0, 200)}`;
    else if (APOLOGIES.some((a) => text.includes(a))) error = "apology";
    else if (!line.expect.test(text)) error = `got ${JSON.stringify(text.slice(0, 120))}`;
    return { at, ms: reply.ms, error };
  } catch (e) {
    return { at, ms: performance.now() - at, error: `request failed: ${(e as Error).message}` };
  }
}

/**
 * Workers whose state the cleanup is working on (an open session idle past the timeout, a pending
 * clarification past its expiry): while `active()`, one of them, never the same twice, says "tasks"
 * every `everyMs`. Does a worker coming back wait for the cleanup, and for how long?
 */
export function startProbes(
  options: { client: TwilioClient; numbers: string[]; everyMs: number; active: () => boolean },
) {
  const samples: FlowSample[] = [];
  const line: Line = { body: "tasks", expect: /Your open tasks|You have no open tasks/ };
  let stopped = false;
  let next = 0;
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    if (stopped || !options.active() || next >= options.numbers.length) return;
    const p: Promise<void> = sendLine(options.client, options.numbers[next++], line).then((s) => {
      samples.push(s);
      inflight.delete(p);
    });
    inflight.add(p);
  }, options.everyMs);
  return {
    samples,
    sent: () => next,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inflight);
    },
  };
}

export interface PhaseSummary {
  name: string;
  seconds: number;
  messages: number;
  perSecond: number;
  latency: Summary;
  errors: number;
}

/** The messages sent between two performance.now() times. */
export function phase(name: string, samples: FlowSample[], from: number, to: number): PhaseSummary {
  const inPhase = samples.filter((s) => s.at >= from && s.at < to);
  const seconds = (to - from) / 1000;
  return {
    name,
    seconds,
    messages: inPhase.length,
    perSecond: inPhase.length / seconds,
    latency: summarize(inPhase.map((s) => s.ms)),
    errors: inPhase.filter((s) => s.error).length,
  };
}
