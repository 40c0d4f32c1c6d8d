// Settings from the environment, validated once at start: without a good DASHBOARD_SECRET the function
// does not start at all, so the dashboard is never served unprotected.
import { z } from "zod";
import { MIN_SECRET_LENGTH } from "./signing.ts";

const schema = z.object({
  DASHBOARD_SECRET: z.string({ error: `is required (at least ${MIN_SECRET_LENGTH} characters)` })
    .min(MIN_SECRET_LENGTH, { error: `must be at least ${MIN_SECRET_LENGTH} characters` }),
  SUPABASE_DB_URL: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
}).superRefine((env, ctx) => {
  if (!(env.SUPABASE_DB_URL || env.DATABASE_URL)) {
    ctx.addIssue({ code: "custom", path: ["SUPABASE_DB_URL"], message: "(or DATABASE_URL) is required" });
  }
});

export interface DashboardConfig {
  secret: string;
  databaseUrl: string;
}

export function loadConfig(env: Record<string, string | undefined>): DashboardConfig {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "env"} ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  return { secret: parsed.data.DASHBOARD_SECRET, databaseUrl: (parsed.data.SUPABASE_DB_URL ?? parsed.data.DATABASE_URL)! };
}
