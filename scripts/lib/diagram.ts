// The state diagram in Mermaid, drawn from fsm_transition_rules, and where it sits in the README.
export interface Rule {
  from_state: string;
  event: string;
  to_state: string;
}

export const README_START = "<!-- fsm:diagram:start (npm run fsm:diagram writes this block from fsm_transition_rules) -->";
export const README_END = "<!-- fsm:diagram:end -->";

const TERMINAL = ["completed", "abandoned"];

/** States in the order a conversation meets them: breadth first from idle, force-abandon aside. */
export function stateOrder(rules: Rule[]): string[] {
  const order = ["idle"];
  for (let i = 0; i < order.length; i++) {
    for (const r of rules) {
      if (r.from_state === order[i] && r.event !== "abandon" && !order.includes(r.to_state)) order.push(r.to_state);
    }
  }
  for (const r of rules) for (const s of [r.from_state, r.to_state]) if (!order.includes(s)) order.push(s);
  return order;
}

export function renderMermaid(rules: Rule[]): string {
  const rank = new Map(stateOrder(rules).map((s, i) => [s, i]));
  const sorted = [...rules].sort((a, b) =>
    Number(a.event === "abandon") - Number(b.event === "abandon") ||
    rank.get(a.from_state)! - rank.get(b.from_state)! || rank.get(a.to_state)! - rank.get(b.to_state)! ||
    a.event.localeCompare(b.event));
  const states = new Set(rules.flatMap((r) => [r.from_state, r.to_state]));
  const lines = [
    "```mermaid",
    "stateDiagram-v2",
    ...(states.has("idle") ? ["  [*] --> idle: start"] : []),
    ...sorted.map((r) => `  ${r.from_state} --> ${r.to_state}: ${r.event}`),
    ...TERMINAL.filter((s) => states.has(s)).map((s) => `  ${s} --> [*]`),
    "```",
  ];
  return lines.join("\n");
}

/** The README with its diagram block replaced; throws when the markers are missing. */
export function withDiagram(readme: string, diagram: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md lacks the diagram markers ${README_START} … ${README_END}`);
  return `${readme.slice(0, start + README_START.length)}\n${diagram}\n${readme.slice(end)}`;
}
