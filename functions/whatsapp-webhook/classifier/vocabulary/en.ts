import type { Vocabulary } from "./types.ts";

export const en: Vocabulary = {
  language: "en",
  exact: {
    cancel: ["cancel", "stop", "quit", "abort", "cancel update", "stop update", "cancel that", "exit"],
    help: ["help", "?", "menu", "commands", "what can i say", "how does this work"],
    progress_update: ["update", "progress", "report progress", "new update", "start update", "progress update"],
    create_incident: ["incident", "report incident", "report an incident", "new incident", "accident"],
    done: ["done", "finished", "finish", "that's all", "thats all", "that is all", "submit", "send it", "complete"],
    confirm_yes: ["yes", "y", "yep", "yeah", "ok", "okay", "confirm", "correct", "sure", "yes please"],
    confirm_no: ["no", "n", "nope", "not yet", "wrong", "change it", "no thanks"],
    list_tasks: ["tasks", "task", "list", "my tasks", "list tasks", "jobs", "my jobs", "show tasks"],
    greeting: ["hi", "hello", "hey", "good morning", "good afternoon", "good evening", "start"],
  },
  contains: {
    cancel: ["cancel"],
    help: ["help"],
    create_incident: [
      "incident", "accident", "problem", "issue", "broken", "leak", "leaking", "injury", "injured", "hurt",
      "damage", "damaged", "danger", "dangerous", "fire", "flood",
    ],
  },
  prefixes: {
    progress_update: ["update", "update task", "progress", "progress on"],
    create_incident: ["incident", "incident on", "report incident on", "report incident"],
  },
  percentWords: ["percent", "per cent", "pct"],
};
