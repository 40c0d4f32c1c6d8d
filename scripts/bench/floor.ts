// The floor: the same two database calls per message (fsm_begin_message, fsm_apply_message, through
// the product's own store, postgres.js with prepare: false and the same pool size) for the same
// conversations, with no HTTP, no signature, no classification and no routing.
//
// What each message applies is worked out before the clock starts: each script is played once through
// the product's pure decide() + KeywordClassifier on a recording worker, and the steps and reply it
// produced become a plan; each floor worker's plans are those with its own task ids. In the timed
// loop only what the database alone knows is filled in from fsm_begin_message's answer: the session id
// and version to expect, and the pending clarification's id.
import { KeywordClassifier } from "../../functions/whatsapp-webhook/classifier/keyword.ts";
import { decide, type Step } from "../../functions/whatsapp-webhook/conversation.ts";
import type { FsmStore } from "../../functions/whatsapp-webhook/store/types.ts";
import { type Script, SCRIPTS } from "./conversations.ts";
import { FatalReply, type Outcome, type Sender } from "./load.ts";
import { messageSidGenerator } from "./twilio-client.ts";
import type { BenchWorker } from "./workers.ts";

interface Template {
  stepsJson: string;
  reply: string;
}

interface Plan {
  steps: Step[];
  reply: string;
  /** The resolve_clarification step whose id comes from the context at run time. */
  clarification?: Extract<Step, { op: "resolve_clarification" }>;
}

const CLARIFICATION = "@clarification@";
const taskToken = (i: number) => `@task${i + 1}@`;

/** Plays every script once on `recorder` as the webhook would, and keeps what it applied. */
export async function recordTemplates(store: FsmStore, recorder: BenchWorker): Promise<Template[][]> {
  const classifier = new KeywordClassifier();
  const nextSid = messageSidGenerator();
  const templates: Template[][] = [];
  for (const script of SCRIPTS) {
    const recorded: Template[] = [];
    for (const line of script.lines) {
      const messageId = nextSid();
      const begun = await store.begin(messageId, recorder.number);
      if (begun.status !== "claimed") throw new Error(`recording ${script.name}: begin answered ${begun.status}`);
      const context = begun.context;
      const media = line.media ?? [];
      const decision = decide({
        message: { body: line.body, media },
        context,
        classification: await classifier.classify({ text: line.body, mediaCount: media.length }),
      });
      if (!line.expect.test(decision.reply)) {
        throw new Error(`recording ${script.name}: ${JSON.stringify(line.body)} got ${JSON.stringify(decision.reply)}`);
      }
      const applied = await store.apply({
        messageId,
        claimToken: begun.claim_token,
        expectedSessionId: context.session?.id ?? null,
        expectedVersion: context.session?.version ?? null,
        steps: decision.steps,
        reply: decision.reply,
      });
      if (applied.status !== "applied") throw new Error(`recording ${script.name}: apply answered ${applied.status}`);
      let stepsJson = JSON.stringify(decision.steps);
      recorder.tasks.forEach((id, i) => (stepsJson = stepsJson.replaceAll(id, taskToken(i))));
      if (context.clarification) stepsJson = stepsJson.replaceAll(context.clarification.id, CLARIFICATION);
      recorded.push({ stepsJson, reply: decision.reply });
    }
    templates.push(recorded);
  }
  return templates;
}

/** Every worker's plans, ready before the clock starts: plans[worker id][script][line]. */
export function plansFor(workers: BenchWorker[], templates: Template[][]): Map<string, Plan[][]> {
  const plans = new Map<string, Plan[][]>();
  for (const worker of workers) {
    plans.set(
      worker.id,
      templates.map((script) =>
        script.map(({ stepsJson, reply }) => {
          let json = stepsJson;
          worker.tasks.forEach((id, i) => (json = json.replaceAll(taskToken(i), id)));
          const steps = JSON.parse(json) as Step[];
          const clarification = steps.find((s) => s.op === "resolve_clarification") as Plan["clarification"];
          return { steps, reply, clarification };
        })
      ),
    );
  }
  return plans;
}

export function floorSender(store: FsmStore, plans: Map<string, Plan[][]>): Sender {
  const nextSid = messageSidGenerator();
  return async (worker: BenchWorker, script: Script, index: number): Promise<Outcome> => {
    const plan = plans.get(worker.id)![SCRIPTS.indexOf(script)][index];
    const messageId = nextSid();
    const started = performance.now();
    const begun = await store.begin(messageId, worker.number);
    if (begun.status !== "claimed") throw new FatalReply(`floor: begin answered ${begun.status} for ${worker.number}`);
    const context = begun.context;
    if (plan.clarification) {
      if (!context.clarification) throw new FatalReply(`floor: no pending clarification for ${worker.number}`);
      plan.clarification.id = context.clarification.id;
    }
    const applied = await store.apply({
      messageId,
      claimToken: begun.claim_token,
      expectedSessionId: context.session?.id ?? null,
      expectedVersion: context.session?.version ?? null,
      steps: plan.steps,
      reply: plan.reply,
    });
    const ms = performance.now() - started;
    if (applied.status !== "applied") {
      throw new FatalReply(
        `floor: apply answered ${JSON.stringify(applied).slice(0, 300)} for ${worker.number} ${script.name}[${index}]`,
      );
    }
    return { ms };
  };
}
