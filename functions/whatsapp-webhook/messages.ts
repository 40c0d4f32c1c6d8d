// Every text the bot sends, per language. Short, friendly, and each says what the worker can say next.
import type { Intent, Language } from "./intents.ts";

export interface TaskLine {
  number: number;
  title: string;
  progress_percent: number;
}

export interface Summary {
  task: string;
  photos: number;
  percent?: number;
  comment?: string;
}

const q = (s: string) => `"${s}"`;
const list = (tasks: TaskLine[]) => tasks.map((t) => `${t.number}. ${t.title} (${t.progress_percent}%)`).join("\n");

const en = {
  notRegistered: "Hello! This number is not registered with us. Please ask your supervisor to add you.",
  notEnabled: "Hello! Progress updates by WhatsApp are not available for your number yet. Please use the usual channel.",
  apology: "Sorry, something went wrong on our side and your message was not processed. Please send it again in a moment.",
  greeting: (name: string) => `Hi ${name}!`,
  tasks: (tasks: TaskLine[]) =>
    tasks.length
      ? `Your open tasks:\n${list(tasks)}\nSay "update 1" to report progress, or "incident" to report a problem.`
      : `You have no open tasks. Say "incident" to report a problem.`,
  whichTask: (tasks: TaskLine[]) =>
    tasks.length ? `Which task? Reply with its number:\n${list(tasks)}` : "You have no open tasks to update.",
  whichTaskIncident: (tasks: TaskLine[]) =>
    `Which task is the incident about? Reply with its number:\n${list(tasks)}`,
  noSuchTask: (n: number, count: number) =>
    count ? `There is no task ${n}. Reply with a number from 1 to ${count}, or "cancel".` : "You have no open tasks.",
  noTaskMatch: (query: string) => `I can't find a task called ${q(query)}. Say "tasks" to see yours.`,
  updating: (task: string, percent: number) =>
    `Updating ${q(task)} (now ${percent}%). Send photos, a comment, or a percentage like 60%. Say "done" when finished.`,
  incidentFor: (task: string) =>
    `Incident on ${q(task)}. Describe what happened; photos are welcome. Say "done" when finished.`,
  photoSaved: (count: number) =>
    `Photo saved (${count} so far). Send more, a comment, a percentage, or "done".`,
  commentSaved: `Comment saved. Send more, or "done" when finished.`,
  descriptionSaved: `Noted. Add photos or more details, or say "done".`,
  percentSaved: (p: number) => `Progress set to ${p}%. Send photos or a comment, or "done".`,
  percentOutOfRange: (value: number) => `${value}% is not possible: send a percentage from 0 to 100, like 60%.`,
  percentInIncident: `An incident has no percentage: describe what happened instead.`,
  nothingYet: `Nothing to send yet: add a photo, a comment or a percentage first.`,
  nothingYetIncident: `Describe the incident first, then say "done".`,
  summary: (s: Summary) =>
    `Please confirm the update of ${q(s.task)}:\n` +
    [s.percent !== undefined ? `• progress: ${s.percent}%` : null, s.photos ? `• photos: ${s.photos}` : null,
     s.comment ? `• comment: ${s.comment}` : null].filter(Boolean).join("\n") +
    `\nReply "yes" to record it or "no" to change it.`,
  incidentSummary: (s: Summary) =>
    `Please confirm the incident on ${q(s.task)}:\n• ${s.comment}` + (s.photos ? `\n• photos: ${s.photos}` : "") +
    `\nReply "yes" to report it or "no" to change it.`,
  recorded: (task: string, percent?: number) =>
    `Recorded, thank you! ${percent !== undefined ? `${q(task)} is now at ${percent}%.` : `Update of ${q(task)} saved.`}` +
    ` Say "update" to report on another task.`,
  incidentRecorded: (task: string) =>
    `Incident on ${q(task)} reported, thank you. Your supervisor will see it. Say "tasks" to see your tasks.`,
  backToCollecting: `OK, not recorded yet. Send what you want to add or change, then "done".`,
  confirmOrChange: `Reply "yes" to record it, "no" to change it, or "cancel".`,
  cancelled: `Cancelled: nothing was recorded. Say "update" to start again.`,
  nothingToCancel: `Nothing to cancel. Say "tasks" to see your tasks.`,
  switched: (from: string, to: string, percent: number) =>
    `Closed the update of ${q(from)} without recording it. ` + en.updating(to, percent),
  alreadyUpdating: (task: string) => `You are already updating ${q(task)}. Send photos, a comment, a percentage, or "done".`,
  finishIncidentFirst: `You are reporting an incident. Say "done" to finish it or "cancel" to drop it first.`,
  photoNeedsTask: (tasks: TaskLine[]) =>
    `Which task is this photo for? Say "update" and the task number first, then send the photo again.\n${list(tasks)}`,
  timedOut: (task: string | null, minutes: number) =>
    `Your update${task ? ` of ${q(task)}` : ""} was closed after ${minutes} minutes without activity and was not recorded.`,
  clarify: (labels: string[]) =>
    `Do you want to:\n${labels.map((l, i) => `${i + 1}. ${l}`).join("\n")}\nReply with a number.`,
  clarificationDropped: `OK, I'll leave that question.`,
  notUnderstood: `Sorry, I didn't understand.`,
  help: `You can say:\n• "tasks" to see your tasks\n• "update 2" to report progress on task 2\n• photos, a comment, or a percentage like 60%\n• "done" to finish, then "yes" to record\n• "incident" to report a problem\n• "cancel" to stop at any time`,
  next: {
    none: `Say "tasks" to see your tasks, "update" to report progress, or "help".`,
    task_selection: `Reply with a task number, or "cancel".`,
    collecting: `Send photos, a comment, or a percentage like 60%; "done" when finished, "cancel" to stop.`,
    collecting_incident: `Describe the incident or send photos; "done" when finished, "cancel" to stop.`,
    confirmation_pending: `Reply "yes" to record it, "no" to change it, or "cancel".`,
  },
  option: (intent: Intent | "continue", n?: number): string =>
    ({
      add_comment: "Add it as a comment",
      create_incident: "Report an incident",
      progress_update: "Start a progress update",
      upload_photo: "Add the photo",
      set_percentage: "Set the percentage",
      done: "Finish and see the summary",
      confirm_yes: "Finish and record",
      confirm_no: "Change something",
      select_number: `Switch to task ${n ?? ""}`.trim(),
      list_tasks: "See my tasks",
      greeting: "Just saying hello",
      cancel: "Cancel",
      help: "Get help",
      unknown: "Something else",
      continue: "Neither: carry on",
    })[intent],
};

