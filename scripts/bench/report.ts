// Plain-text output: progress lines on stderr (so stdout is the report alone), tables, and the
// optional JSON file of the figures.

/** Progress, on stderr: `[bench] …`. */
export function progress(prefix: string): (line: string) => void {
  return (line) => console.error(`[${prefix}] ${line}`);
}

export function heading(title: string): void {
  console.log(`\n${title}\n${"-".repeat(title.length)}`);
}

/** A table: numbers right-aligned; the first column, and those listed in `left`, left-aligned. */
export function table(headers: string[], rows: (string | number)[][], options: { left?: number[] } = {}): void {
  const left = new Set([0, ...(options.left ?? [])]);
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? "").length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (left.has(c) ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ").trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

export async function writeJson(path: string | undefined, data: unknown): Promise<void> {
  if (!path) return;
  await Deno.writeTextFile(path, JSON.stringify(data, null, 2) + "\n");
  console.error(`[bench] figures written to ${path}`);
}
