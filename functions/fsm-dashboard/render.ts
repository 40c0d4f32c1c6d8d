// The dashboard page and the few small pages around it, server-rendered: HTML with one inline stylesheet
// and inline SVG, no script, nothing loaded from anywhere. Every text from the database goes through
// html`…`, which escapes it. Pure.
import { barChart, type Column, columnChart } from "./charts.ts";
import { renderDiagram } from "./diagram.ts";
import { formatCount, formatMinutes, formatPct, formatTime, html, type SafeHtml, truncate, trusted } from "./html.ts";
import { type Criterion, type DashboardMetrics, WINDOWS, type WindowName } from "./metrics.ts";

/** How often the page reloads itself (a wall screen stays current without script). */
export const REFRESH_SECONDS = 60;

export const STYLESHEET = `
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; --bg: #f1f5f9; --panel: #fff;
  --blue: #2563eb; --blue-soft: #eff6ff; --green: #16a34a; --green-soft: #f0fdf4; --red: #dc2626; --red-soft: #fef2f2;
  --amber: #d97706; --amber-soft: #fffbeb; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", sans-serif; }
a { color: var(--blue); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 12.5px; }
.top { background: var(--ink); color: #fff; padding: 18px 28px; display: flex; align-items: center; justify-content: space-between; gap: 24px; }
.top h1 { margin: 0; font-size: 20px; font-weight: 650; letter-spacing: .01em; }
.top .sub { margin: 3px 0 0; color: #94a3b8; font-size: 12.5px; }
.windows { display: flex; gap: 6px; background: #1e293b; padding: 4px; border-radius: 10px; }
.windows a { color: #cbd5e1; padding: 6px 14px; border-radius: 7px; font-weight: 550; font-size: 13px; }
.windows a:hover { background: #334155; text-decoration: none; }
.windows a.current { background: #fff; color: var(--ink); }
main { padding: 22px 28px 8px; max-width: 1480px; margin: 0 auto; }
.kpis { display: grid; grid-template-columns: repeat(6, 1fr); gap: 14px; margin-bottom: 18px; }
.kpi { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 14px 16px; border-top: 4px solid #94a3b8; }
.kpi.good { border-top-color: var(--green); } .kpi.bad { border-top-color: var(--red); } .kpi.info { border-top-color: var(--blue); }
.kpi .label { color: var(--muted); font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; }
.kpi .value { font-size: 28px; font-weight: 700; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi.bad .value { color: var(--red); }
.kpi .note { color: var(--muted); font-size: 12.5px; }
.grid { display: grid; gap: 18px; margin-bottom: 18px; }
.grid.main { grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr); }
.grid.side { grid-template-columns: minmax(0, 1fr) minmax(0, 1.5fr); }
.grid.three { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 16px 18px 18px; min-width: 0; }
.panel + .panel { margin-top: 0; }
section.panel.solo { margin-bottom: 18px; }
.panel h2 { margin: 0 0 2px; font-size: 15px; font-weight: 650; }
.panel .hint { margin: 0 0 12px; color: var(--muted); font-size: 12.5px; }
.panel .big { font-size: 26px; font-weight: 700; font-variant-numeric: tabular-nums; }
.empty { color: var(--muted); font-style: italic; margin: 8px 0; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 11.5px; text-transform: uppercase; letter-spacing: .04em;
  border-bottom: 1px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid #f1f5f9; padding: 7px 8px; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.time { white-space: nowrap; }
td.err { color: #7f1d1d; overflow-wrap: anywhere; }
tr:last-child td { border-bottom: 0; }
td .sub { color: var(--muted); font-size: 11.5px; }
.outcome { margin-top: 18px; padding-top: 14px; border-top: 1px solid var(--line); }
.outcome h3 { margin: 0 0 8px; font-size: 13.5px; font-weight: 650; }
.crit .desc { font-weight: 600; }
.crit .code { color: var(--muted); font-size: 11.5px; }
.badge { display: inline-block; font-size: 11px; font-weight: 700; padding: 2px 8px; border-radius: 999px; margin-left: 6px; letter-spacing: .02em; }
.badge.met { background: #dcfce7; color: #166534; }
.badge.unmet { background: #fee2e2; color: #991b1b; }
.badge.na { background: #f1f5f9; color: var(--muted); }
.summary { display: flex; align-items: baseline; gap: 10px; margin: 4px 0 12px; }
.summary .of { color: var(--muted); }
.legend { display: flex; gap: 16px; color: var(--muted); font-size: 12.5px; margin: 4px 0 0 46px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.tone-ok, .swatch.tone-ok { fill: var(--blue); background: var(--blue); }
.tone-fail, .swatch.tone-fail { fill: var(--red); background: var(--red); }
.tone-wait, .swatch.tone-wait { fill: #f59e0b; background: #f59e0b; }
.tone-good { fill: var(--green); } .tone-warn { fill: #f59e0b; } .tone-bad { fill: var(--red); } .tone-neutral { fill: #94a3b8; }
.tone-slate { fill: #475569; }
svg { display: block; }
svg.chart { width: 100%; height: auto; font-size: 12px; }
svg.chart .blabel { fill: #334155; }
svg.chart .bvalue { fill: var(--ink); font-weight: 700; font-variant-numeric: tabular-nums; }
svg.chart .bnote { fill: var(--muted); font-weight: 400; }
svg.chart .track { fill: #f1f5f9; }
svg.chart .axis { fill: var(--muted); font-size: 11px; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .hit { fill: transparent; }
svg.chart .column:hover .hit { fill: #f8fafc; }
.diagram-wrap { overflow-x: auto; }
svg.diagram { max-width: 100%; height: auto; margin: 4px auto 0; font-size: 12px; }
svg.diagram .edge path { fill: none; stroke: #2563eb; }
svg.diagram .edge.none path { stroke: #cbd5e1; stroke-dasharray: 5 4; }
svg.diagram .edge.sink path { stroke: #ef4444; }
svg.diagram .edge.bad path { stroke: #b91c1c; stroke-dasharray: 2 3; }
svg.diagram .edge circle { fill: var(--ink); }
svg.diagram .arrow path { fill: #2563eb; }
svg.diagram .arrow.none path { fill: #cbd5e1; }
svg.diagram .arrow.sink path { fill: #ef4444; }
svg.diagram .arrow.bad path { fill: #b91c1c; }
svg.diagram .elabel { font-size: 11.5px; fill: #475569; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg.diagram .elabel .n { font-weight: 700; fill: var(--ink); }
svg.diagram .elabel .n.zero { font-weight: 400; fill: #94a3b8; }
svg.diagram .elabel .unruled { fill: #b91c1c; }
svg.diagram .state rect { fill: #fff; stroke: #cbd5e1; stroke-width: 1.5; }
svg.diagram .state.busy rect { fill: var(--blue-soft); stroke: #3b82f6; }
svg.diagram .state.final rect { fill: var(--green-soft); stroke: #22c55e; }
svg.diagram .state.sink rect { fill: var(--red-soft); stroke: #f87171; }
svg.diagram .sname { font-size: 13px; font-weight: 700; fill: var(--ink); }
svg.diagram .scount { font-size: 20px; font-weight: 750; fill: var(--ink); }
svg.diagram .state.quiet .scount { fill: #94a3b8; }
svg.diagram .sunit { font-size: 11.5px; fill: var(--muted); }
footer { color: var(--muted); font-size: 12.5px; padding: 6px 28px 26px; max-width: 1480px; margin: 0 auto; display: flex; gap: 18px; }
.card { max-width: 520px; margin: 12vh auto; background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 28px 32px; }
.card h1 { margin: 0 0 8px; font-size: 20px; }
.card p { color: #334155; }
`;

