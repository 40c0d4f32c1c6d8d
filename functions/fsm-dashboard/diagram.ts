// The state diagram, laid out from the rules themselves (nothing here knows this machine's states), drawn
// as inline SVG with each state's live count and each arrow's event and count within the window.
//
// Layout: states go top to bottom in layers. A state's layer is its longest distance from `idle` (or the
// state no rule leads into) along the
// "forward" rules: those that lead further from idle, or, between two states equally far from it, closer
// to a final state. Every other rule is a way back (or a shortcut) and is drawn as an arc on the left. A
// final state that most states can fall into (abandoned) is drawn as a bar on the right, with one
// horizontal arrow from each state, instead of a fan of arrows across the picture; other final states come
// last. Pure: no I/O.
import { formatCount, html, type SafeHtml } from "./html.ts";
import type { Rule, StateFigure, TransitionFigure } from "./metrics.ts";

export interface DiagramInput {
  states: StateFigure[];
  rules: Rule[];
  transitions: TransitionFigure[];
}

export interface NodeBox {
  state: string;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
  terminal: boolean;
  /** A final state drawn as a bar that the others fall into. */
  sink: boolean;
  open_now: number;
  entered: number;
}

export interface EdgeLabel {
  event: string;
  count: number;
  /** false for a move the log shows but no rule allows (it should never happen). */
  ruled: boolean;
}

export interface DrawnEdge {
  from: string | null;
  to: string;
  kind: "start" | "straight" | "arc" | "loop" | "sink";
  labels: EdgeLabel[];
  total: number;
  d: string;
  labelX: number;
  labelY: number;
  anchor: "start" | "middle" | "end";
}

export interface DiagramLayout {
  nodes: NodeBox[];
  edges: DrawnEdge[];
  width: number;
  height: number;
}

const BOX_W = 210;
const BOX_H = 62;
const ROW_PITCH = 112;
const COL_PITCH = 250;
const TOP = 60;
const PAD = 12;
const SINK_GAP = 190;
const SINK_W = 132;
const LINE = 14;
/** Horizontal distance between nested arcs' outermost points. */
const ARC_STEP = 74;
/** Width of a label line in px, near enough for 11 px text. */
const labelWidth = (l: EdgeLabel) => (l.event.length + 3 + formatCount(l.count).length) * 6.4 + 6;

