// One database per test run, on the server DATABASE_URL names or on an embedded PostgreSQL started
// here; migrated with the Supabase CLI; dropped at the end.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import {
  createDatabase,
  dropDatabase,
  freePort,
  prepareDatabase,
  redactUrl,
  type RunningPostgres,
  startEmbeddedPostgres,
} from "../../scripts/lib/database.ts";

declare module "vitest" {
  export interface ProvidedContext {
    adminUrl: string;
    databaseUrl: string;
    databaseName: string;
  }
}

export default async function setup(project: TestProject) {
  let embedded: RunningPostgres | undefined;
  let dataDir: string | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    dataDir = await mkdtemp(join(tmpdir(), "fsm-test-pg-"));
    await chmod(dataDir, 0o755); // Postgres may run as another user (see startEmbeddedPostgres)
    embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, "data"), port: await freePort() });
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
