// The load: C virtual workers in parallel, each taking its own real workers in turn and running a whole
// conversation script with one, message after message (a worker's own messages never overlap, as on
// WhatsApp). The same driver runs the product over HTTP and the floor straight on the database.
import { type Script, SCRIPTS } from "./conversations.ts";
import { summarize, type Summary } from "./stats.ts";
import type { BenchWorker } from "./workers.ts";

export interface Outcome {
  ms: number;
  /** Set when the reply was not the expected one: counted, the run goes on. */
  error?: string;
}

/** Thrown by a sender when the product failed outright (non-200, an apology): the run stops. */
export class FatalReply extends Error {
  override name = "FatalReply";
}

export type Sender = (worker: BenchWorker, script: Script, line: number) => Promise<Outcome>;

export interface LevelResult {
  concurrency: number;
  messages: number;
  scripts: number;
  seconds: number;
  perSecond: number;
  latency: Summary;
  errors: number;
  errorSamples: string[];
}

export async function runLevel(options: {
  concurrency: number;
  workers: BenchWorker[];
  durationMs: number;
  send: Sender;
}): Promise<LevelResult> {
  const { concurrency, workers, send } = options;
  if (concurrency > workers.length) {
    throw new Error(`concurrency ${concurrency} needs at least as many workers, there are ${workers.length}`);
  }
  const latencies: number[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let scripts = 0;
  let stop = false;
  const started = performance.now();
  const deadline = started + options.durationMs;

  async function virtualWorker(v: number) {
    // Worker i belongs to virtual worker i mod C: no two virtual workers ever talk as the same worker.
    const mine = workers.filter((_, i) => i % concurrency === v);
    for (let k = 0; !stop && performance.now() < deadline; k++) {
      const worker = mine[k % mine.length];
      const script = SCRIPTS[worker.nextScript++ % SCRIPTS.length];
      // A started script is finished even past the deadline, so no session is left open.
      for (let line = 0; line < script.lines.length; line++) {
        const outcome = await send(worker, script, line);
        latencies.push(outcome.ms);
        if (outcome.error) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(outcome.error);
        }
      }
      scripts++;
    }
  }

  try {
    await Promise.all(Array.from({ length: concurrency }, (_, v) => virtualWorker(v)));
  } finally {
    stop = true;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    concurrency,
    messages: latencies.length,
    scripts,
    seconds,
    perSecond: latencies.length / seconds,
    latency: summarize(latencies),
    errors,
    errorSamples,
  };
}
