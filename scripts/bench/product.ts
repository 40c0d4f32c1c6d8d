// The product's side of the load: each line of a script sent as a signed Twilio request to the webhook
// served by Deno, and its reply checked. A non-200 or an apology stops the run; a reply other than the
// expected one is counted as an error.
import { APOLOGIES, type Script } from "./conversations.ts";
import { FatalReply, type Outcome, type Sender } from "./load.ts";
import type { TwilioClient } from "./twilio-client.ts";
import type { BenchWorker } from "./workers.ts";

export function productSender(client: TwilioClient): Sender {
  return async (worker: BenchWorker, script: Script, index: number): Promise<Outcome> => {
    const line = script.lines[index];
    const reply = await client.send(worker.number, line.body, line.media);
    const text = reply.texts.join("\n");
    const where = `${worker.number} ${script.name}[${index}] ${JSON.stringify(line.body)} (${reply.messageSid})`;
    if (reply.status !== 200) {
      throw new FatalReply(`HTTP ${reply.status} for ${where}: ${reply.body.slice(0, 300)}`);
    }
    if (APOLOGIES.some((a) => text.includes(a))) {
      throw new FatalReply(`the webhook apologised for ${where}: the message failed in the product`);
    }
    if (!line.expect.test(text)) {
      return { ms: reply.ms, error: `${where}: expected ${line.expect}, got ${JSON.stringify(text.slice(0, 200))}` };
    }
    return { ms: reply.ms };
  };
}