const ERROR_CODES: Record<string, string> = {
  FS001: "no rule for it",
  FS002: "stale version",
  FS003: "session already open",
  FS004: "invalid input",
  FS005: "task not the worker's",
  FS006: "clarification pending",
  FS007: "unknown worker",
  FS009: "nothing to confirm",
  FS010: "clarification closed",
  FS404: "no open session",
};

const REASONS = ["cancelled", "timeout", "task_switched", "orphaned", "force_abandoned"];

function page(title: string, body: SafeHtml, head: SafeHtml = html``): string {
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">${head}<title>${title}</title><style>${STYLESHEET_HTML}</style></head><body>${body}</body></html>`}\n`;
}
// The stylesheet is this module's own constant, inserted as it is; its hash is in the CSP.
const STYLESHEET_HTML = trusted(STYLESHEET);

function badge(met: boolean | null, na = "n/a"): SafeHtml {
  if (met === null) return html`<span class="badge na">${na}</span>`;
  return met ? html`<span class="badge met">met</span>` : html`<span class="badge unmet">not met</span>`;
}

function criterionValue(c: Criterion, value: number | null): string {
  if (value === null) return c.criterion === "clarifications_answered" ? "no data" : "–";
  return c.criterion === "clarifications_answered" ? formatPct(value) : formatCount(value);
}

