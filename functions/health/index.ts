// GET /functions/v1/health: is the function runtime up and can it reach the database.
// Says nothing about workers or sessions: it is public wherever the gateway does not check a JWT.
import postgres from "postgres";

const url = Deno.env.get("SUPABASE_DB_URL") ?? Deno.env.get("DATABASE_URL");
// prepare: false so it works through Supabase's transaction pooler (port 6543) too.
const sql = url ? postgres(url, { max: 1, prepare: false, idle_timeout: 20, connect_timeout: 5 }) : null;

export async function handler(req: Request): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return Response.json({ error: "use GET" }, { status: 405, headers: { allow: "GET, HEAD" } });
  }
  if (!sql) {
    return Response.json({ status: "degraded", database: "not configured (set SUPABASE_DB_URL)" }, { status: 503 });
  }
  const started = performance.now();
  try {
    await sql`select 1`;
    return Response.json({ status: "ok", database: "ok", latency_ms: Math.round(performance.now() - started) });
  } catch {
    return Response.json({ status: "degraded", database: "unreachable" }, { status: 503 });
  }
}

Deno.serve(handler);
