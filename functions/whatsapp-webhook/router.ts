// Which intent wins, or whether to ask: the reference design's routing, as pure functions.
//   1. P0 (cancel, stop, help) overrides everything.
//   2. Intents that conflict with the active session lose 30% of their confidence.
//   3. Candidates under the 0.70 threshold cannot win on their own.
//   4. Sort by priority, then confidence.
//   5. When the top two are within 0.15 of each other, ask instead of guessing.
import { type Intent, INTENT_PRIORITY, type IntentCandidate } from "./intents.ts";

export type SessionState =
  | "idle" | "task_selection" | "awaiting_action" | "collecting_data" | "confirmation_pending";

export interface RoutingContext {
  sessionType: "progress_update" | "incident" | null;
  state: SessionState | null;
}

export interface RoutingSettings {
  threshold: number;
  conflictPenalty: number;
  clarificationGap: number;
  /** Below the threshold but at least this: ask what was meant rather than saying "I don't understand". */
  guessFloor: number;
}

export const DEFAULT_ROUTING: RoutingSettings = {
  threshold: 0.7,
  conflictPenalty: 0.3,
  clarificationGap: 0.15,
  guessFloor: 0.5,
};

export type Route =
  | { kind: "act"; intent: Intent; confidence: number }
  | { kind: "clarify"; reason: "ambiguous" | "low_confidence"; options: Intent[] }
  | { kind: "unknown" };

const COLLECTING: (SessionState | null)[] = ["awaiting_action", "collecting_data", "confirmation_pending"];

/** Does acting on this intent fight the conversation the worker is in? */
export function conflictsWithSession(intent: Intent, ctx: RoutingContext): boolean {
  switch (intent) {
    case "create_incident":
      return ctx.sessionType === "progress_update" && ctx.state !== "idle" && ctx.state !== null;
    case "progress_update":
      return ctx.sessionType === "incident";
    case "confirm_yes":
    case "confirm_no":
      return ctx.state !== "confirmation_pending";
    case "done":
    case "add_comment":
    case "set_percentage":
      return !COLLECTING.includes(ctx.state);
    case "select_number":
      return COLLECTING.includes(ctx.state);
    default:
      return false;
  }
}

export function adjustConfidences(
  candidates: IntentCandidate[],
  ctx: RoutingContext,
  settings: RoutingSettings = DEFAULT_ROUTING,
): IntentCandidate[] {
  return candidates.map((c) =>
    conflictsWithSession(c.intent, ctx) ? { ...c, confidence: c.confidence * (1 - settings.conflictPenalty) } : c
  );
}

function byPriorityThenConfidence(a: IntentCandidate, b: IntentCandidate): number {
  return INTENT_PRIORITY[a.intent] - INTENT_PRIORITY[b.intent] || b.confidence - a.confidence;
}

export function route(
  candidates: IntentCandidate[],
  ctx: RoutingContext,
  settings: RoutingSettings = DEFAULT_ROUTING,
): Route {
  const valid = candidates.filter((c) => c.intent !== "unknown" && Number.isFinite(c.confidence));

  const override = valid
    .filter((c) => INTENT_PRIORITY[c.intent] === 0 && c.confidence >= settings.threshold)
    .sort(byPriorityThenConfidence)[0];
  if (override) return { kind: "act", intent: override.intent, confidence: override.confidence };

  const adjusted = adjustConfidences(valid, ctx, settings);
  const byConfidence = [...adjusted].sort((a, b) => b.confidence - a.confidence);
  const winner = adjusted.filter((c) => c.confidence >= settings.threshold).sort(byPriorityThenConfidence)[0];

  if (!winner) {
    const [first, second] = byConfidence;
    if (!first || first.confidence < settings.guessFloor) return { kind: "unknown" };
    return {
      kind: "clarify",
      reason: "low_confidence",
      options: second && second.confidence >= settings.guessFloor ? [first.intent, second.intent] : [first.intent],
    };
  }

  const rival = byConfidence.find((c) =>
    c.intent !== winner.intent && Math.abs(c.confidence - winner.confidence) <= settings.clarificationGap + 1e-9
  );
  if (rival) return { kind: "clarify", reason: "ambiguous", options: [winner.intent, rival.intent] };
  return { kind: "act", intent: winner.intent, confidence: winner.confidence };
}