export function layoutDiagram(input: DiagramInput): DiagramLayout {
  const { rules } = input;
  const figures = new Map(input.states.map((s) => [s.state, s]));
  const names = new Set<string>(input.states.map((s) => s.state));
  for (const r of rules) names.add(r.from_state).add(r.to_state);
  for (const t of input.transitions) {
    if (t.from_state) names.add(t.from_state);
    names.add(t.to_state);
  }
  if (names.size === 0) return { nodes: [], edges: [], width: 0, height: 0 };
  const all = [...names].sort();
  // Where sessions start: idle here; in another machine, a state no rule leads into.
  const start = names.has("idle") ? "idle" : all.find((s) => !rules.some((r) => r.to_state === s && r.from_state !== s)) ?? all[0];

  const terminal = (s: string) => !rules.some((r) => r.from_state === s);
  const nonTerminal = all.filter((s) => !terminal(s));
  const sources = (t: string) => new Set(rules.filter((r) => r.to_state === t && r.from_state !== t).map((r) => r.from_state));
  const isSink = new Map(all.map((s) => {
    const n = sources(s).size;
    return [s, terminal(s) && s !== start && n >= 3 && n * 2 >= nonTerminal.length] as const;
  }));
  const flow = rules.filter((r) => !isSink.get(r.to_state));

  // Distance from the start, and to the nearest final state, along the rules (sinks left out).
  const bfs = (from: string[], next: (s: string) => string[]) => {
    const dist = new Map(from.map((s) => [s, 0]));
    const queue = [...from];
    while (queue.length) {
      const s = queue.shift()!;
      for (const n of next(s)) {
        if (!dist.has(n)) {
          dist.set(n, dist.get(s)! + 1);
          queue.push(n);
        }
      }
    }
    return dist;
  };
  const fromStart = bfs([start], (s) => flow.filter((r) => r.from_state === s).map((r) => r.to_state));
  const finals = all.filter((s) => terminal(s) && !isSink.get(s));
  const toEnd = bfs(finals, (s) => flow.filter((r) => r.to_state === s).map((r) => r.from_state));
  const far = Math.max(0, ...fromStart.values()) + 1;
  const d = (s: string) => fromStart.get(s) ?? far;
  const e = (s: string) => toEnd.get(s) ?? Infinity;
  const forward = (a: string, b: string) => a !== b && (d(b) > d(a) || (d(b) === d(a) && e(a) > e(b)));

  // Longest path over the forward rules (they form no cycle: d never falls along them, and e falls
  // strictly where d stays the same).
  const layer = new Map(all.map((s) => [s, s === start ? 0 : d(s) === far ? far : 0]));
  for (let i = 0; i < all.length; i++) {
    for (const r of flow) {
      if (forward(r.from_state, r.to_state)) {
        layer.set(r.to_state, Math.max(layer.get(r.to_state)!, layer.get(r.from_state)! + 1));
      }
    }
  }
  const placed = all.filter((s) => !isSink.get(s));
  const lastOpen = Math.max(0, ...placed.filter((s) => !terminal(s)).map((s) => layer.get(s)!));
  for (const s of placed) if (terminal(s) && s !== start) layer.set(s, lastOpen + 1);

  // Rows, ordered within by where their predecessors sit.
  const rows = new Map<number, string[]>();
  for (const s of placed) rows.set(layer.get(s)!, [...(rows.get(layer.get(s)!) ?? []), s]);
  const layers = [...rows.keys()].sort((a, b) => a - b);
  const column = new Map<string, number>();
  for (const l of layers) {
    const row = rows.get(l)!;
    const weight = (s: string) => {
      const preds = flow.filter((r) => r.to_state === s && column.has(r.from_state)).map((r) => column.get(r.from_state)!);
      return preds.length ? preds.reduce((a, b) => a + b, 0) / preds.length : 0;
    };
    row.sort((a, b) => weight(a) - weight(b) || a.localeCompare(b));
    row.forEach((s, i) => column.set(s, i - (row.length - 1) / 2));
  }
  const rowIndex = new Map(layers.map((l, i) => [l, i]));

  // The edges: one per pair of states, labelled with each event and its count.
  const pairs = new Map<string, { from: string | null; to: string; labels: EdgeLabel[] }>();
  const pair = (from: string | null, to: string) => {
    const key = `${from ?? ""}\u0000${to}`;
    if (!pairs.has(key)) pairs.set(key, { from, to, labels: [] });
    return pairs.get(key)!;
  };
  const counted = (from: string | null, event: string, to: string) =>
    input.transitions.filter((t) => t.from_state === from && t.event === event && t.to_state === to)
      .reduce((n, t) => n + t.count, 0);
  pair(null, start).labels.push({ event: "start", count: counted(null, "start", start), ruled: true });
  for (const r of [...rules].sort((a, b) => a.event.localeCompare(b.event))) {
    pair(r.from_state, r.to_state).labels.push({ event: r.event, count: counted(r.from_state, r.event, r.to_state), ruled: true });
  }
  for (const t of input.transitions) {
    const known = t.from_state === null
      ? t.event === "start" && t.to_state === start
      : rules.some((r) => r.from_state === t.from_state && r.event === t.event && r.to_state === t.to_state);
    if (!known) pair(t.from_state, t.to_state).labels.push({ event: t.event, count: t.count, ruled: false });
  }

  type Kind = DrawnEdge["kind"];
  const kindOf = (from: string | null, to: string): Kind => {
    if (from === null) return "start";
    if (from === to) return "loop";
    if (isSink.get(to)) return "sink";
    if (!isSink.get(from) && forward(from, to) && rowIndex.get(layer.get(to)!)! === rowIndex.get(layer.get(from)!)! + 1) {
      return "straight";
    }
    return "arc";
  };
  const edges = [...pairs.values()].map((p) => ({ ...p, kind: kindOf(p.from, p.to) }));

  // Arcs nest: the shortest innermost; arcs whose rows overlap get different levels.
  const span = (a: { from: string | null; to: string }) => {
    const x = rowIndex.get(layer.get(a.from!)!)!;
    const y = rowIndex.get(layer.get(a.to)!)!;
    return [Math.min(x, y), Math.max(x, y)] as const;
  };
  const arcs = edges.filter((a) => a.kind === "arc" && !isSink.get(a.from!))
    .sort((a, b) => (span(a)[1] - span(a)[0]) - (span(b)[1] - span(b)[0]) || span(a)[0] - span(b)[0]);
  const level = new Map<(typeof edges)[number], number>();
  for (const a of arcs) {
    const [lo, hi] = span(a);
    let l = 1;
    while (arcs.some((b) => level.get(b) === l && span(b)[0] < hi && lo < span(b)[1])) l++;
    level.set(a, l);
  }
  const maxLevel = Math.max(0, ...level.values());
  // An arc's label sits on its outermost point, centred.
  const outerLabelW = Math.max(0, ...arcs.filter((a) => level.get(a) === maxLevel).flatMap((a) => a.labels.map(labelWidth)));
  const apex = (l: number) => 40 + (l - 1) * ARC_STEP;
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const left = PAD + (maxLevel ? apex(maxLevel) + outerLabelW / 2 + 4 : 0);
  const cx0 = left + ((widest - 1) / 2) * COL_PITCH + BOX_W / 2;

  const nodes: NodeBox[] = placed.map((s) => {
    const f = figures.get(s);
    return {
      state: s,
      layer: layer.get(s)!,
      x: cx0 + column.get(s)! * COL_PITCH - BOX_W / 2,
      y: TOP + rowIndex.get(layer.get(s)!)! * ROW_PITCH,
      w: BOX_W,
      h: BOX_H,
      terminal: terminal(s),
      sink: false,
      open_now: f?.open_now ?? 0,
      entered: f?.entered ?? 0,
    };
  });
  const box = new Map(nodes.map((n) => [n.state, n]));
  const right = Math.max(...nodes.map((n) => n.x + n.w));
  const bottom = Math.max(...nodes.map((n) => n.y + n.h));
  const sinks = all.filter((s) => isSink.get(s));
  sinks.forEach((s, i) => {
    const feeders = [...sources(s)].map((f) => box.get(f)).filter((n): n is NodeBox => !!n);
    const top = Math.min(...feeders.map((n) => n.y), bottom);
    const f = figures.get(s);
    const sink: NodeBox = {
      state: s,
      layer: -1,
      x: right + SINK_GAP + i * (SINK_W + 24),
      y: top,
      w: SINK_W,
      h: Math.max(BOX_H, Math.max(...feeders.map((n) => n.y + n.h), top + BOX_H) - top),
      terminal: true,
      sink: true,
      open_now: f?.open_now ?? 0,
      entered: f?.entered ?? 0,
    };
    nodes.push(sink);
    box.set(s, sink);
  });

  // Where arcs meet a box's left side: those whose other end is above first, innermost on top; then
  // those going down, innermost at the bottom. So arcs never cross near their boxes.
  const ports = new Map<string, { edge: (typeof edges)[number]; up: boolean; level: number }[]>();
  for (const a of arcs) {
    for (const [self, other] of [[a.from!, a.to], [a.to, a.from!]]) {
      const up = box.get(other)!.y < box.get(self)!.y;
      ports.set(self, [...(ports.get(self) ?? []), { edge: a, up, level: level.get(a)! }]);
    }
  }
  const portY = new Map<string, number>();
  for (const [s, list] of ports) {
    list.sort((p, q) => (p.up === q.up ? (p.up ? p.level - q.level : q.level - p.level) : p.up ? -1 : 1));
    const n = box.get(s)!;
    list.forEach((p, i) => {
      const y = list.length === 1 ? n.y + n.h / 2 : n.y + 12 + (i * (n.h - 24)) / (list.length - 1);
      portY.set(`${s}\u0000${p.edge.from}\u0000${p.edge.to}`, y);
    });
  }

  // Each edge's path, and points along it (for placing labels clear of other edges).
  type Point = readonly [number, number];
  const line = (a: Point, b: Point): Point[] =>
    Array.from({ length: 21 }, (_, i) => [a[0] + ((b[0] - a[0]) * i) / 20, a[1] + ((b[1] - a[1]) * i) / 20] as const);
  const cubic = (p0: Point, p1: Point, p2: Point, p3: Point) => (t: number): Point => {
    const u = 1 - t;
    return [
      u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
      u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
    ];
  };
  const along = (f: (t: number) => Point) => Array.from({ length: 41 }, (_, i) => f(i / 40));
  const points = new Map<DrawnEdge, Point[]>();
  const curves = new Map<DrawnEdge, (t: number) => Point>();

  const drawn: DrawnEdge[] = edges.map((edge) => {
    const to = box.get(edge.to)!;
    const from = edge.from === null ? undefined : box.get(edge.from)!;
    const total = edge.labels.reduce((n, l) => n + l.count, 0);
    const base = { from: edge.from, to: edge.to, kind: edge.kind, labels: edge.labels, total };
    const lines = edge.labels.length;
    const make = (e: DrawnEdge, pts: Point[]) => (points.set(e, pts), e);
    switch (edge.kind) {
      case "start": {
        const cx = to.x + to.w / 2;
        return make(
          { ...base, d: `M${cx},${to.y - 40} L${cx},${to.y}`, labelX: cx + 12, labelY: to.y - 22 - ((lines - 1) * LINE) / 2, anchor: "start" },
          line([cx, to.y - 40], [cx, to.y]),
        );
      }
      case "loop": {
        const r = to.x + to.w;
        const f = cubic([r, to.y + 9], [r + 62, to.y - 18], [r + 62, to.y + 52], [r, to.y + 27]);
        return make({
          ...base,
          d: `M${r},${to.y + 9} C${r + 62},${to.y - 18} ${r + 62},${to.y + 52} ${r},${to.y + 27}`,
          labelX: r + 54,
          labelY: to.y + 22 - ((lines - 1) * LINE) / 2,
          anchor: "start",
        }, along(f));
      }
      case "sink": {
        const y = from!.y + from!.h - 16;
        return make(
          { ...base, d: `M${from!.x + from!.w},${y} L${to.x},${y}`, labelX: to.x - 12, labelY: y - 7 - (lines - 1) * LINE, anchor: "end" },
          line([from!.x + from!.w, y], [to.x, y]),
        );
      }
      case "straight": {
        const x1 = from!.x + from!.w / 2;
        const x2 = to.x + to.w / 2;
        const y1 = from!.y + from!.h;
        return make({
          ...base,
          d: `M${x1},${y1} L${x2},${to.y}`,
          labelX: (x1 + x2) / 2 + 12,
          labelY: (y1 + to.y) / 2 + 4 - ((lines - 1) * LINE) / 2,
          anchor: "start",
        }, line([x1, y1], [x2, to.y]));
      }
      case "arc": {
        const k = apex(level.get(edge) ?? 1) / 0.75;
        const y1 = portY.get(`${edge.from}\u0000${edge.from}\u0000${edge.to}`) ?? from!.y + from!.h / 2;
        const y2 = portY.get(`${edge.to}\u0000${edge.from}\u0000${edge.to}`) ?? to.y + to.h / 2;
        const x1 = from!.x;
        const x2 = to.x;
        const f = cubic([x1, y1], [x1 - k, y1], [x2 - k, y2], [x2, y2]);
        const e: DrawnEdge = {
          ...base,
          d: `M${x1},${y1} C${x1 - k},${y1} ${x2 - k},${y2} ${x2},${y2}`,
          labelX: f(0.5)[0],
          labelY: f(0.5)[1] + 4 - ((lines - 1) * LINE) / 2,
          anchor: "middle",
        };
        curves.set(e, f);
        return make(e, along(f));
      }
    }
  });

  // Labels go where they cover nothing: an arc's label sits on its own curve, at the point nearest the
  // middle where it hides no other edge, no box and no other label; any other label that would overlap
  // one already placed moves down until it is clear.
  type Rect = { x0: number; x1: number; y0: number; y1: number };
  const rect = (e: DrawnEdge): Rect => {
    const w = Math.max(...e.labels.map(labelWidth));
    const x0 = e.anchor === "start" ? e.labelX : e.anchor === "end" ? e.labelX - w : e.labelX - w / 2;
    return { x0, x1: x0 + w, y0: e.labelY - 11, y1: e.labelY - 11 + e.labels.length * LINE + 2 };
  };
  const meets = (a: Rect, b: Rect) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
  const placedLabels: Rect[] = [];
  const nodeRects: Rect[] = nodes.map((n) => ({ x0: n.x, x1: n.x + n.w, y0: n.y, y1: n.y + n.h }));
  const conflicts = (e: DrawnEdge, r: Rect) =>
    placedLabels.filter((b) => meets(r, b)).length * 100 +
    nodeRects.filter((b) => meets(r, b)).length * 100 +
    drawn.filter((o) => o !== e).reduce((n, o) => n + points.get(o)!.filter(([x, y]) => x > r.x0 - 2 && x < r.x1 + 2 && y > r.y0 - 2 && y < r.y1 + 2).length, 0);
  for (const e of drawn.filter((e) => e.kind !== "arc")) {
    for (let tries = 0; tries < 40 && placedLabels.some((b) => meets(rect(e), b)); tries++) e.labelY += 4;
    placedLabels.push(rect(e));
  }
  for (const e of drawn.filter((e) => e.kind === "arc")) {
    const f = curves.get(e)!;
    const lift = 4 - ((e.labels.length - 1) * LINE) / 2;
    let best = { score: Infinity, x: e.labelX, y: e.labelY };
    for (let i = 0; i <= 14; i++) {
      const t = 0.5 + (i % 2 ? 1 : -1) * Math.ceil(i / 2) * 0.025;
      const [x, y] = f(t);
      e.labelX = x;
      e.labelY = y + lift;
      const score = conflicts(e, rect(e));
      if (score < best.score) best = { score, x: e.labelX, y: e.labelY };
      if (score === 0) break;
    }
    e.labelX = best.x;
    e.labelY = best.y;
    placedLabels.push(rect(e));
  }

  const loopRoom = drawn.filter((e) => e.kind === "loop" || e.kind === "straight" || e.kind === "start")
    .map((e) => e.labelX + Math.max(...e.labels.map(labelWidth)));
  const width = Math.ceil(Math.max(...nodes.map((n) => n.x + n.w), ...loopRoom) + PAD);
  const height = Math.ceil(Math.max(...nodes.map((n) => n.y + n.h)) + PAD + 8);
  return { nodes, edges: drawn, width, height };
}

