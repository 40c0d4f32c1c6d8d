// functions/fsm-dashboard without a database: escaping, the diagram's layout, signed links and session
// cookies, settings, and the handler's routes and refusals over a stub of the metrics.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/database.ts";
import { authenticate } from "../../functions/fsm-dashboard/auth.ts";
import { loadConfig } from "../../functions/fsm-dashboard/config.ts";
import { type DiagramInput, layoutDiagram, renderDiagram } from "../../functions/fsm-dashboard/diagram.ts";
import { contentSecurityPolicy, createHandler, routeOf } from "../../functions/fsm-dashboard/handler.ts";
import { escapeHtml, html } from "../../functions/fsm-dashboard/html.ts";
import type { DashboardMetrics, Rule } from "../../functions/fsm-dashboard/metrics.ts";
import { renderDashboard, STYLESHEET } from "../../functions/fsm-dashboard/render.ts";
import {
  constantTimeEqual,
  issueSession,
  LOCAL_DASHBOARD_SECRET,
  loginLink,
  SESSION_COOKIE,
  signLogin,
  verifyLogin,
  verifySession,
} from "../../functions/fsm-dashboard/signing.ts";

const SECRET = "unit-test-dashboard-secret";
const NOW = Date.UTC(2026, 10, 25, 12, 0, 0);
const BASE = "http://127.0.0.1:54321/functions/v1/fsm-dashboard";

/** The rules as the schema migration inserts them. */
function migrationRules(): Rule[] {
  const sql = readFileSync(join(projectRoot, "supabase", "migrations", "20261125000100_fsm_schema.sql"), "utf8");
  const block = sql.slice(sql.indexOf("insert into public.fsm_transition_rules"));
  const rules = [...block.slice(0, block.indexOf(");\n") + 1).matchAll(/\('([a-z_]+)',\s*'([a-z_]+)',\s*'([a-z_]+)',\s*'((?:[^']|'')*)'\)/g)]
    .map(([, from_state, event, to_state, description]) => ({ from_state, event, to_state, description }));
  expect(rules.length).toBeGreaterThanOrEqual(16);
  return rules;
}

function statesOf(rules: Rule[], open: Record<string, number> = {}) {
  const names = [...new Set(rules.flatMap((r) => [r.from_state, r.to_state]))];
  return names.map((state) => ({
    state,
    terminal: !rules.some((r) => r.from_state === state),
    open_now: open[state] ?? 0,
    entered: 0,
  }));
}

const EVIL = `<script>alert("x")</script>`;
const EVIL_ATTR = `"><img src=x onerror=alert(1)>`;

function fixture(): DashboardMetrics {
  const rules = migrationRules();
  return {
    generated_at: "2026-11-25T12:00:00+00:00",
    window: { seconds: 86400, since: "2026-11-24T12:00:00+00:00", until: "2026-11-25T12:00:00+00:00" },
    states: statesOf(rules, { collecting_data: 7, idle: 1 }),
    rules,
    transitions: [
      { from_state: null, to_state: "idle", event: "start", count: 12 },
      { from_state: "idle", to_state: "awaiting_action", event: "select_task", count: 9 },
      { from_state: "collecting_data", to_state: "collecting_data", event: "add_data", count: 30 },
    ],
    sessions: { open_now: 8, completed: 5, abandoned: 3 },
    abandoned_by_reason: [{ reason: "cancelled", sessions: 2 }, { reason: EVIL, sessions: 1 }],
    clarifications: { answered: 4, expired: 1, cancelled: 0, pending: 1, total: 6, answered_pct: 80 },
    stuck_sessions: {
      count: 1,
      idle_over_minutes: 120,
      oldest: [{ id: "0f0e0d0c-0000-4000-8000-000000000001", state: "collecting_data", session_type: EVIL, last_activity: "2026-11-25T08:00:00+00:00", idle_minutes: 240 }],
    },
    invalid_transitions: {
      count: 2,
      by_code: [{ error_code: "FS001", count: 2, last_seen: "2026-11-25T11:00:00+00:00" }],
      recent: [{ at: "2026-11-25T11:00:00+00:00", from_state: "idle", event: "confirm", error_code: "FS001", error: EVIL_ATTR, correlation_id: EVIL }],
    },
    dead_letters: {
      count: 1,
      recent: [{ message_id: `SM${EVIL_ATTR}`, error: `worker said ${EVIL}`, attempts: 2, created_at: "2026-11-25T10:00:00+00:00", processed_at: "2026-11-25T10:00:01+00:00" }],
    },
    messages: { total: 20, completed: 19, failed: 1, processing: 0 },
    messages_over_time: {
      bucket_seconds: 3600,
      buckets: Array.from({ length: 25 }, (_, i) => ({
        start: new Date(Date.UTC(2026, 10, 24, 12 + i)).toISOString(),
        completed: i % 5,
        failed: i === 3 ? 1 : 0,
        processing: 0,
      })),
    },
    success_criteria: [
      { criterion: "no_stuck_sessions", description: "Workers do not get stuck", target: "= 0", current_value: 1, met: false, window_value: 1, window_met: false },
      { criterion: "clarifications_answered", description: EVIL, target: "> 80 %", current_value: 80, met: false, window_value: null, window_met: true },
      { criterion: "no_double_execution", description: "No action is executed twice", target: "= 0", current_value: 0, met: true, window_value: null, window_met: null },
    ],
  };
}

