// An edge function served by Deno for real, on a free port, as `npm start` serves it.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort, projectRoot } from "../../scripts/lib/database.ts";

export interface ServedFunction {
  /** The function's URL in the shape of Supabase's local stack, without a trailing slash. */
  url: string;
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnFunction(name: string, port: number, env: Record<string, string | undefined>): ChildProcess {
  const fn = join(projectRoot, "functions", name);
  return spawn(join(projectRoot, "node_modules", ".bin", "deno"),
    ["run", "--allow-net", "--allow-env", "--allow-read", "--config", join(fn, "deno.json"), join(fn, "index.ts")], {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DENO_DIR: process.env.DENO_DIR,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
        ...env,
      } as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
}

/** Starts the function and waits until `probe` (a path under its URL) answers at all. */
export async function serveFunction(
  name: string,
  env: Record<string, string | undefined>,
  probe = "",
): Promise<ServedFunction> {
  const port = await freePort();
  const child = spawnFunction(name, port, env);
  let text = "";
  child.stdout!.on("data", (c) => (text += c));
  child.stderr!.on("data", (c) => (text += c));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const url = `http://127.0.0.1:${port}/functions/v1/${name}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited:\n${text}`);
    try {
      await fetch(`${url}${probe}`).then((r) => r.body?.cancel());
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${name} never listened:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    child,
    logs: () => text,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null) child.kill(signal);
      await exited;
    },
  };
}