const round = (n: number) => Math.round(n * 10) / 10;
const roundPath = (d: string) => d.replace(/-?\d+(\.\d+)?/g, (n) => String(round(Number(n))));

export function renderDiagram(input: DiagramInput): SafeHtml {
  const layout = layoutDiagram(input);
  if (!layout.nodes.length) return html`<p class="empty">No rules in fsm_transition_rules.</p>`;
  const busiest = Math.max(1, ...layout.edges.map((e) => e.total));

  const edges = layout.edges.map((e) => {
    const tone = e.labels.some((l) => !l.ruled && l.count > 0) ? "bad" : e.total === 0 ? "none" : e.kind === "sink" ? "sink" : "busy";
    const width = e.total === 0 ? 1.25 : Math.min(e.kind === "loop" ? 3 : 5, 1.5 + 3.5 * Math.sqrt(e.total / busiest));
    const labels = e.labels.map((l, i) =>
      html`<tspan x="${round(e.labelX)}" dy="${i === 0 ? 0 : LINE}" class="${l.ruled ? "" : "unruled"}">${l.event} · <tspan class="n${l.count ? "" : " zero"}">${formatCount(l.count)}</tspan></tspan>`
    );
    return html`<g class="edge ${tone}" data-from="${e.from ?? ""}" data-to="${e.to}"><path d="${roundPath(e.d)}" stroke-width="${round(width)}" marker-end="url(#fsm-arrow-${tone})"/>${
      e.kind === "start" ? html`<circle cx="${round(e.labelX - 12)}" cy="${round(layout.nodes.find((n) => n.state === e.to)!.y - 40)}" r="5"/>` : ""
    }<text class="elabel" x="${round(e.labelX)}" y="${round(e.labelY)}" text-anchor="${e.anchor}">${labels}</text></g>`;
  });

  const nodes = layout.nodes.map((n) => {
    const tone = n.sink ? "sink" : n.terminal ? "final" : n.open_now > 0 ? "busy" : "quiet";
    const figure = n.terminal ? n.entered : n.open_now;
    const unit = n.terminal ? "in window" : "open now";
    const cx = n.x + n.w / 2;
    const content = n.sink
      ? html`<text class="sname" x="${round(cx)}" y="${round(n.y + n.h / 2 - 14)}" text-anchor="middle">${n.state}</text><text class="scount" x="${round(cx)}" y="${round(n.y + n.h / 2 + 16)}" text-anchor="middle">${formatCount(figure)}</text><text class="sunit" x="${round(cx)}" y="${round(n.y + n.h / 2 + 34)}" text-anchor="middle">${unit}</text>`
      : html`<text class="sname" x="${round(n.x + 12)}" y="${round(n.y + 21)}">${n.state}</text><text x="${round(n.x + 12)}" y="${round(n.y + 50)}"><tspan class="scount">${formatCount(figure)}</tspan><tspan class="sunit" dx="6">${unit}</tspan></text>`;
    const title = n.terminal
      ? `${n.state}: ${formatCount(n.entered)} sessions ended here within the window`
      : `${n.state}: ${formatCount(n.open_now)} open now, entered ${formatCount(n.entered)} times within the window`;
    return html`<g class="state ${tone}" data-state="${n.state}" data-count="${figure}"><title>${title}</title><rect x="${round(n.x)}" y="${round(n.y)}" width="${n.w}" height="${round(n.h)}" rx="9"/>${content}</g>`;
  });

  const marker = (tone: string) =>
    html`<marker id="fsm-arrow-${tone}" class="arrow ${tone}" viewBox="0 0 10 10" refX="9.5" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker>`;
  return html`<svg class="diagram" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" role="img" aria-label="State diagram: open sessions per state and transitions within the window"><defs>${
    ["busy", "none", "sink", "bad"].map(marker)
  }</defs>${edges}${nodes}</svg>`;
}
