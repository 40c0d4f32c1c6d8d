import { describe, expect, it } from "vitest";
import { fsmEnabledFor, loadConfig } from "../../functions/whatsapp-webhook/config.ts";

const minimal = { TWILIO_AUTH_TOKEN: "t", SUPABASE_DB_URL: "postgresql://db" };

describe("the webhook's settings", () => {
  it("take the reference design's defaults: FSM off, signature checked, threshold 0.70", () => {
    const c = loadConfig(minimal);
    expect(c.fsm).toEqual({ mode: "off" });
    expect(c.twilio.checkSignature).toBe(true);
    expect(c.routing).toMatchObject({ threshold: 0.7, conflictPenalty: 0.3, clarificationGap: 0.15 });
    expect(c.database).toEqual({ adapter: "postgres", url: "postgresql://db" });
  });

  it("choose supabase-js when a service role key is given", () => {
    const c = loadConfig({ TWILIO_AUTH_TOKEN: "t", SUPABASE_URL: "https://x.supabase.co", SUPABASE_SERVICE_ROLE_KEY: "k" });
    expect(c.database).toEqual({ adapter: "supabase-js", url: "https://x.supabase.co", serviceRoleKey: "k" });
  });

  it("roll out to a list of numbers", () => {
    const c = loadConfig({ ...minimal, ENABLE_FSM: "+15550100001, +15550100002" });
    expect(fsmEnabledFor(c, "+15550100002")).toBe(true);
    expect(fsmEnabledFor(c, "+15550100003")).toBe(false);
    expect(fsmEnabledFor(loadConfig({ ...minimal, ENABLE_FSM: "true" }), "+15550100003")).toBe(true);
  });

  it.each([
    [{ SUPABASE_DB_URL: "postgresql://db" }, /TWILIO_AUTH_TOKEN is required while TWILIO_SIGNATURE_CHECK is on/],
    [{ TWILIO_AUTH_TOKEN: "t" }, /SUPABASE_DB_URL \(or DATABASE_URL\) is required/],
    [{ ...minimal, ENABLE_FSM: "maybe" }, /ENABLE_FSM must be true, false, or a comma-separated list/],
    [{ ...minimal, INTENT_CONFIDENCE_THRESHOLD: "1.5" }, /INTENT_CONFIDENCE_THRESHOLD/],
    [{ ...minimal, TWILIO_SIGNATURE_CHECK: "no" }, /TWILIO_SIGNATURE_CHECK/],
  ])("refuse a bad setting with its name: %j", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("allow the signature check off only when said explicitly", () => {
    expect(loadConfig({ SUPABASE_DB_URL: "postgresql://db", TWILIO_SIGNATURE_CHECK: "off" }).twilio.checkSignature).toBe(false);
  });
});
