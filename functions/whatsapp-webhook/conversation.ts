// What a message means here and now: from the context the database gave (worker, open session,
// pending clarification, tasks), the message and its classification, decide the steps to apply and
// the reply. Pure: no I/O, no clock but the database's.
import { normalize } from "./classifier/keyword.ts";
import type { Classification, Intent, Language } from "./intents.ts";
import { TEXTS, type Texts } from "./messages.ts";
import { route, type RoutingSettings, type SessionState } from "./router.ts";

export interface Task {
  number: number;
  id: string;
  title: string;
  progress_percent: number;
}

export interface OpenSession {
  id: string;
  version: number;
  fsm_state: SessionState;
  session_type: "progress_update" | "incident";
  task_id: string | null;
  task_title: string | null;
  photo_count: number;
  session_metadata: {
    comments?: string[];
    progress_percent?: number;
    photos_acked_at?: string;
    pending_description?: string;
  };
}

export interface ClarificationOption {
  key: Intent | "continue";
  label: string;
  number?: number;
}

export interface PendingClarification {
  id: string;
  question: string;
  options: ClarificationOption[];
  original_message: string;
}

export interface Context {
  now: string;
  session_timeout_minutes: number;
  worker: { id: string; display_name: string; language: Language };
  session: OpenSession | null;
  clarification: PendingClarification | null;
  tasks: Task[];
  unnotified_closure: { session_id: string; closure_reason: string; task_title: string | null } | null;
}

export type Step =
  | { op: "start"; session_type: "progress_update" | "incident" }
  | { op: "event"; event: string; payload?: Record<string, unknown> }
  | { op: "remember"; key: string; value: unknown }
  | { op: "clarify"; question: string; options: ClarificationOption[]; original_message: string }
  | { op: "resolve_clarification"; id: string; status: "answered" | "cancelled"; answer?: string; chosen_option?: ClarificationOption }
  | { op: "mark_notified"; session_id: string };

export interface Message {
  body: string;
  media: { url: string; contentType: string }[];
}

export interface Decision {
  steps: Step[];
  /** Empty: answer with an empty <Response/>, WhatsApp sends nothing. */
  reply: string;
  /** What was understood, for the logs. */
  intent: Intent | "clarify" | "unknown";
  language: Language;
}

/** Photos picked together arrive as separate webhooks at once: one acknowledgement for the lot. */
export const PHOTO_BURST_MS = 10_000;

const COLLECTING: SessionState[] = ["awaiting_action", "collecting_data", "confirmation_pending"];
const MEANINGLESS_ALONE: Intent[] = ["done", "confirm_yes", "confirm_no", "add_comment", "set_percentage"];

export function decide(
  input: { message: Message; context: Context; classification: Classification; routing?: RoutingSettings },
): Decision {
  return new Turn(input.message, input.context, input.classification, input.routing).run();
}

class Turn {
  readonly t: Texts;
  readonly language: Language;
  readonly steps: Step[] = [];
  readonly notes: string[] = [];
  session: OpenSession | null;

  constructor(
    readonly message: Message,
    readonly ctx: Context,
    readonly cls: Classification,
    readonly routing?: RoutingSettings,
  ) {
    this.language = cls.language ?? ctx.worker.language;
    this.t = TEXTS[this.language];
    this.session = ctx.session;
  }

  run(): Decision {
    const closure = this.ctx.unnotified_closure;
    if (closure) {
      this.steps.push({ op: "mark_notified", session_id: closure.session_id });
      this.notes.push(this.t.timedOut(closure.task_title, Math.round(this.ctx.session_timeout_minutes)));
    }
    const pending = this.ctx.clarification;
    const routed = route(this.cls.candidates, this.routingContext(), this.routing);

    if (pending) {
      const override = routed.kind === "act" && (routed.intent === "cancel" || routed.intent === "help");
      const chosen = override ? undefined : this.chosenOption(pending);
      if (routed.kind === "act" && routed.intent === "help") {
        return this.finish("help", `${this.t.help}\n\n${pending.question}`);
      }
      if (chosen) {
        this.steps.push({
          op: "resolve_clarification", id: pending.id, status: "answered", answer: this.message.body, chosen_option: chosen,
        });
        if (chosen.key === "continue" || chosen.key === "unknown") return this.finish("clarify", this.nextHint());
        // The answer applies to the message that raised the question, not to "1".
        const original = { body: pending.original_message, media: [] };
        return this.act(chosen.key, original, chosen.number);
      }
      this.steps.push({ op: "resolve_clarification", id: pending.id, status: "cancelled" });
      if (!override) this.notes.push(this.t.clarificationDropped);
    }

    if (routed.kind === "act") return this.act(routed.intent, this.message, this.cls.number);
    if (routed.kind === "clarify") return this.clarify(routed.options);
    return this.finish("unknown", `${this.t.notUnderstood} ${this.nextHint()}`);
  }

