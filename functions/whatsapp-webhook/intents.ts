// The intents the bot understands and their priority (P0 overrides everything, P4 is the fallback).
export const INTENT_PRIORITY = {
  cancel: 0,
  help: 0,
  progress_update: 1,
  upload_photo: 1,
  create_incident: 1,
  add_comment: 2,
  set_percentage: 2,
  done: 2,
  confirm_yes: 2,
  confirm_no: 2,
  select_number: 2,
  list_tasks: 3,
  greeting: 3,
  unknown: 4,
} as const;

export type Intent = keyof typeof INTENT_PRIORITY;
export type Language = "en" | "fr";

export interface IntentCandidate {
  intent: Intent;
  confidence: number;
}

export interface Classification {
  candidates: IntentCandidate[];
  /** The language the words were recognised in, when only one fits. */
  language?: Language;
  /** A percentage as written, range not checked ("140%" → 140). */
  percentage?: number;
  /** A bare number ("2") or the number after "update" ("update 2"). */
  number?: number;
  /** What follows "update"/"incident" when it is not a number: a task name to look up. */
  taskQuery?: string;
}

export interface ClassifierInput {
  text: string;
  mediaCount: number;
}

/** Anything that turns a message into scored intents: the built-in keyword one, a language model later. */
export interface IntentClassifier {
  classify(input: ClassifierInput): Classification | Promise<Classification>;
}
