// The README's state diagram is the rule table's: CI fails when they drift apart.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../scripts/lib/database.ts";
import { README_END, README_START, renderMermaid, type Rule, withDiagram } from "../../scripts/lib/diagram.ts";
import { connect } from "../support/db.ts";

const sql = connect({ max: 1 });
afterAll(() => sql.end());

describe("the README's state diagram", () => {
  it("is the one fsm_transition_rules draws (npm run fsm:diagram)", async () => {
    const rules = [...await sql`select from_state, event, to_state from fsm_transition_rules`] as Rule[];
    const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
    expect(withDiagram(readme, renderMermaid(rules)), "run npm run fsm:diagram").toBe(readme);
  });

  it("has one arrow per rule", () => {
    const rules: Rule[] = [
      { from_state: "idle", event: "go", to_state: "collecting_data" },
      { from_state: "collecting_data", event: "abandon", to_state: "abandoned" },
    ];
    expect(renderMermaid(rules)).toBe(
      "```mermaid\nstateDiagram-v2\n  [*] --> idle: start\n  idle --> collecting_data: go\n" +
        "  collecting_data --> abandoned: abandon\n  abandoned --> [*]\n```",
    );
    expect(() => withDiagram("no markers", "x")).toThrow(README_START.slice(0, 20));
    expect(withDiagram(`a\n${README_START}\nold\n${README_END}\nb`, "new")).toBe(`a\n${README_START}\nnew\n${README_END}\nb`);
  });
});