describe("escaping", () => {
  it("escapes every interpolated value, in text and in attributes, and not what html`` built", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    const cell = html`<td title="${EVIL_ATTR}">${EVIL}</td>`;
    expect(cell.value).toBe(`<td title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</td>`);
    expect(html`<tr>${[cell, EVIL]}</tr>`.value).toBe(`<tr>${cell.value}&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</tr>`);
    expect(html`${null}${undefined}${false}${0}`.value).toBe("0");
  });

  it("renders what a worker or an error could control as text, never as markup", () => {
    const page = renderDashboard(fixture(), "day");
    expect(page).not.toContain(EVIL);
    expect(page).not.toContain("<img");
    expect(page).not.toMatch(/<script/i);
    // Every tag in the page is one the renderer wrote: none carries an event handler.
    const tags = page.match(/<[a-zA-Z][^>]*>/g)!;
    expect(tags.map((t) => t.replace(/"[^"]*"/g, '""')).filter((t) => /\son[a-z]+=/i.test(t))).toEqual([]);
    expect(page).toContain("worker said &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(page).toContain(`data-message="SM&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"`);
    // No inline script, style attribute or external resource: the CSP forbids all of them.
    expect(page).not.toMatch(/\sstyle=|<link|<img|https?:\/\//);
  });

  it("serves a stylesheet whose hash is the one the CSP allows", async () => {
    const page = renderDashboard(fixture(), "day");
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
    expect(styles).toEqual([STYLESHEET]);
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(styles[0]));
    const hash = Buffer.from(digest).toString("base64");
    expect(await contentSecurityPolicy()).toContain(`style-src 'sha256-${hash}'`);
  });
});

describe("the state diagram", () => {
  const input = (): DiagramInput => {
    const f = fixture();
    return { states: f.states, rules: f.rules, transitions: f.transitions };
  };

  it("has a box for every state and an arrow for every rule, labelled with its event and count", () => {
    const { rules, states } = input();
    const layout = layoutDiagram(input());
    expect(layout.nodes.map((n) => n.state).sort()).toEqual(states.map((s) => s.state).sort());
    for (const r of rules) {
      const edge = layout.edges.find((e) => e.from === r.from_state && e.to === r.to_state);
      expect(edge, `${r.from_state} -${r.event}-> ${r.to_state}`).toBeDefined();
      expect(edge!.labels.map((l) => l.event)).toContain(r.event);
    }
    const start = layout.edges.find((e) => e.kind === "start")!;
    expect(start).toMatchObject({ from: null, to: "idle", labels: [{ event: "start", count: 12, ruled: true }] });
    expect(layout.edges.find((e) => e.from === "collecting_data" && e.to === "collecting_data")).toMatchObject({ kind: "loop", total: 30 });
  });

  it("lays it out from the rules: idle first, the flow downwards, completed last, abandoned as a bar on the side", () => {
    const layout = layoutDiagram(input());
    const node = (s: string) => layout.nodes.find((n) => n.state === s)!;
    const flow = ["idle", "task_selection", "awaiting_action", "collecting_data", "confirmation_pending", "completed"];
    const ys = flow.map((s) => node(s).y);
    expect(ys).toEqual([...ys].sort((a, b) => a - b));
    expect(new Set(ys).size).toBe(flow.length);
    expect(node("abandoned")).toMatchObject({ sink: true, terminal: true });
    expect(node("abandoned").x).toBeGreaterThan(Math.max(...flow.map((s) => node(s).x + node(s).w)));
    // Boxes never overlap, and everything fits the drawing.
    for (const a of layout.nodes) {
      expect(a.x).toBeGreaterThanOrEqual(0);
      expect(a.x + a.w).toBeLessThanOrEqual(layout.width);
      expect(a.y + a.h).toBeLessThanOrEqual(layout.height);
      for (const b of layout.nodes) {
        if (a !== b) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y, `${a.state}/${b.state}`).toBe(true);
      }
    }
    // Every abandon arrow goes straight into the bar; ways back are arcs.
    expect(layout.edges.filter((e) => e.to === "abandoned").every((e) => e.kind === "sink")).toBe(true);
    expect(layout.edges.find((e) => e.from === "collecting_data" && e.to === "task_selection")!.kind).toBe("arc");
  });

  it("draws any other machine from its rules too", () => {
    const rules: Rule[] = [
      ["new", "triage", "triaged"], ["triaged", "assign", "in_progress"], ["in_progress", "work", "in_progress"],
      ["in_progress", "submit", "review"], ["review", "approve", "done"], ["review", "request_changes", "in_progress"],
      ["new", "cancel", "cancelled"], ["triaged", "cancel", "cancelled"], ["in_progress", "cancel", "cancelled"],
      ["review", "cancel", "cancelled"], ["new", "fast_track", "in_progress"],
    ].map(([from_state, event, to_state]) => ({ from_state, event, to_state, description: "" }));
    const layout = layoutDiagram({ states: statesOf(rules), rules, transitions: [] });
    expect(layout.nodes.map((n) => n.state).sort()).toEqual(["cancelled", "done", "in_progress", "new", "review", "triaged"]);
    const node = (s: string) => layout.nodes.find((n) => n.state === s)!;
    expect(node("new").y).toBeLessThan(node("triaged").y);
    expect(node("review").y).toBeLessThan(node("done").y);
    expect(node("cancelled").sink).toBe(true);
    expect(layout.edges.reduce((n, e) => n + e.labels.length, 0)).toBe(rules.length + 1); // and the start
    const svg = renderDiagram({ states: statesOf(rules), rules, transitions: [] }).value;
    for (const r of rules) expect(svg).toContain(`>${r.event} · `);
  });

  it("shows live counts in the boxes and flags a move no rule allows", () => {
    const f = input();
    f.transitions.push({ from_state: "completed", to_state: "idle", event: "reopen", count: 2 });
    const svg = renderDiagram(f).value;
    expect(svg).toContain(`data-state="collecting_data" data-count="7"`);
    expect(svg).toContain(`data-state="idle" data-count="1"`);
    expect(svg).toMatch(/<g class="edge bad" data-from="completed" data-to="idle">/);
    expect(svg).toMatch(/class="unruled">reopen · /);
  });
});

describe("signed links", () => {
  it("accepts a fresh link", async () => {
    const link = new URL(await loginLink(BASE, SECRET, 600, NOW));
    expect(link.pathname).toBe("/functions/v1/fsm-dashboard/login");
    const expires = link.searchParams.get("expires")!;
    expect(Number(expires)).toBe(NOW / 1000 + 600);
    expect(link.searchParams.get("sig")).toBe(await signLogin(SECRET, Number(expires)));
    expect(await verifyLogin(SECRET, expires, link.searchParams.get("sig"), NOW)).toEqual({ ok: true, expires: Number(expires) });
    expect((await verifyLogin(SECRET, expires, link.searchParams.get("sig")!.toUpperCase(), NOW + 599_000)).ok).toBe(true);
  });

  it("rejects an expired, a forged, a foreign, a far-future or a malformed link", async () => {
    const link = new URL(await loginLink(BASE, SECRET, 600, NOW));
    const expires = link.searchParams.get("expires")!;
    const sig = link.searchParams.get("sig")!;
    const check = (e: string | null, s: string | null, now = NOW) => verifyLogin(SECRET, e, s, now);
    expect(await check(expires, sig, NOW + 600_000)).toEqual({ ok: false, reason: "expired" });
    expect(await check(expires, sig.replace(/.$/, (c) => (c === "0" ? "1" : "0")))).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check(String(Number(expires) + 60), sig)).toEqual({ ok: false, reason: "bad_signature" });
    expect(await check(expires, await signLogin("some-other-secret-value", Number(expires)))).toEqual({ ok: false, reason: "bad_signature" });
    const far = NOW / 1000 + 3601;
    expect(await check(String(far), await signLogin(SECRET, far))).toEqual({ ok: false, reason: "too_far_ahead" });
    expect((await check(String(NOW / 1000 + 3600), await signLogin(SECRET, NOW / 1000 + 3600))).ok).toBe(true);
    for (const [e, s] of [[null, sig], [expires, null], ["12ab", sig], [expires, "abc"], [`${expires}.5`, sig], ["-1", sig]]) {
      expect(await check(e, s)).toEqual({ ok: false, reason: "malformed" });
    }
    await expect(loginLink(BASE, SECRET, 7200, NOW)).rejects.toThrow(/1 to 3600 seconds/);
  });

  it("keeps sessions in a cookie that is an HMAC, not the secret, and expires", async () => {
    const { value, maxAge } = await issueSession(SECRET, NOW);
    expect(maxAge).toBe(12 * 3600);
    expect(value).toMatch(/^\d+\.[0-9a-f]{64}$/);
    expect(value).not.toContain(SECRET);
    // Not a login signature either: the cookie signs another message.
    expect(value.split(".")[1]).not.toBe(await signLogin(SECRET, Number(value.split(".")[0])));
    expect(await verifySession(SECRET, value, NOW + 3600_000)).toBe(true);
    expect(await verifySession(SECRET, value, NOW + maxAge * 1000)).toBe(false);
    expect(await verifySession("another-secret-1234", value, NOW)).toBe(false);
    expect(await verifySession(SECRET, value.replace(/^\d+/, (n) => String(Number(n) + 1)), NOW)).toBe(false);
    expect(await verifySession(SECRET, undefined, NOW)).toBe(false);
    expect(await verifySession(SECRET, SECRET, NOW)).toBe(false);
  });

  it("compares in constant time whatever the lengths", async () => {
    expect(await constantTimeEqual("abc", "abc")).toBe(true);
    expect(await constantTimeEqual("abc", "abd")).toBe(false);
    expect(await constantTimeEqual("abc", "abcd")).toBe(false);
    expect(await constantTimeEqual("", "")).toBe(true);
  });
});

