// Serves every edge function under functions/ the way Supabase's local stack does, without Docker:
// one Deno process per function (each with its own deno.json), behind a gateway that answers at
// http://127.0.0.1:54321/functions/v1/<name>. Deno only.
import { join } from "node:path";
import { freePort, projectRoot } from "./database.ts";

export interface EdgeFunction {
  name: string;
  entrypoint: string;
  config: string;
}

/** Folders of functions/ with an index.ts; `_shared` and other `_`/`.` folders are not functions. */
export function discoverFunctions(root = join(projectRoot, "functions")): EdgeFunction[] {
  const found: EdgeFunction[] = [];
  for (const entry of Deno.readDirSync(root)) {
    if (!entry.isDirectory || /^[_.]/.test(entry.name)) continue;
    const entrypoint = join(root, entry.name, "index.ts");
    try {
      Deno.statSync(entrypoint);
    } catch {
      continue;
    }
    found.push({ name: entry.name, entrypoint, config: join(root, entry.name, "deno.json") });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

interface Running {
  fn: EdgeFunction;
  port: number;
  child: Deno.ChildProcess;
}

export interface FunctionsServer {
  url: string;
  functions: string[];
  stop(): Promise<void>;
}

export async function serveFunctions(options: {
  hostname: string;
  port: number;
  env: Record<string, string>;
  log: (line: string) => void;
}): Promise<FunctionsServer> {
  const running: Running[] = [];
  for (const fn of discoverFunctions()) {
    const port = await freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", "--config", fn.config, fn.entrypoint],
      env: { ...options.env, DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}` },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    pipeLines(child.stdout, (line) => options.log(`[${fn.name}] ${line}`));
    pipeLines(child.stderr, (line) => options.log(`[${fn.name}] ${line}`));
    running.push({ fn, port, child });
  }
  await Promise.all(running.map((r) => waitForPort(r.port, r.child)));

  const byName = new Map(running.map((r) => [r.fn.name, r]));
  const gateway = Deno.serve({ hostname: options.hostname, port: options.port, onListen: () => {} }, async (req) => {
    const url = new URL(req.url);
    const match = url.pathname.match(/^\/functions\/v1\/([^/]+)(\/.*)?$/);
    const target = match && byName.get(match[1]);
    if (!target) {
      return Response.json({ error: "no such function", functions: [...byName.keys()] }, { status: 404 });
    }
    const upstream = new URL(url.pathname + url.search, `http://127.0.0.1:${target.port}`);
    const headers = new Headers(req.headers);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    try {
      return await fetch(upstream, { method: req.method, headers, body: req.body, redirect: "manual" });
    } catch {
      return Response.json({ error: `function ${target.fn.name} is not responding` }, { status: 502 });
    }
  });

  return {
    url: `http://${options.hostname}:${options.port}/functions/v1`,
    functions: running.map((r) => r.fn.name),
    async stop() {
      await gateway.shutdown();
      for (const r of running) {
        try {
          r.child.kill("SIGTERM");
        } catch { /* already gone */ }
      }
      await Promise.all(running.map((r) => r.child.status));
    },
  };
}

async function waitForPort(port: number, child: Deno.ChildProcess, timeoutMs = 30_000): Promise<void> {
  let exited = false;
  child.status.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`a function exited before listening on port ${port}`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`a function did not listen on port ${port} within ${timeoutMs} ms`);
}

/** Calls onLine for each non-blank line a child process writes. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const lines = buffer.split("\n");
    buffer = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line);
  }
  if (buffer.trim()) onLine(buffer);
}

function pipeLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) {
  return readLines(stream, (line) => {
    if (!line.startsWith("Listening on ")) onLine(line);
  });
}