function kpi(label: string, value: string, note: string, tone: "good" | "bad" | "info" | "plain"): SafeHtml {
  return html`<div class="kpi ${tone}" data-kpi="${label}"><div class="label">${label}</div><div class="value">${value}</div><div class="note">${note}</div></div>`;
}

/** An axis label, UTC: the time ("16:00") over up to two days, else the date ("Nov 25") on each day's first bucket. */
function bucketLabel(iso: string, spanSeconds: number): string {
  const d = new Date(iso);
  const hhmm = d.toISOString().slice(11, 16);
  if (spanSeconds <= 2 * 86400) return hhmm;
  return hhmm === "00:00" ? d.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" }) : "";
}

export function renderDashboard(m: DashboardMetrics, window: WindowName): string {
  const windowLabel = WINDOWS[window].label;
  const criteriaMet = m.success_criteria.filter((c) => c.met).length;
  const pct = m.clarifications.answered_pct;
  const appliedWithoutRule = m.success_criteria.find((c) => c.criterion === "no_invalid_transitions_applied")?.window_value ?? 0;

  const tabs = (Object.keys(WINDOWS) as WindowName[]).map((w) =>
    html`<a href="?window=${w}" class="${w === window ? "current" : ""}"${w === window ? html` aria-current="page"` : ""}>${WINDOWS[w].label}</a>`
  );

  const kpis = [
    kpi("Open sessions", formatCount(m.sessions.open_now), `${formatCount(m.sessions.completed)} completed · ${formatCount(m.sessions.abandoned)} abandoned`, "info"),
    kpi("Messages", formatCount(m.messages.total), `${formatCount(m.messages.completed)} done · ${formatCount(m.messages.failed)} failed`, "info"),
    kpi("Dead letters", formatCount(m.dead_letters.count), "failed after acceptance", m.dead_letters.count ? "bad" : "good"),
    kpi("Invalid transitions", formatCount(m.invalid_transitions.count),
        appliedWithoutRule ? `refused; but ${formatCount(appliedWithoutRule)} applied with no rule` : "refused, none applied",
        appliedWithoutRule ? "bad" : "plain"),
    kpi("Stuck sessions", formatCount(m.stuck_sessions.count), `silent over ${formatMinutes(m.stuck_sessions.idle_over_minutes)}, now`, m.stuck_sessions.count ? "bad" : "good"),
    kpi("Clarified", formatPct(pct), `of ${formatCount(m.clarifications.total)} ${m.clarifications.total === 1 ? "question" : "questions"} asked`, pct === null ? "plain" : pct > 80 ? "good" : "bad"),
  ];

  const criteria = m.success_criteria.map((c) =>
    html`<tr class="crit" data-criterion="${c.criterion}"><td><div class="desc">${c.description}</div><div class="code mono">${c.criterion}</div></td><td class="mono">${c.target}</td><td class="num">${criterionValue(c, c.current_value)}${badge(c.met)}</td><td class="num">${criterionValue(c, c.window_value)}${badge(c.window_met, "all time only")}</td></tr>`
  );

  const ended = m.sessions.completed + m.sessions.abandoned;
  const outcome = html`<div class="outcome" id="outcome"><h3>Sessions ended within the window</h3><div class="summary"><span class="big">${ended ? formatPct((m.sessions.completed * 100) / ended) : "–"}</span><span class="of">completed: ${formatCount(m.sessions.completed)} of ${formatCount(ended)} (${formatCount(m.sessions.abandoned)} abandoned)</span></div>${
    barChart([
      { label: "completed", value: m.sessions.completed, tone: "good" },
      { label: "abandoned", value: m.sessions.abandoned, tone: "bad" },
    ], { ariaLabel: "Sessions completed and abandoned within the window", labelWidth: 100, width: 520 })
  }</div>`;

  const bucketSeconds = m.messages_over_time.bucket_seconds;
  const columns: Column[] = m.messages_over_time.buckets.map((b) => ({
    label: bucketLabel(b.start, m.messages_over_time.buckets.length * bucketSeconds),
    title: `${formatTime(b.start)}: ${b.completed} completed, ${b.failed} failed, ${b.processing} in progress`,
    parts: [{ value: b.completed, tone: "ok" }, { value: b.failed, tone: "fail" }, { value: b.processing, tone: "wait" }],
  }));

  const reasons = [...REASONS, ...m.abandoned_by_reason.map((r) => r.reason).filter((r) => !REASONS.includes(r))];
  const abandonedTotal = m.abandoned_by_reason.reduce((n, r) => n + r.sessions, 0);
  const abandoned = reasons.map((reason) => {
    const n = m.abandoned_by_reason.find((r) => r.reason === reason)?.sessions ?? 0;
    return { label: reason, value: n, tone: reason === "cancelled" ? "slate" : reason === "timeout" ? "warn" : "bad",
             note: abandonedTotal ? `${Math.round((n * 100) / abandonedTotal)} %` : undefined };
  });

  const c = m.clarifications;
  const clarifications = [
    { label: "answered", value: c.answered, tone: "good" },
    { label: "expired", value: c.expired, tone: "warn" },
    { label: "cancelled", value: c.cancelled, tone: "slate" },
    { label: "pending", value: c.pending, tone: "neutral" },
  ];

  const codes = m.invalid_transitions.by_code.map((b) => ({
    label: `${b.error_code} ${ERROR_CODES[b.error_code] ?? ""}`.trim(),
    value: b.count,
    tone: "bad",
  }));

  const stuck = m.stuck_sessions.oldest.length
    ? html`<table><thead><tr><th>Session</th><th>State</th><th class="num">Silent for</th><th>Last activity</th></tr></thead><tbody>${
      m.stuck_sessions.oldest.map((s) =>
        html`<tr data-session="${s.id}"><td class="mono" title="${s.id}">${s.id.slice(0, 8)}…</td><td>${s.state}<div class="sub">${s.session_type}</div></td><td class="num">${formatMinutes(s.idle_minutes)}</td><td class="time">${formatTime(s.last_activity)}</td></tr>`
      )
    }</tbody></table>${m.stuck_sessions.count > m.stuck_sessions.oldest.length ? html`<p class="hint">The ${m.stuck_sessions.oldest.length} oldest of ${formatCount(m.stuck_sessions.count)}.</p>` : ""}`
    : html`<p class="empty">None: no open session has been silent for ${formatMinutes(m.stuck_sessions.idle_over_minutes)}.</p>`;

  const recentInvalid = m.invalid_transitions.recent.length
    ? html`<table><thead><tr><th>When</th><th>State</th><th>Event</th><th>Code</th><th>Error</th></tr></thead><tbody>${
      m.invalid_transitions.recent.map((r) =>
        html`<tr><td class="time">${formatTime(r.at)}</td><td>${r.from_state ?? "–"}</td><td class="mono">${r.event}</td><td class="mono">${r.error_code}</td><td class="err" title="${r.error ?? ""}">${truncate(r.error ?? "", 180)}</td></tr>`
      )
    }</tbody></table>`
    : html`<p class="empty">None in this window.</p>`;

  const dead = m.dead_letters.recent.length
    ? html`<table><thead><tr><th>Message</th><th>Error</th><th class="num">Attempts</th><th>Failed</th></tr></thead><tbody>${
      m.dead_letters.recent.map((d) =>
        html`<tr data-message="${d.message_id}"><td class="mono" title="${d.message_id}">${truncate(d.message_id, 16)}</td><td class="err" title="${d.error ?? ""}">${truncate(d.error ?? "", 180)}</td><td class="num">${d.attempts}</td><td class="time" title="received ${formatTime(d.created_at)}">${formatTime(d.processed_at)}</td></tr>`
      )
    }</tbody></table>${m.dead_letters.count > m.dead_letters.recent.length ? html`<p class="hint">The ${m.dead_letters.recent.length} most recent of ${formatCount(m.dead_letters.count)}.</p>` : ""}`
    : html`<p class="empty">None in this window: every accepted message was processed.</p>`;

  const body = html`
<header class="top"><div><h1>WhatsApp FSM · Operations</h1><p class="sub">${windowLabel}: ${formatTime(m.window.since)} → ${formatTime(m.window.until)} · reloads every minute</p></div><nav class="windows" aria-label="Window">${tabs}</nav></header>
<main>
<section class="kpis">${kpis}</section>
<div class="grid main">
<section class="panel" id="diagram"><h2>State machine</h2><p class="hint">Drawn from <code>fsm_transition_rules</code>. Boxes: open sessions now (final states: sessions that ended within the window). Arrows: transitions within the window.</p><div class="diagram-wrap">${renderDiagram(m)}</div></section>
<section class="panel" id="criteria"><h2>Success criteria</h2><p class="hint">The reference design's criteria over all time, and within the window.</p><div class="summary"><span class="big">${criteriaMet} / ${m.success_criteria.length}</span><span class="of">met over all time</span></div><table><thead><tr><th>Criterion</th><th>Target</th><th class="num">All time</th><th class="num">${windowLabel}</th></tr></thead><tbody>${criteria}</tbody></table>${outcome}</section>
</div>
<section class="panel solo" id="messages"><h2>Messages received</h2><p class="hint">${formatCount(m.messages.total)} in the window, per ${formatMinutes(bucketSeconds / 60)} (UTC).</p>${columnChart(columns, { ariaLabel: "Messages per interval" })}<div class="legend"><span><span class="swatch tone-ok"></span>completed</span><span><span class="swatch tone-fail"></span>failed</span><span><span class="swatch tone-wait"></span>in progress</span></div></section>
<div class="grid three">
<section class="panel" id="abandoned"><h2>Abandoned sessions by reason</h2><p class="hint">${formatCount(abandonedTotal)} abandoned within the window.</p>${barChart(abandoned, { ariaLabel: "Abandoned sessions by reason", labelWidth: 120 })}</section>
<section class="panel" id="clarifications"><h2>Clarifications</h2><p class="hint">Questions asked within the window: ${pct === null ? "none resolved yet" : `${formatPct(pct)} of those resolved were answered`} (target: over 80 %).</p>${barChart(clarifications, { ariaLabel: "Clarification outcomes", labelWidth: 100 })}</section>
<section class="panel" id="invalid"><h2>Invalid transitions by code</h2><p class="hint">Moves refused within the window, by error code.</p>${barChart(codes, { ariaLabel: "Invalid transitions by error code", labelWidth: 165 })}</section>
</div>
<div class="grid side">
<section class="panel" id="stuck"><h2>Stuck sessions</h2><p class="hint">Open and silent for over ${formatMinutes(m.stuck_sessions.idle_over_minutes)}, now. The cleanup should keep this empty.</p>${stuck}</section>
<section class="panel" id="dead-letters"><h2>Dead letters</h2><p class="hint">Messages accepted and then failed within the window (<code>fsm_idempotency_records.status = 'failed'</code>).</p>${dead}</section>
</div>
<section class="panel solo" id="recent-invalid"><h2>Recent invalid transitions</h2><p class="hint">The latest refusals within the window.</p>${recentInvalid}</section>
</main>
<footer><span>Generated ${formatTime(m.generated_at)}</span><a href="metrics.json?window=${window}">The same figures as JSON</a><a href="logout">Sign out</a></footer>`;
  return page(`FSM dashboard · ${windowLabel}`, body, html`<meta http-equiv="refresh" content="${REFRESH_SECONDS}">`);
}

