import type { Intent, Language } from "../../intents.ts";

/**
 * A language for the keyword classifier, as data. Phrases are written normalised: lower case, no
 * accents, words separated by single spaces ("mise a jour", not "Mise à jour").
 */
export interface Vocabulary {
  language: Language;
  /** The whole message is one of these. */
  exact: Partial<Record<Intent, string[]>>;
  /** The message contains one of these as whole words. */
  contains: Partial<Record<Intent, string[]>>;
  /** Words that may be followed by a task number or name: "update 2", "update roof tiles". */
  prefixes: Partial<Record<"progress_update" | "create_incident", string[]>>;
  /** Words that make a number a percentage: "60 percent". */
  percentWords: string[];
}