  routingContext() {
    return { sessionType: this.session?.session_type ?? null, state: this.session?.fsm_state ?? null };
  }

  finish(intent: Decision["intent"], reply: string): Decision {
    return { steps: this.steps, reply: [...this.notes, reply].filter(Boolean).join("\n\n"), intent, language: this.language };
  }

  nextHint(): string {
    const s = this.session;
    if (!s) return this.t.next.none;
    if (s.fsm_state === "idle" || s.fsm_state === "task_selection") return this.t.next.task_selection;
    if (s.fsm_state === "confirmation_pending") return this.t.next.confirmation_pending;
    return s.session_type === "incident" ? this.t.next.collecting_incident : this.t.next.collecting;
  }

  /** "1", "2", or the words of an option's label or intent. */
  chosenOption(pending: PendingClarification): ClarificationOption | undefined {
    const text = normalize(this.message.body);
    const n = text.match(/^#?(\d)$/);
    if (n) return pending.options[Number(n[1]) - 1];
    return pending.options.find((o) => normalize(o.label) === text) ??
      pending.options.find((o) => o.key !== "continue" && this.cls.candidates.some((c) => c.intent === o.key && c.confidence >= 0.9));
  }

  clarify(candidates: Intent[]): Decision {
    // Without a session, "a comment" or "confirm" is no answer to offer.
    const options = this.session ? candidates : candidates.filter((o) => !MEANINGLESS_ALONE.includes(o));
    if (!options.length) return this.finish("unknown", `${this.t.notUnderstood} ${this.t.tasks(this.ctx.tasks)}`);
    const choices: ClarificationOption[] = options.map((key) => ({
      key,
      label: this.t.option(key, key === "select_number" ? this.cls.number : undefined),
      ...(key === "select_number" && this.cls.number !== undefined ? { number: this.cls.number } : {}),
    }));
    if (choices.length === 1) choices.push({ key: "continue", label: this.t.option("continue") });
    const question = this.t.clarify(choices.map((c) => c.label));
    this.steps.push({ op: "clarify", question, options: choices, original_message: this.message.body });
    return this.finish("clarify", question);
  }

  act(intent: Intent, message: Message, number?: number): Decision {
    const s = this.session;
    const t = this.t;
    switch (intent) {
      case "cancel":
        if (!s) return this.finish(intent, t.nothingToCancel);
        this.event("abandon", { closure_reason: "cancelled" });
        return this.finish(intent, t.cancelled);
      case "help":
        return this.finish(intent, t.help);
      case "greeting":
        return this.finish(intent, `${t.greeting(this.ctx.worker.display_name.split(" ")[0])} ${s ? this.nextHint() : t.tasks(this.ctx.tasks)}`);
      case "list_tasks":
        return this.finish(intent, s ? `${t.tasks(this.ctx.tasks)}\n${this.nextHint()}` : t.tasks(this.ctx.tasks));
      case "progress_update":
      case "select_number":
        return this.startOrSelect(intent, message, number, s?.session_type === "incident" && s.fsm_state === "task_selection" ? "incident" : "progress_update");
      case "create_incident":
        return this.incident(message, number);
      case "upload_photo":
        return this.photos(message);
      case "add_comment":
        return this.comment(message.body);
      case "set_percentage":
        return this.percentage(message.body);
      case "done":
        return this.done();
      case "confirm_yes":
        if (s?.fsm_state !== "confirmation_pending") return this.finish(intent, this.nextHint());
        this.event("confirm");
        return this.finish(intent, s.session_type === "incident"
          ? t.incidentRecorded(s.task_title ?? "")
          : t.recorded(s.task_title ?? "", s.session_metadata.progress_percent));
      case "confirm_no":
        if (s?.fsm_state !== "confirmation_pending") return this.finish(intent, this.nextHint());
        this.event("reject");
        return this.finish(intent, t.backToCollecting);
      default:
        return this.finish("unknown", `${t.notUnderstood} ${this.nextHint()}`);
    }
  }

  event(event: string, payload?: Record<string, unknown>) {
    this.steps.push(payload ? { op: "event", event, payload } : { op: "event", event });
  }

  /** The worker's task a number or a name points to; undefined with the reply already written. */
  findTask(message: Message, number?: number): Task | "none" | { error: string } {
    const tasks = this.ctx.tasks;
    if (number !== undefined) {
      return tasks.find((t) => t.number === number) ?? { error: this.t.noSuchTask(number, tasks.length) };
    }
    const query = this.cls.taskQuery && message === this.message ? this.cls.taskQuery : undefined;
    if (!query) return "none";
    const hit = tasks.filter((t) => normalize(t.title).includes(query));
    return hit.length === 1 ? hit[0] : { error: this.t.noTaskMatch(query) };
  }

  startOrSelect(intent: Intent, message: Message, number: number | undefined, type: "progress_update" | "incident"): Decision {
    const s = this.session;
    const t = this.t;
    const found = this.findTask(message, number);
    if (typeof found === "object" && "error" in found) return this.finish(intent, found.error);
    const task = found === "none" ? undefined : found;

    if (s?.session_type === "incident" && s.fsm_state !== "task_selection" && s.fsm_state !== "idle") {
      return this.finish(intent, t.finishIncidentFirst);
    }
    if (s && (s.fsm_state === "task_selection" || s.fsm_state === "idle")) {
      if (!task) return this.finish(intent, type === "incident" ? t.whichTaskIncident(this.ctx.tasks) : t.whichTask(this.ctx.tasks));
      return this.selected(task, s.session_type);
    }
    if (s) {
      if (!task || task.id === s.task_id) return this.finish(intent, t.alreadyUpdating(s.task_title ?? ""));
      this.event("abandon", { closure_reason: "task_switched" });
      this.steps.push({ op: "start", session_type: "progress_update" });
      this.event("select_task", { task_id: task.id });
      return this.finish(intent, t.switched(s.task_title ?? "", task.title, task.progress_percent));
    }
    if (!this.ctx.tasks.length) return this.finish(intent, t.tasks([]));
    this.steps.push({ op: "start", session_type: "progress_update" });
    if (!task) {
      this.event("start_update");
      return this.finish(intent, t.whichTask(this.ctx.tasks));
    }
    this.event("select_task", { task_id: task.id });
    return this.finish(intent, t.updating(task.title, task.progress_percent));
  }

  selected(task: Task, type: "progress_update" | "incident"): Decision {
    this.event("select_task", { task_id: task.id });
    if (type === "progress_update") return this.finish("select_number", this.t.updating(task.title, task.progress_percent));
    const pending = this.session?.session_metadata.pending_description;
    if (pending) {
      this.event("add_data", { comment: pending });
      this.steps.push({ op: "remember", key: "pending_description", value: null });
      return this.finish("select_number", `${this.t.incidentFor(task.title)}\n${this.t.descriptionSaved}`);
    }
    return this.finish("select_number", this.t.incidentFor(task.title));
  }

  incident(message: Message, number?: number): Decision {
    const s = this.session;
    const t = this.t;
    const described = this.isDescription(message.body) ? message.body.trim() : undefined;
    if (s?.session_type === "incident") {
      if (COLLECTING.includes(s.fsm_state) && described) return this.comment(described);
      return this.finish("create_incident", this.nextHint());
    }
    const found = this.findTask(message, number);
    if (typeof found === "object" && "error" in found) return this.finish("create_incident", found.error);
    // Mid-update, the incident is about the task being updated; the update is closed unrecorded.
    const task = found !== "none" ? found : this.ctx.tasks.find((x) => x.id === s?.task_id);
    if (s) this.event("abandon", { closure_reason: "task_switched" });
    this.steps.push({ op: "start", session_type: "incident" });
    if (!task) {
      this.event("start_update");
      if (described) this.steps.push({ op: "remember", key: "pending_description", value: described });
      return this.finish("create_incident", t.whichTaskIncident(this.ctx.tasks));
    }
    this.event("select_task", { task_id: task.id });
    if (!described) return this.finish("create_incident", t.incidentFor(task.title));
    this.event("add_data", { comment: described });
    return this.finish("create_incident", `${t.incidentFor(task.title)}\n${t.descriptionSaved}`);
  }

  /** More than a command word: "the pipe is leaking", not "incident" or "problem". */
  isDescription(body: string): boolean {
    return normalize(body).split(" ").length > 2;
  }

  photos(message: Message): Decision {
    const s = this.session;
    if (!s || !COLLECTING.includes(s.fsm_state)) {
      return this.finish("upload_photo", s ? this.nextHint() : this.t.photoNeedsTask(this.ctx.tasks));
    }
    const caption = message.body.trim();
    this.event("add_data", {
      // "audio/ogg; codecs=opus" is stored as its media type; the parameters say nothing a reader needs.
      photos: message.media.map((m) => ({ url: m.url, content_type: m.contentType.split(";")[0].trim().toLowerCase(), caption: caption || undefined })),
      ...(caption ? { comment: caption } : {}),
    });
    const lastAck = s.session_metadata.photos_acked_at;
    const burst = lastAck !== undefined && Date.parse(this.ctx.now) - Date.parse(lastAck) < PHOTO_BURST_MS;
    if (burst && !caption && this.notes.length === 0) return this.finish("upload_photo", "");
    this.steps.push({ op: "remember", key: "photos_acked_at", value: this.ctx.now });
    return this.finish("upload_photo", this.t.photoSaved(s.photo_count + message.media.length));
  }

  comment(text: string): Decision {
    const s = this.session;
    if (!s || !COLLECTING.includes(s.fsm_state)) return this.finish("add_comment", `${this.t.notUnderstood} ${this.nextHint()}`);
    this.event("add_data", { comment: text.trim() });
    return this.finish("add_comment", s.session_type === "incident" ? this.t.descriptionSaved : this.t.commentSaved);
  }

  percentage(text: string): Decision {
    const s = this.session;
    const value = this.cls.percentage;
    if (!s || !COLLECTING.includes(s.fsm_state) || value === undefined) {
      return this.finish("set_percentage", `${this.t.notUnderstood} ${this.nextHint()}`);
    }
    if (s.session_type === "incident") return this.finish("set_percentage", this.t.percentInIncident);
    if (!Number.isInteger(value) || value < 0 || value > 100) {
      return this.finish("set_percentage", this.t.percentOutOfRange(value));
    }
    // "60% first coat done": the words are a comment too.
    const words = normalize(text).replace(/-?\d+([.,]\d+)?\s*%?/g, "").replace(/\b(percent|per cent|pour cent|pourcents?)\b/g, "").trim();
    this.event("add_data", { progress_percent: value, ...(/\p{L}{2,}/u.test(words) ? { comment: text.trim() } : {}) });
    return this.finish("set_percentage", this.t.percentSaved(value));
  }

  done(): Decision {
    const s = this.session;
    const t = this.t;
    if (!s || s.fsm_state === "task_selection" || s.fsm_state === "idle") return this.finish("done", this.nextHint());
    const m = s.session_metadata;
    const summary = {
      task: s.task_title ?? "",
      photos: s.photo_count,
      percent: m.progress_percent,
      comment: m.comments?.join(" / "),
    };
    const render = () => (s.session_type === "incident" ? t.incidentSummary(summary) : t.summary(summary));
    if (s.fsm_state === "confirmation_pending") return this.finish("done", render());
    const empty = s.session_type === "incident"
      ? !m.comments?.length
      : !m.comments?.length && m.progress_percent === undefined && s.photo_count === 0;
    if (s.fsm_state === "awaiting_action" || empty) {
      return this.finish("done", s.session_type === "incident" ? t.nothingYetIncident : t.nothingYet);
    }
    this.event("request_confirmation");
    return this.finish("done", render());
  }
}