describe("settings", () => {
  it("need a DASHBOARD_SECRET of 16 characters and a database", () => {
    expect(loadConfig({ DASHBOARD_SECRET: LOCAL_DASHBOARD_SECRET, DATABASE_URL: "postgresql://db" }))
      .toEqual({ secret: LOCAL_DASHBOARD_SECRET, databaseUrl: "postgresql://db" });
    expect(loadConfig({ DASHBOARD_SECRET: SECRET, SUPABASE_DB_URL: "postgresql://a", DATABASE_URL: "postgresql://b" }).databaseUrl)
      .toBe("postgresql://a");
    expect(() => loadConfig({ DATABASE_URL: "postgresql://db" })).toThrow(/DASHBOARD_SECRET is required/);
    expect(() => loadConfig({ DASHBOARD_SECRET: "", DATABASE_URL: "postgresql://db" })).toThrow(/DASHBOARD_SECRET is required/);
    expect(() => loadConfig({ DASHBOARD_SECRET: "fifteen-chars!!", DATABASE_URL: "postgresql://db" })).toThrow(/at least 16 characters/);
    expect(() => loadConfig({ DASHBOARD_SECRET: SECRET })).toThrow(/SUPABASE_DB_URL \(or DATABASE_URL\) is required/);
  });
});

