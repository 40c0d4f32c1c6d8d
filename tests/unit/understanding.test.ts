// The classifier, the router and the conversation's decisions: pure code, no database.
import { describe, expect, it } from "vitest";
import { KeywordClassifier, normalize } from "../../functions/whatsapp-webhook/classifier/keyword.ts";
import { type Context, decide } from "../../functions/whatsapp-webhook/conversation.ts";
import { INTENT_PRIORITY, type IntentCandidate } from "../../functions/whatsapp-webhook/intents.ts";
import { adjustConfidences, DEFAULT_ROUTING, route, type RoutingContext } from "../../functions/whatsapp-webhook/router.ts";

const classifier = new KeywordClassifier();
const top = (text: string, mediaCount = 0) => classifier.classify({ text, mediaCount }).candidates[0];
const idle: RoutingContext = { sessionType: null, state: null };
const collecting: RoutingContext = { sessionType: "progress_update", state: "collecting_data" };

/** A small seeded generator, so a failing property prints an input that reproduces. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const ALPHABET = ["a", "é", "Z", " ", "%", "1", "9", "0", "-", ".", ",", "?", "#", "'", "’", "\n", "🙂", "中", "\u0301",
  "update", "maj", "done", "yes", "non", "incident", "problem", "cancel", "100", "%%", "\u0000", "\uD800"];
function randomText(rnd: () => number) {
  return Array.from({ length: Math.floor(rnd() * 12) }, () => ALPHABET[Math.floor(rnd() * ALPHABET.length)]).join("");
}

describe("the keyword classifier", () => {
  it.each([
    ["cancel", "cancel"], ["STOP", "cancel"], ["help", "help"], ["update", "progress_update"],
    ["update 2", "progress_update"], ["incident", "create_incident"], ["done", "done"], ["yes", "confirm_yes"],
    ["no", "confirm_no"], ["tasks", "list_tasks"], ["hi", "greeting"], ["2", "select_number"], ["60%", "set_percentage"],
    ["annuler", "cancel"], ["Mise à jour", "progress_update"], ["maj 3", "progress_update"], ["terminé", "done"],
    ["oui", "confirm_yes"], ["tâches", "list_tasks"], ["Bonjour", "greeting"], ["80 pour cent", "set_percentage"],
  ])("%s → %s", (text, intent) => {
    expect(top(text).intent).toBe(intent);
    expect(top(text).confidence).toBeGreaterThanOrEqual(DEFAULT_ROUTING.threshold);
  });

  it("reads numbers, percentages and task names", () => {
    expect(classifier.classify({ text: "update 3", mediaCount: 0 })).toMatchObject({ number: 3 });
    expect(classifier.classify({ text: "update roof tiles", mediaCount: 0 })).toMatchObject({ taskQuery: "roof tiles" });
    expect(classifier.classify({ text: "140%", mediaCount: 0 })).toMatchObject({ percentage: 140 });
    expect(classifier.classify({ text: "55,5 %", mediaCount: 0 })).toMatchObject({ percentage: 55.5 });
  });

  it("sees a photo first, and keeps free text as a possible comment", () => {
    expect(top("", 1)).toEqual({ intent: "upload_photo", confidence: 0.97 });
    const problem = classifier.classify({ text: "there is a problem with the pipes", mediaCount: 0 }).candidates;
    expect(problem.map((c) => c.intent)).toEqual(["create_incident", "add_comment"]);
  });

  it("tells the language when only one fits", () => {
    expect(classifier.classify({ text: "bonjour", mediaCount: 0 }).language).toBe("fr");
    expect(classifier.classify({ text: "hello", mediaCount: 0 }).language).toBe("en");
    expect(classifier.classify({ text: "ok", mediaCount: 0 }).language).toBeUndefined();
  });

  it("gives a near miss low confidence", () => {
    expect(classifier.classify({ text: "updte", mediaCount: 0 }).candidates)
      .toContainEqual({ intent: "progress_update", confidence: 0.6 });
    expect(top("xqzvw").intent).toBe("add_comment");
  });

  it("normalises accents, case and punctuation", () => {
    expect(normalize("  Mise à JOUR !! ")).toBe("mise a jour");
    expect(normalize("C’est tout.")).toBe("c est tout");
  });

  it("property: never throws, always returns candidates with confidences in [0, 1]", () => {
    const rnd = random(42);
    for (let i = 0; i < 2000; i++) {
      const text = randomText(rnd);
      const c = classifier.classify({ text, mediaCount: Math.floor(rnd() * 3) });
      expect(c.candidates.length, JSON.stringify(text)).toBeGreaterThan(0);
      for (const x of c.candidates) {
        expect(x.confidence, JSON.stringify(text)).toBeGreaterThanOrEqual(0);
        expect(x.confidence).toBeLessThanOrEqual(1);
        expect(INTENT_PRIORITY[x.intent]).toBeDefined();
      }
    }
  });
});

describe("the router", () => {
  const c = (intent: IntentCandidate["intent"], confidence: number): IntentCandidate => ({ intent, confidence });

  it("lets P0 override everything, whatever its rivals' confidence", () => {
    expect(route([c("progress_update", 0.99), c("cancel", 0.75)], collecting)).toMatchObject({ kind: "act", intent: "cancel" });
    expect(route([c("help", 0.71), c("add_comment", 0.99)], collecting)).toMatchObject({ kind: "act", intent: "help" });
  });

  it("takes 30% off intents that conflict with the session", () => {
    const [adjusted] = adjustConfidences([c("create_incident", 0.9)], collecting);
    expect(adjusted.confidence).toBeCloseTo(0.63);
    expect(adjustConfidences([c("create_incident", 0.9)], idle)[0].confidence).toBe(0.9);
    expect(adjustConfidences([c("confirm_yes", 0.95)], collecting)[0].confidence).toBeCloseTo(0.665);
  });

  it("sorts by priority before confidence", () => {
    expect(route([c("list_tasks", 0.99), c("progress_update", 0.72)], idle)).toMatchObject({ kind: "act", intent: "progress_update" });
  });

  it("asks when the top two are within 0.15, acts when they are not", () => {
    expect(route([c("create_incident", 0.9), c("add_comment", 0.75)], collecting))
      .toEqual({ kind: "clarify", reason: "ambiguous", options: ["add_comment", "create_incident"] });
    expect(route([c("create_incident", 0.9), c("add_comment", 0.75)], idle)).toMatchObject({ kind: "act", intent: "create_incident" });
    expect(route([c("upload_photo", 0.97), c("add_comment", 0.75)], collecting)).toMatchObject({ kind: "act", intent: "upload_photo" });
  });

  it("asks on low confidence, gives up below the floor", () => {
    expect(route([c("progress_update", 0.6)], idle)).toEqual({ kind: "clarify", reason: "low_confidence", options: ["progress_update"] });
    expect(route([c("progress_update", 0.4)], idle)).toEqual({ kind: "unknown" });
    expect(route([], idle)).toEqual({ kind: "unknown" });
  });

  it("property: never throws, and any answer it gives is a known intent", () => {
    const rnd = random(7);
    const intents = Object.keys(INTENT_PRIORITY) as IntentCandidate["intent"][];
    const states = [null, "idle", "task_selection", "awaiting_action", "collecting_data", "confirmation_pending"] as const;
    for (let i = 0; i < 2000; i++) {
      const candidates = Array.from({ length: Math.floor(rnd() * 5) }, () =>
        c(intents[Math.floor(rnd() * intents.length)], rnd() < 0.05 ? NaN : rnd()));
      const state = states[Math.floor(rnd() * states.length)];
      const r = route(candidates, { state, sessionType: state ? (rnd() < 0.5 ? "incident" : "progress_update") : null });
      if (r.kind === "act") expect(intents).toContain(r.intent);
      if (r.kind === "clarify") expect(r.options.length).toBeGreaterThan(0);
    }
  });
});

describe("the conversation's decisions", () => {
  const tasks = [1, 2, 3].map((n) => ({ number: n, id: `00000000-0000-4000-8000-00000000000${n}`, title: `Task ${n}`, progress_percent: 0 }));
  const base: Context = {
    now: "2026-11-25T12:00:00Z",
    session_timeout_minutes: 30,
    worker: { id: "w", display_name: "Ana Lima", language: "en" },
    session: null,
    clarification: null,
    tasks,
    unnotified_closure: null,
  };
  const collectingSession = {
    id: "s", version: 4, fsm_state: "collecting_data" as const, session_type: "progress_update" as const,
    task_id: tasks[0].id, task_title: "Task 1", photo_count: 0, session_metadata: {},
  };
  const say = (text: string, context: Context = base, mediaCount = 0) =>
    decide({
      message: { body: text, media: Array.from({ length: mediaCount }, (_, i) => ({ url: `https://m/${i}`, contentType: "image/jpeg" })) },
      context,
      classification: classifier.classify({ text, mediaCount }),
    });

  it("starts an update on a named task in one go", () => {
    expect(say("update 2")).toMatchObject({
      steps: [{ op: "start", session_type: "progress_update" }, { op: "event", event: "select_task", payload: { task_id: tasks[1].id } }],
    });
  });

  it("answers help without a step", () => {
    expect(say("help", { ...base, session: collectingSession }).steps).toEqual([]);
  });

  it("acknowledges one photo of a burst and stays silent for the rest", () => {
    const justAcked = { ...collectingSession, session_metadata: { photos_acked_at: "2026-11-25T11:59:58Z" } };
    const d = say("", { ...base, session: justAcked }, 1);
    expect(d.reply).toBe("");
    expect(d.steps).toEqual([{ op: "event", event: "add_data", payload: { photos: [{ url: "https://m/0", content_type: "image/jpeg", caption: undefined }] } }]);
    expect(say("", { ...base, session: collectingSession }, 1).reply).toMatch(/Photo saved/);
  });

  it("refuses a percentage out of range without a step", () => {
    expect(say("101%", { ...base, session: collectingSession })).toMatchObject({ steps: [], reply: expect.stringMatching(/not possible/) });
    expect(say("33.3%", { ...base, session: collectingSession }).steps).toEqual([]);
  });

  it("property: never throws, and every reply tells the worker something", () => {
    const rnd = random(99);
    const contexts: Context[] = [
      base,
      { ...base, session: collectingSession },
      { ...base, session: { ...collectingSession, fsm_state: "confirmation_pending" } },
      { ...base, session: { ...collectingSession, fsm_state: "task_selection", task_id: null, task_title: null } },
      { ...base, session: { ...collectingSession, session_type: "incident" } },
      { ...base, tasks: [] },
      {
        ...base, session: collectingSession,
        clarification: { id: "c", question: "?", original_message: "there is a problem",
                         options: [{ key: "add_comment", label: "Add it as a comment" }, { key: "create_incident", label: "Report an incident" }] },
      },
    ];
    for (let i = 0; i < 3000; i++) {
      const text = randomText(rnd);
      const context = contexts[Math.floor(rnd() * contexts.length)];
      const media = rnd() < 0.1 ? 1 : 0;
      const d = say(text, context, media);
      if (!(media && d.reply === "")) expect(d.reply.length, JSON.stringify(text)).toBeGreaterThan(0);
    }
  });
});
