// The built-in classifier: deterministic, keywords and numbers, any number of languages as data.
import type { Classification, ClassifierInput, Intent, IntentCandidate, IntentClassifier, Language } from "../intents.ts";
import { en } from "./vocabulary/en.ts";
import { fr } from "./vocabulary/fr.ts";
import type { Vocabulary } from "./vocabulary/types.ts";

export const CONFIDENCE = {
  photo: 0.97,
  exact: 0.95,
  number: 0.95,
  percentage: 0.95,
  keyword: 0.9,
  comment: 0.75,
  nearMiss: 0.6,
} as const;

/** Lower case, accents and punctuation gone, single spaces: "Mise à jour !" → "mise a jour". */
export function normalize(text: string): string {
  return text
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[’']/g, " ")
    .replace(/[^\p{L}\p{N}%?#.,\s-]/gu, " ")
    .replace(/[.,!]+(\s|$)/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function containsPhrase(text: string, phrase: string): boolean {
  return ` ${text} `.includes(` ${phrase} `);
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1 || a === b) return false;
  let i = 0;
  let j = 0;
  let edits = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      i++;
      j++;
      continue;
    }
    if (++edits > 1) return false;
    if (a.length > b.length) i++;
    else if (b.length > a.length) j++;
    else {
      i++;
      j++;
    }
  }
  return edits + (a.length - i) + (b.length - j) <= 1;
}

export class KeywordClassifier implements IntentClassifier {
  constructor(private readonly vocabularies: Vocabulary[] = [en, fr]) {}

  classify({ text, mediaCount }: ClassifierInput): Classification {
    const scores = new Map<Intent, number>();
    const add = (intent: Intent, confidence: number) =>
      scores.set(intent, Math.max(scores.get(intent) ?? 0, confidence));
    const matchedIn = new Set<Language>();
    const result: Classification = { candidates: [] };
    const norm = normalize(text);

    if (mediaCount > 0) add("upload_photo", CONFIDENCE.photo);

    const percent = this.percentage(norm);
    if (percent !== undefined) {
      result.percentage = percent;
      add("set_percentage", CONFIDENCE.percentage);
    }

    // The whole message is a command, a number or "update <task>": nothing left to be a comment.
    let consumed = false;
    const bare = norm.match(/^#?(\d{1,3})$/);
    if (bare) {
      consumed = true;
      result.number = Number(bare[1]);
      add("select_number", CONFIDENCE.number);
    }

    for (const vocabulary of this.vocabularies) {
      let matched = false;
      for (const [intent, phrases] of Object.entries(vocabulary.exact) as [Intent, string[]][]) {
        if (phrases.includes(norm)) {
          add(intent, CONFIDENCE.exact);
          matched = consumed = true;
        }
      }
      for (const [intent, prefixes] of Object.entries(vocabulary.prefixes) as [Intent, string[]][]) {
        for (const prefix of prefixes) {
          if (!norm.startsWith(`${prefix} `)) continue;
          const rest = norm.slice(prefix.length + 1).replace(/^(task|tache|no|n°|#)\s*/, "").trim();
          if (!rest) continue;
          const n = rest.match(/^#?(\d{1,3})$/);
          if (n) result.number = Number(n[1]);
          else if (intent === "progress_update") result.taskQuery = rest;
          add(intent, CONFIDENCE.exact);
          matched = consumed = true;
        }
      }
      for (const [intent, phrases] of Object.entries(vocabulary.contains) as [Intent, string[]][]) {
        if (phrases.some((p) => containsPhrase(norm, p))) {
          add(intent, CONFIDENCE.keyword);
          matched = true;
        }
      }
      if (matched) matchedIn.add(vocabulary.language);
    }

    // A word one typo away from a command is a guess, not a command: low confidence, so the bot asks.
    if (scores.size === 0 && /^\p{L}{5,}$/u.test(norm)) {
      for (const vocabulary of this.vocabularies) {
        for (const [intent, phrases] of Object.entries(vocabulary.exact) as [Intent, string[]][]) {
          if (phrases.some((p) => p.length >= 5 && withinOneEdit(norm, p))) add(intent, CONFIDENCE.nearMiss);
        }
      }
    }

    // Free text is always possibly a comment; whether that fits is the router's business.
    if (/\p{L}/u.test(norm) && !consumed) add("add_comment", CONFIDENCE.comment);

    if (scores.size === 0) add("unknown", 0);
    if (matchedIn.size === 1) result.language = [...matchedIn][0];

    result.candidates = [...scores.entries()]
      .map(([intent, confidence]): IntentCandidate => ({ intent, confidence }))
      .sort((a, b) => b.confidence - a.confidence);
    return result;
  }

  private percentage(norm: string): number | undefined {
    const words = this.vocabularies.flatMap((v) => v.percentWords).join("|");
    const match = norm.match(new RegExp(`(-?\\d{1,4}(?:[.,]\\d+)?)\\s*(?:%|(?:${words})\\b)`));
    return match ? Number(match[1].replace(",", ".")) : undefined;
  }
}