type Texts = typeof en;

const fr: Texts = {
  notRegistered: "Bonjour ! Ce numéro n'est pas enregistré chez nous. Demandez à votre responsable de vous ajouter.",
  notEnabled: "Bonjour ! Le suivi par WhatsApp n'est pas encore ouvert pour votre numéro. Utilisez le canal habituel.",
  apology: "Désolé, un problème de notre côté a empêché de traiter votre message. Renvoyez-le dans un instant.",
  greeting: (name) => `Bonjour ${name} !`,
  tasks: (tasks) =>
    tasks.length
      ? `Vos tâches en cours :\n${list(tasks)}\nDites « maj 1 » pour donner l'avancement, ou « incident » pour signaler un problème.`
      : `Vous n'avez aucune tâche en cours. Dites « incident » pour signaler un problème.`,
  whichTask: (tasks) =>
    tasks.length ? `Quelle tâche ? Répondez par son numéro :\n${list(tasks)}` : "Vous n'avez aucune tâche à mettre à jour.",
  whichTaskIncident: (tasks) => `Sur quelle tâche porte l'incident ? Répondez par son numéro :\n${list(tasks)}`,
  noSuchTask: (n, count) =>
    count ? `Il n'y a pas de tâche ${n}. Répondez par un numéro de 1 à ${count}, ou « annuler ».` : "Vous n'avez aucune tâche en cours.",
  noTaskMatch: (query) => `Je ne trouve pas de tâche « ${query} ». Dites « tâches » pour voir les vôtres.`,
  updating: (task, percent) =>
    `Mise à jour de « ${task} » (${percent} % actuellement). Envoyez des photos, un commentaire ou un pourcentage comme 60 %. Dites « fini » quand c'est terminé.`,
  incidentFor: (task) =>
    `Incident sur « ${task} ». Décrivez ce qui s'est passé ; les photos sont bienvenues. Dites « fini » quand c'est terminé.`,
  photoSaved: (count) => `Photo enregistrée (${count} pour l'instant). Envoyez-en d'autres, un commentaire, un pourcentage, ou « fini ».`,
  commentSaved: `Commentaire enregistré. Continuez, ou dites « fini ».`,
  descriptionSaved: `C'est noté. Ajoutez des photos ou des détails, ou dites « fini ».`,
  percentSaved: (p) => `Avancement fixé à ${p} %. Envoyez des photos ou un commentaire, ou « fini ».`,
  percentOutOfRange: (value) => `${value} % n'est pas possible : envoyez un pourcentage de 0 à 100, comme 60 %.`,
  percentInIncident: `Un incident n'a pas de pourcentage : décrivez plutôt ce qui s'est passé.`,
  nothingYet: `Rien à envoyer pour l'instant : ajoutez d'abord une photo, un commentaire ou un pourcentage.`,
  nothingYetIncident: `Décrivez d'abord l'incident, puis dites « fini ».`,
  summary: (s) =>
    `Confirmez la mise à jour de « ${s.task} » :\n` +
    [s.percent !== undefined ? `• avancement : ${s.percent} %` : null, s.photos ? `• photos : ${s.photos}` : null,
     s.comment ? `• commentaire : ${s.comment}` : null].filter(Boolean).join("\n") +
    `\nRépondez « oui » pour l'enregistrer ou « non » pour la modifier.`,
  incidentSummary: (s) =>
    `Confirmez l'incident sur « ${s.task} » :\n• ${s.comment}` + (s.photos ? `\n• photos : ${s.photos}` : "") +
    `\nRépondez « oui » pour le signaler ou « non » pour le modifier.`,
  recorded: (task, percent) =>
    `Enregistré, merci ! ${percent !== undefined ? `« ${task} » est à ${percent} %.` : `Mise à jour de « ${task} » enregistrée.`}` +
    ` Dites « maj » pour une autre tâche.`,
  incidentRecorded: (task) =>
    `Incident sur « ${task} » signalé, merci. Votre responsable va le voir. Dites « tâches » pour voir vos tâches.`,
  backToCollecting: `D'accord, rien n'est enregistré. Envoyez ce que vous voulez ajouter ou changer, puis « fini ».`,
  confirmOrChange: `Répondez « oui » pour enregistrer, « non » pour modifier, ou « annuler ».`,
  cancelled: `Annulé : rien n'a été enregistré. Dites « maj » pour recommencer.`,
  nothingToCancel: `Rien à annuler. Dites « tâches » pour voir vos tâches.`,
  switched: (from, to, percent) =>
    `Mise à jour de « ${from} » fermée sans être enregistrée. ` + fr.updating(to, percent),
  alreadyUpdating: (task) => `Vous mettez déjà à jour « ${task} ». Envoyez des photos, un commentaire, un pourcentage, ou « fini ».`,
  finishIncidentFirst: `Vous signalez un incident. Dites « fini » pour le terminer ou « annuler » pour l'abandonner d'abord.`,
  photoNeedsTask: (tasks) =>
    `Pour quelle tâche est cette photo ? Dites « maj » et le numéro de la tâche, puis renvoyez la photo.\n${list(tasks)}`,
  timedOut: (task, minutes) =>
    `Votre mise à jour${task ? ` de « ${task} »` : ""} a été fermée après ${minutes} minutes sans activité et n'a pas été enregistrée.`,
  clarify: (labels) => `Voulez-vous :\n${labels.map((l, i) => `${i + 1}. ${l}`).join("\n")}\nRépondez par un numéro.`,
  clarificationDropped: `D'accord, je laisse cette question.`,
  notUnderstood: `Désolé, je n'ai pas compris.`,
  help: `Vous pouvez dire :\n• « tâches » pour voir vos tâches\n• « maj 2 » pour l'avancement de la tâche 2\n• des photos, un commentaire ou un pourcentage comme 60 %\n• « fini » pour terminer, puis « oui » pour enregistrer\n• « incident » pour signaler un problème\n• « annuler » pour arrêter à tout moment`,
  next: {
    none: `Dites « tâches » pour voir vos tâches, « maj » pour l'avancement, ou « aide ».`,
    task_selection: `Répondez par un numéro de tâche, ou « annuler ».`,
    collecting: `Envoyez des photos, un commentaire ou un pourcentage comme 60 % ; « fini » pour terminer, « annuler » pour arrêter.`,
    collecting_incident: `Décrivez l'incident ou envoyez des photos ; « fini » pour terminer, « annuler » pour arrêter.`,
    confirmation_pending: `Répondez « oui » pour enregistrer, « non » pour modifier, ou « annuler ».`,
  },
  option: (intent, n) =>
    ({
      add_comment: "L'ajouter en commentaire",
      create_incident: "Signaler un incident",
      progress_update: "Commencer une mise à jour",
      upload_photo: "Ajouter la photo",
      set_percentage: "Fixer le pourcentage",
      done: "Terminer et voir le résumé",
      confirm_yes: "Terminer et enregistrer",
      confirm_no: "Modifier quelque chose",
      select_number: `Passer à la tâche ${n ?? ""}`.trim(),
      list_tasks: "Voir mes tâches",
      greeting: "Juste dire bonjour",
      cancel: "Annuler",
      help: "Obtenir de l'aide",
      unknown: "Autre chose",
      continue: "Ni l'un ni l'autre : continuer",
    })[intent],
};

export const TEXTS: Record<Language, Texts> = { en, fr };
export type { Texts };
