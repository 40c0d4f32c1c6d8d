// The cost of one transition: the fsm_transition() RPC against the same statements written by hand,
// on sessions in collecting_data, with pgbench when it is installed (else a plain postgres.js loop).
// Each client has its own sessions and picks one at random per transaction, so the figure is the cost
// of a transition, not lock contention, and no session's history grows long.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { summarize, type Summary } from "./stats.ts";

export interface Variant {
  name: string;
  /** Requests per transaction, one per pgbench command. */
  requests: number;
  /** pgbench script body, after the `\set n …` line; `:n` is the session's number. */
  pgbench: string;
}

export interface CostResult {
  variant: string;
  clients: number;
  transactions: number;
  tps: number;
  latency: Summary;
  requests: number;
  tool: string;
}

const SID = `'00000000-0000-4000-8000-:n'::uuid`;
const BY_HAND = [
  `begin`,
  `select fsm_state, version, worker_id from public.progress_update_sessions where id = ${SID} for update`,
  `select to_state from public.fsm_transition_rules where from_state = 'collecting_data' and event = 'add_data'`,
  `insert into public.fsm_transition_log (session_id, worker_id, from_state, to_state, event, success, correlation_id)
   select id, worker_id, fsm_state, 'collecting_data', 'add_data', true, null
     from public.progress_update_sessions where id = ${SID}`,
  `update public.progress_update_sessions
      set session_metadata = jsonb_set(session_metadata, '{comments}',
                                       coalesce(session_metadata -> 'comments', '[]') || to_jsonb('x'::text)),
          version = version + 1, last_activity = now(), updated_at = now(),
          transition_history = transition_history || jsonb_build_object(
            'from', fsm_state, 'to', 'collecting_data', 'event', 'add_data', 'at', now(), 'correlation_id', null)
    where id = ${SID}`,
  `commit`,
];

export const VARIANTS: Variant[] = [
  {
    name: "fsm_transition() RPC",
    requests: 1,
    pgbench: `select public.fsm_transition(${SID}, 'add_data', null, '{"comment":"x"}', null);\n`,
  },
  { name: "by hand, 6 requests", requests: 6, pgbench: BY_HAND.map((s) => `${s};\n`).join("") },
  { name: "by hand, 1 request", requests: 1, pgbench: BY_HAND.join(" \\;\n") + ";\n" },
];

const FIRST = 100_000_000_000; // session n is the uuid 00000000-0000-4000-8000-<n>, 12 digits
const PER_CLIENT_SPAN = 100_000;

/** `clients` × `perClient` workers, each with one session in collecting_data, numbered for pgbench. */
export async function prepareSessions(sql: postgres.Sql, clients: number, perClient: number): Promise<void> {
  if (perClient >= PER_CLIENT_SPAN) throw new Error(`at most ${PER_CLIENT_SPAN - 1} sessions per client`);
  const [company] = await sql`insert into public.companies (name) values ('Transition cost') returning id`;
  await sql`
    with n as (select ${FIRST}::bigint + c * ${PER_CLIENT_SPAN} + k as n
                 from generate_series(0, ${clients - 1}::int) c, generate_series(1, ${perClient}::int) k),
    w as (
      insert into public.workers (id, company_id, whatsapp_number, display_name)
      select ('00000000-0000-4000-8000-' || n)::uuid, ${company.id}, '+1997' || lpad((n - ${FIRST})::text, 8, '0'),
             'Transition worker ' || n
        from n
      returning id
    ),
    t as (
      insert into public.tasks (id, company_id, worker_id, title)
      select id, ${company.id}, id, 'Transition task' from w
      returning id, worker_id
    )
    insert into public.progress_update_sessions (id, worker_id, task_id, fsm_state, session_metadata, version)
    select worker_id, worker_id, id, 'collecting_data', '{"comments": ["started"]}', 2 from t`;
}

