// One database per test run, on the server DATABASE_URL names or on an embedded PostgreSQL started
// here; migrated with the Supabase CLI; dropped at the end.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TestProject } from "vitest/node";
import { createDatabase, dropDatabase, freePort, prepareDatabase, projectRoot, redactUrl } from "../../scripts/lib/database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
    databaseUrl: string;
    databaseName: string;
  }
}

/** scripts/embedded-postgres.ts in a child process; it stops the server when our end of its stdin closes. */
async function startEmbedded(dataDir: string) {
  const child = spawn(join(projectRoot, "node_modules", ".bin", "deno"),
    ["run", "--allow-all", join(projectRoot, "scripts", "embedded-postgres.ts"), dataDir, String(await freePort())],
    { cwd: projectRoot, stdio: ["pipe", "pipe", "inherit"] });
  const exited = once(child, "exit");
  const [line] = await Promise.race([
    once(createInterface({ input: child.stdout! }), "line"),
    exited.then(([code]) => Promise.reject(new Error(`embedded PostgreSQL exited with ${code} before it was ready`))),
  ]);
  const { adminUrl } = JSON.parse(line as string) as { adminUrl: string };
  return { adminUrl, stop: async () => { child.stdin!.end(); await exited; } };
}

export default async function setup(project: TestProject) {
  let embedded: Awaited<ReturnType<typeof startEmbedded>> | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(join(tmpdir(), "fsm-test-pg-"));
    await chmod(dataDir, 0o755); // Postgres may run as another user (see startEmbeddedPostgres)
    embedded = await startEmbedded(join(dataDir, "data"));
    adminUrl = embedded.adminUrl;
  }
  const databaseName = `fsm_test_${Date.now().toString(36)}_${process.pid}`;
  const databaseUrl = await createDatabase(adminUrl, databaseName);
  console.log(`[tests] database ${databaseName} on ${redactUrl(adminUrl)}${embedded ? " (embedded PostgreSQL)" : ""}`);
  await prepareDatabase(databaseUrl);

  project.provide("adminUrl", adminUrl);
  project.provide("databaseUrl", databaseUrl);
  project.provide("databaseName", databaseName);

  return async () => {
    await dropDatabase(adminUrl, databaseName);
    if (embedded) await embedded.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };
}