describe("the handler", () => {
  const loads: string[] = [];
  const handler = createHandler({
    secret: SECRET,
    load: async (w) => {
      loads.push(w);
      return fixture();
    },
    now: () => NOW,
  });
  const get = (path: string, headers: Record<string, string> = {}) => handler(new Request(`${BASE}${path}`, { headers }));

  it("finds its route behind the local gateway, on Supabase and served alone", () => {
    expect(routeOf("/functions/v1/fsm-dashboard/metrics.json")).toBe("/metrics.json");
    expect(routeOf("/fsm-dashboard/metrics.json")).toBe("/metrics.json");
    expect(routeOf("/fsm-dashboard/")).toBe("/");
    expect(routeOf("/functions/v1/fsm-dashboard")).toBeUndefined();
    expect(routeOf("/metrics.json")).toBe("/metrics.json");
    expect(routeOf("/fsm-dashboard-other/x")).toBe("/fsm-dashboard-other/x");
  });

  it("refuses without credentials, and loads nothing", async () => {
    loads.length = 0;
    for (const path of ["/", "/metrics.json", "/?window=week"]) {
      const res = await get(path);
      expect(res.status).toBe(401);
      expect(await res.text()).not.toMatch(/collecting_data|data-count/);
    }
    expect((await get("/metrics.json", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await get("/", { authorization: `Bearer ${SECRET}x` })).status).toBe(401);
    expect(loads).toEqual([]);
  });

  it("serves the figures to the Bearer, as JSON and as the page", async () => {
    const json = await get("/metrics.json?window=hour", { authorization: `Bearer ${SECRET}` });
    expect(json.status).toBe(200);
    const body = await json.json();
    expect(body.window).toEqual({ name: "hour", ...fixture().window });
    expect(body.states).toEqual(fixture().states);
    const page = await get("/", { authorization: `Bearer ${SECRET}` });
    expect(await page.text()).toContain(`data-state="collecting_data" data-count="7"`);
    expect(loads.slice(-2)).toEqual(["hour", "day"]);
    expect((await get("/?window=month", { authorization: `Bearer ${SECRET}` })).status).toBe(400);
  });

  it("turns a good link into a session cookie that then opens the page", async () => {
    const link = new URL(await loginLink(BASE, SECRET, 600, NOW));
    const res = await handler(new Request(link));
    expect(res.status).toBe(200);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toMatch(/Path=/);
    const session = cookie.split(";")[0];
    expect(session.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    expect(await authenticate(new Request(BASE, { headers: { cookie: `other=1; ${session}` } }), SECRET, NOW)).toEqual({ ok: true, via: "cookie" });
    expect((await get("/", { cookie: session })).status).toBe(200);
    // A wrong Authorization header is refused even beside a good cookie.
    expect((await get("/", { cookie: session, authorization: "Bearer nope" })).status).toBe(401);
    const https = await handler(new Request(link.toString().replace("http:", "https:")));
    expect(https.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("answers HEAD like GET without a body, and refuses other methods", async () => {
    const head = await handler(new Request(`${BASE}/metrics.json`, { method: "HEAD", headers: { authorization: `Bearer ${SECRET}` } }));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect((await handler(new Request(`${BASE}/`, { method: "DELETE" }))).status).toBe(405);
  });

  it("says 503, and nothing else, when the database fails", async () => {
    const failing = createHandler({ secret: SECRET, load: () => Promise.reject(new Error("connection refused at 10.0.0.1")), log: () => {} });
    const res = await failing(new Request(`${BASE}/metrics.json`, { headers: { authorization: `Bearer ${SECRET}` } }));
    expect(res.status).toBe(503);
    expect(await res.text()).not.toContain("10.0.0.1");
  });
});
