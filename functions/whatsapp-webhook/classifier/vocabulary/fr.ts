import type { Vocabulary } from "./types.ts";

export const fr: Vocabulary = {
  language: "fr",
  exact: {
    cancel: ["annuler", "annule", "stop", "arreter", "arrete", "quitter", "abandonner", "laisse tomber"],
    help: ["aide", "?", "menu", "au secours", "comment ca marche"],
    progress_update: ["mise a jour", "maj", "avancement", "nouvelle mise a jour", "faire le point"],
    create_incident: ["incident", "signaler un incident", "nouvel incident", "accident"],
    done: ["fini", "termine", "terminee", "c est tout", "fin", "envoyer", "valider", "c est fini"],
    confirm_yes: ["oui", "o", "ok", "d accord", "confirmer", "je confirme", "exact", "ouais", "oui merci"],
    confirm_no: ["non", "pas encore", "modifier", "non merci"],
    list_tasks: ["taches", "tache", "mes taches", "liste", "liste des taches", "chantiers"],
    greeting: ["bonjour", "salut", "bonsoir", "coucou", "allo"],
  },
  contains: {
    cancel: ["annuler"],
    help: ["aide"],
    create_incident: [
      "incident", "accident", "probleme", "souci", "casse", "cassee", "fuite", "blesse", "blessee", "blessure",
      "danger", "dangereux", "panne", "degat", "degats", "incendie", "inondation",
    ],
  },
  prefixes: {
    progress_update: ["maj", "mise a jour", "avancement", "mise a jour de"],
    create_incident: ["incident", "incident sur", "signaler un incident sur"],
  },
  percentWords: ["pour cent", "pourcent", "pourcents", "pour cents"],
};
