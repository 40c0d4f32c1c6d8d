// HTML that escapes by default: every value interpolated into html`…` is escaped unless it is itself
// html`…` output. Text from the database (error messages, ids) can never become markup.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escaped for text and for double- or single-quoted attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Markup this code wrote itself (never text from outside). */
export const trusted = (markup: string) => new SafeHtml(markup);

const integer = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export const formatCount = (n: number | null | undefined) => (n === null || n === undefined ? "–" : integer.format(n));
export const formatPct = (n: number | null | undefined) => (n === null || n === undefined ? "–" : `${decimal.format(n)} %`);

/** "2026-11-25 16:04 UTC" */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** 75 → "1 h 15 min", 120 → "2 h", 3000 → "2 d 2 h" */
export function formatMinutes(minutes: number): string {
  const m = Math.max(0, Math.floor(minutes));
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return m % 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min` : `${m / 60} h`;
  const hours = Math.floor((m % 1440) / 60);
  return hours ? `${Math.floor(m / 1440)} d ${hours} h` : `${Math.floor(m / 1440)} d`;
}

/** At most `max` characters, with an ellipsis when cut. */
export const truncate = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
