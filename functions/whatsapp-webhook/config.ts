// Settings from the environment, validated once at start; the reference design's defaults.
import { z } from "zod";
import { DEFAULT_ROUTING, type RoutingSettings } from "./router.ts";

const e164 = /^\+[1-9][0-9]{6,14}$/;

const schema = z.object({
  ENABLE_FSM: z.string().default("false").transform((v, ctx) => {
    const value = v.trim().toLowerCase();
    if (["true", "on", "1", "all"].includes(value)) return { mode: "on" as const };
    if (["false", "off", "0", ""].includes(value)) return { mode: "off" as const };
    const numbers = v.split(",").map((n) => n.trim()).filter(Boolean);
    const bad = numbers.filter((n) => !e164.test(n));
    if (bad.length) {
      ctx.addIssue({ code: "custom", message: "must be true, false, or a comma-separated list of E.164 numbers" });
      return z.NEVER;
    }
    return { mode: "list" as const, numbers: new Set(numbers) };
  }),
  LEGACY_WEBHOOK_URL: z.url().optional(),
  TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  TWILIO_WEBHOOK_URL: z.url().optional(),
  TWILIO_SIGNATURE_CHECK: z.enum(["on", "off"]).default("on"),
  FSM_DB_ADAPTER: z.enum(["supabase-js", "postgres"]).optional(),
  SUPABASE_URL: z.url().optional(),
  SUPABASE_SERVICE_ROLE_KEY: z.string().min(1).optional(),
  SUPABASE_DB_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  INTENT_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(DEFAULT_ROUTING.threshold),
  INTENT_CONFLICT_PENALTY: z.coerce.number().min(0).max(1).default(DEFAULT_ROUTING.conflictPenalty),
  CLARIFICATION_GAP: z.coerce.number().min(0).max(1).default(DEFAULT_ROUTING.clarificationGap),
}).superRefine((env, ctx) => {
  if (env.TWILIO_SIGNATURE_CHECK === "on" && !env.TWILIO_AUTH_TOKEN) {
    ctx.addIssue({ code: "custom", path: ["TWILIO_AUTH_TOKEN"], message: "is required while TWILIO_SIGNATURE_CHECK is on" });
  }
  const adapter = env.FSM_DB_ADAPTER ?? (env.SUPABASE_SERVICE_ROLE_KEY ? "supabase-js" : "postgres");
  if (adapter === "supabase-js" && !(env.SUPABASE_URL && env.SUPABASE_SERVICE_ROLE_KEY)) {
    ctx.addIssue({ code: "custom", path: ["SUPABASE_URL"], message: "SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY are required for the supabase-js adapter" });
  }
  if (adapter === "postgres" && !(env.SUPABASE_DB_URL || env.DATABASE_URL)) {
    ctx.addIssue({ code: "custom", path: ["SUPABASE_DB_URL"], message: "SUPABASE_DB_URL (or DATABASE_URL) is required for the postgres adapter" });
  }
});

export interface Config {
  fsm: { mode: "on" } | { mode: "off" } | { mode: "list"; numbers: Set<string> };
  legacyWebhookUrl?: string;
  twilio: { authToken?: string; webhookUrl?: string; checkSignature: boolean };
  database:
    | { adapter: "supabase-js"; url: string; serviceRoleKey: string }
    | { adapter: "postgres"; url: string };
  routing: RoutingSettings;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "env"} ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  const c = parsed.data;
  const adapter = c.FSM_DB_ADAPTER ?? (c.SUPABASE_SERVICE_ROLE_KEY ? "supabase-js" : "postgres");
  return {
    fsm: c.ENABLE_FSM,
    legacyWebhookUrl: c.LEGACY_WEBHOOK_URL,
    twilio: { authToken: c.TWILIO_AUTH_TOKEN, webhookUrl: c.TWILIO_WEBHOOK_URL, checkSignature: c.TWILIO_SIGNATURE_CHECK === "on" },
    database: adapter === "supabase-js"
      ? { adapter, url: c.SUPABASE_URL!, serviceRoleKey: c.SUPABASE_SERVICE_ROLE_KEY! }
      : { adapter, url: (c.SUPABASE_DB_URL ?? c.DATABASE_URL)! },
    routing: {
      ...DEFAULT_ROUTING,
      threshold: c.INTENT_CONFIDENCE_THRESHOLD,
      conflictPenalty: c.INTENT_CONFLICT_PENALTY,
      clarificationGap: c.CLARIFICATION_GAP,
    },
  };
}

export function fsmEnabledFor(config: Config, number: string): boolean {
  return config.fsm.mode === "on" || (config.fsm.mode === "list" && config.fsm.numbers.has(number));
}