export function findPgbench(explicit?: string): string | undefined {
  if (explicit) return explicit;
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir && existsSync(join(dir, "pgbench"))) return join(dir, "pgbench");
  }
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")].map((d) => d.name).filter((n) => /^\d+$/.test(n));
    for (const v of versions.sort((a, b) => Number(b) - Number(a))) {
      const path = `/usr/lib/postgresql/${v}/bin/pgbench`;
      if (existsSync(path)) return path;
    }
  } catch { /* no Debian PostgreSQL */ }
  return undefined;
}

export async function pgbenchVersion(pgbench: string): Promise<string> {
  const out = await new Deno.Command(pgbench, { args: ["--version"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

/** One pgbench run of `variant`: simple protocol (the by-hand scripts substitute inside literals). */
export async function runPgbench(options: {
  pgbench: string;
  url: string;
  variant: Variant;
  clients: number;
  perClient: number;
  seconds: number;
}): Promise<CostResult> {
  const { variant, clients } = options;
  const dir = await mkdtemp(join(tmpdir(), "fsm-bench-pgbench-"));
  try {
    const script = join(dir, "script.sql");
    await writeFile(
      script,
      `\\set n ${FIRST} + :client_id * ${PER_CLIENT_SPAN} + random(1, ${options.perClient})\n${variant.pgbench}`,
    );
    const threads = Math.min(clients, navigator.hardwareConcurrency || 1);
    const out = await new Deno.Command(options.pgbench, {
      args: [
        "-n",
        "-M",
        "simple",
        "-c",
        String(clients),
        "-j",
        String(threads),
        "-T",
        String(options.seconds),
        "-f",
        script,
        "-l",
        "--log-prefix",
        join(dir, "tx"),
        options.url,
      ],
      stdout: "piped",
      stderr: "piped",
      cwd: dir,
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    const failed = Number(text.match(/number of failed transactions: (\d+)/)?.[1] ?? NaN);
    if (!out.success || failed !== 0) throw new Error(`pgbench failed (${variant.name}):\n${text}`);
    const tps = Number(text.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1]);
    const latencies: number[] = [];
    for (const file of (await readdir(dir)).filter((f) => f.startsWith("tx."))) {
      for (const row of (await readFile(join(dir, file), "utf8")).split("\n")) {
        const fields = row.split(" ");
        if (fields.length >= 3) latencies.push(Number(fields[2]) / 1000); // µs → ms
      }
    }
    return {
      variant: variant.name,
      clients,
      transactions: latencies.length,
      tps,
      latency: summarize(latencies),
      requests: variant.requests,
      tool: "pgbench",
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same three variants from postgres.js, where pgbench is missing. */
export async function runPostgresJs(options: {
  url: string;
  variant: Variant;
  clients: number;
  perClient: number;
  seconds: number;
}): Promise<CostResult> {
  const { variant, clients } = options;
  const sql = postgres(options.url, { max: clients, prepare: false, onnotice: () => {} });
  const latencies: number[] = [];
  const deadline = performance.now() + options.seconds * 1000;
  const byHand = variant.requests === 6;
  try {
    await Promise.all(Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const n = FIRST + client * PER_CLIENT_SPAN + 1 + Math.floor(Math.random() * options.perClient);
        const text = variant.pgbench.replaceAll(":n", String(n));
        const started = performance.now();
        if (byHand) {
          await sql.begin(async (tx) => {
            for (const statement of BY_HAND.slice(1, -1)) await tx.unsafe(statement.replaceAll(":n", String(n)));
          });
        } else {
          await sql.unsafe(text.replaceAll(" \\;", ";"));
        }
        latencies.push(performance.now() - started);
      }
    }));
  } finally {
    await sql.end({ timeout: 5 });
  }
  const latency = summarize(latencies);
  return {
    variant: variant.name,
    clients,
    transactions: latencies.length,
    tps: latencies.length / options.seconds,
    latency,
    requests: variant.requests,
    tool: "postgres.js",
  };
}
