// Small charts as inline SVG: horizontal bars for categories, stacked columns for a time series.
// Colours come from CSS classes (`tone-…`), so no inline style is needed. Pure.
import { formatCount, html, type SafeHtml } from "./html.ts";

export interface Bar {
  label: string;
  value: number;
  tone: string;
  /** Shown after the value, e.g. "42 %". */
  note?: string;
}

export function barChart(bars: Bar[], options: { ariaLabel: string; labelWidth?: number; width?: number }): SafeHtml {
  if (!bars.length) return html`<p class="empty">Nothing in this window.</p>`;
  const W = options.width ?? 400;
  const rowH = 30;
  const labelW = options.labelWidth ?? 150;
  const valueW = 78;
  const plotW = W - labelW - valueW;
  const H = bars.length * rowH + 4;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = 2 + i * rowH;
    const w = b.value > 0 ? Math.max(3, (b.value / max) * plotW) : 0;
    return html`<g class="bar" data-label="${b.label}" data-value="${b.value}"><title>${b.label}: ${formatCount(b.value)}${b.note ? ` (${b.note})` : ""}</title><text class="blabel" x="${labelW - 10}" y="${y + 19}" text-anchor="end">${b.label}</text><rect class="track" x="${labelW}" y="${y + 5}" width="${plotW}" height="${rowH - 10}" rx="4"/><rect class="tone-${b.tone}" x="${labelW}" y="${y + 5}" width="${Math.round(w * 10) / 10}" height="${rowH - 10}" rx="4"/><text class="bvalue" x="${labelW + plotW + 8}" y="${y + 19}">${formatCount(b.value)}${b.note ? html`<tspan class="bnote" dx="5">${b.note}</tspan>` : ""}</text></g>`;
  });
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${options.ariaLabel}">${rows}</svg>`;
}

export interface Column {
  label: string;
  title: string;
  parts: { value: number; tone: string }[];
}

/** 0 → 1, 7 → 10, 13 → 20, 130 → 200, 4100 → 5000 */
export function niceCeiling(n: number): number {
  if (n <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * magnitude >= n) return f * magnitude;
  return 10 * magnitude;
}

export function columnChart(columns: Column[], options: { ariaLabel: string; maxLabels?: number }): SafeHtml {
  if (!columns.length) return html`<p class="empty">Nothing in this window.</p>`;
  const W = 1300;
  const H = 200;
  const left = 46;
  const bottom = 24;
  const plotW = W - left - 8;
  const plotH = H - bottom - 10;
  const total = (c: Column) => c.parts.reduce((n, p) => n + p.value, 0);
  const max = niceCeiling(Math.max(0, ...columns.map(total)));
  const band = plotW / columns.length;
  const barW = Math.max(2, band * 0.68);
  // At most maxLabels axis labels: every n-th of the columns that have one.
  const labelled = columns.filter((c) => c.label);
  const every = Math.max(1, Math.ceil(labelled.length / (options.maxLabels ?? 8)));
  const shown = new Set(labelled.filter((_, i) => i % every === 0));
  const y = (v: number) => 10 + plotH - (v / max) * plotH;
  const r = (n: number) => Math.round(n * 10) / 10;

  const grid = [0, max / 2, max].map((v) =>
    html`<line class="grid" x1="${left}" x2="${W - 8}" y1="${r(y(v))}" y2="${r(y(v))}"/><text class="axis" x="${left - 8}" y="${r(y(v)) + 4}" text-anchor="end">${formatCount(v)}</text>`
  );
  const bars = columns.map((c, i) => {
    const x = left + i * band + (band - barW) / 2;
    let base = 0;
    const rects = c.parts.filter((p) => p.value > 0).map((p) => {
      const top = y(base + p.value);
      const rect = html`<rect class="tone-${p.tone}" x="${r(x)}" y="${r(top)}" width="${r(barW)}" height="${r(y(base) - top)}"/>`;
      base += p.value;
      return rect;
    });
    const label = shown.has(c)
      ? html`<text class="axis" x="${r(x + barW / 2)}" y="${H - 6}" text-anchor="middle">${c.label}</text>`
      : "";
    return html`<g class="column" data-total="${total(c)}"><title>${c.title}</title><rect class="hit" x="${r(left + i * band)}" y="10" width="${r(band)}" height="${plotH}"/>${rects}${label}</g>`;
  });
  return html`<svg class="chart wide" viewBox="0 0 ${W} ${H}" role="img" aria-label="${options.ariaLabel}">${grid}${bars}</svg>`;
}