export function renderUnauthorized(): string {
  return page("Sign-in required", html`<div class="card"><h1>Sign-in required</h1><p>This dashboard opens with a sign-in link signed with the dashboard's secret. Locally, <code>npm run dashboard</code> prints one, valid ten minutes.</p><p>Monitoring tools may read <code>metrics.json</code> with <code>Authorization: Bearer &lt;DASHBOARD_SECRET&gt;</code>.</p></div>`);
}

export function renderLinkRefused(): string {
  return page("Sign-in link refused", html`<div class="card"><h1>This sign-in link does not work</h1><p>It is malformed, was not signed with this dashboard's secret, has expired, or expires too far ahead (links last at most an hour). Ask for a new one: <code>npm run dashboard</code>.</p></div>`);
}

/**
 * After a good sign-in link: the cookie is set with this page, which then opens the dashboard itself. A
 * 303 would be followed within the navigation that brought the link, and when that came from another
 * site (a mail or chat client) browsers withhold a SameSite=Strict cookie from it; a navigation this page
 * starts is same-site.
 */
export function renderSignedIn(): string {
  return page("Signed in", html`<div class="card"><h1>Signed in</h1><p>Opening the dashboard… <a href="./">Open it</a> if nothing happens.</p></div>`, html`<meta http-equiv="refresh" content="0; url=./">`);
}

export function renderSignedOut(): string {
  return page("Signed out", html`<div class="card"><h1>Signed out</h1><p>The session cookie is gone. A new sign-in link opens the dashboard again.</p></div>`);
}
