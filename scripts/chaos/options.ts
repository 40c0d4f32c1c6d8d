// The chaos run's settings: the default profile (a few minutes, duplicates a minute or more apart) and
// `--quick` (30 s of load, for CI). The seed, the number of workers, the load's length and the late duplicates' age
// can be set on the command line.
export interface Options {
  quick: boolean;
  seed: number;
  /** Workers talking at once, 3 open tasks each. */
  workers: number;
  /** How long the load runs; faults happen at fixed fractions of it. */
  loadSeconds: number;
  /** A sample of message ids is delivered again at the end, at least this long after their first delivery. */
  lateDuplicateAgeSeconds: number;
  /** Share of messages resent at the end. */
  lateDuplicateShare: number;
  /** Share of messages delivered 2 or 3 times at the same moment. */
  concurrentDuplicateShare: number;
  /** Share of conversations sent all at once, shuffled, instead of one message after another. */
  shuffledShare: number;
  /** Pause between a worker's messages. */
  thinkMs: [number, number];
  /** fsm_settings during the load (the defaults are 30 min, 30 s and 30 min). */
  sessionTimeoutSeconds: number;
  idempotencyLeaseSeconds: number;
  orphanThresholdSeconds: number;
  /** The cleanup clock during the load (pg_cron's job runs every 5 minutes). */
  cleanupEverySeconds: number;
  /** statement_timeout of the webhook's database role, as Supabase sets one per role. */
  statementTimeoutMs: number;
  /** How long the "hanging" statement sleeps: longer than the statement timeout. */
  hangMs: number;
  /** How long the side connection holds its row locks: longer than the functions' lock_timeout (5 s). */
  lockHoldMs: number;
  /** How long PostgreSQL stays down at each restart. */
  postgresDownMs: number;
  /** Client: give up on a message this long after the load ends (a breach: never answered 200). */
  deliveryGraceSeconds: number;
  /** Client: one HTTP attempt's timeout; Twilio gives up on a webhook after 15 s. */
  requestTimeoutMs: number;
  /** Keep the temporary directory (database, logs) even when the run passes. */
  keep: boolean;
  /** Warnings (an unplanned exit of the webhook, a fault that hit nothing) fail the run too. */
  strict: boolean;
}

const PROFILES: Record<"default" | "quick", Omit<Options, "quick" | "seed" | "keep" | "strict">> = {
  default: {
    workers: 300,
    loadSeconds: 150,
    lateDuplicateAgeSeconds: 60,
    lateDuplicateShare: 0.05,
    concurrentDuplicateShare: 0.08,
    shuffledShare: 0.15,
    thinkMs: [400, 2500],
    sessionTimeoutSeconds: 40,
    idempotencyLeaseSeconds: 10,
    orphanThresholdSeconds: 10,
    cleanupEverySeconds: 5,
    statementTimeoutMs: 8000,
    hangMs: 12000,
    lockHoldMs: 8000,
    postgresDownMs: 3000,
    deliveryGraceSeconds: 90,
    requestTimeoutMs: 15000,
  },
  quick: {
    workers: 120,
    loadSeconds: 30,
    lateDuplicateAgeSeconds: 20,
    lateDuplicateShare: 0.08,
    concurrentDuplicateShare: 0.1,
    shuffledShare: 0.2,
    thinkMs: [300, 1500],
    sessionTimeoutSeconds: 12,
    idempotencyLeaseSeconds: 5,
    orphanThresholdSeconds: 3,
    cleanupEverySeconds: 3,
    statementTimeoutMs: 6000,
    hangMs: 9000,
    lockHoldMs: 7000,
    postgresDownMs: 1500,
    deliveryGraceSeconds: 60,
    requestTimeoutMs: 15000,
  },
};

export const USAGE = `usage: npm run chaos -- [--quick] [--seed N] [--workers N] [--load-seconds N] [--late-age N] [--keep] [--strict]
  --quick              a short run for CI (${PROFILES.quick.loadSeconds} s of load instead of ${PROFILES.default.loadSeconds} s, ${PROFILES.quick.workers} workers)
  --seed N             replay a run: the same conversations, duplicates and fault targets (timings differ)
  --workers N          workers talking at once (default ${PROFILES.default.workers}, quick ${PROFILES.quick.workers})
  --load-seconds N     length of the load (faults happen at fixed fractions of it)
  --late-age N         resend a sample of messages at least N s after their first delivery
                       (default ${PROFILES.default.lateDuplicateAgeSeconds}, quick ${PROFILES.quick.lateDuplicateAgeSeconds})
  --keep               keep the temporary directory (database, webhook.log, postgres.log); kept anyway on failure
  --strict             warnings fail the run too (an unplanned exit of the webhook, a fault that hit nothing)`;

export function parseOptions(args: string[]): Options {
  const flag = (name: string) => args.includes(`--${name}`);
  const value = (name: string): string | undefined => {
    const at = args.indexOf(`--${name}`);
    if (at >= 0) return args[at + 1];
    return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const number = (name: string): number | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, not ${JSON.stringify(v)}`);
    return n;
  };
  const known = new Set(["quick", "seed", "workers", "load-seconds", "late-age", "keep", "strict", "help"]);
  for (const a of args) {
    const name = a.replace(/^--/, "").split("=")[0];
    if (a.startsWith("--") && !known.has(name)) throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  const quick = flag("quick");
  const profile = PROFILES[quick ? "quick" : "default"];
  return {
    ...profile,
    quick,
    seed: number("seed") ?? Math.floor(Math.random() * 2 ** 31),
    workers: number("workers") ?? profile.workers,
    loadSeconds: number("load-seconds") ?? profile.loadSeconds,
    lateDuplicateAgeSeconds: number("late-age") ?? profile.lateDuplicateAgeSeconds,
    keep: flag("keep"),
    strict: flag("strict"),
  };
}
