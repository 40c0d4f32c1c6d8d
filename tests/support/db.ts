// Test-side access to the run's database, and fixtures: each test makes its own workers, so tests
// never see each other's rows.
import { randomInt, randomUUID } from "node:crypto";
import postgres from "postgres";
import { inject } from "vitest";

export type Sql = postgres.Sql;

export function connect(options: { max?: number } = {}): Sql {
  return postgres(inject("databaseUrl"), {
    max: options.max ?? 4,
    onnotice: () => {},
    // jsonb comes back parsed; bigint counts as numbers for the assertions.
    types: { bigint: postgres.BigInt },
    transform: { undefined: null },
  });
}

export const OPEN_STATES = ["idle", "task_selection", "awaiting_action", "collecting_data", "confirmation_pending"];
export const ALL_STATES = [...OPEN_STATES, "completed", "abandoned"];

export interface Worker {
  id: string;
  number: string;
  companyId: string;
  tasks: string[];
}

export async function newWorker(sql: Sql, options: { language?: "en" | "fr"; tasks?: number } = {}): Promise<Worker> {
  const number = `+1555${String(randomInt(0, 10 ** 9)).padStart(9, "0")}`;
  const [company] = await sql`insert into companies (name) values ('Test company') returning id`;
  const [worker] = await sql`
    insert into workers (company_id, whatsapp_number, display_name, language)
    values (${company.id}, ${number}, 'Test worker', ${options.language ?? "en"}) returning id`;
  const tasks: string[] = [];
  for (let i = 1; i <= (options.tasks ?? 3); i++) {
    const [task] = await sql`
      insert into tasks (company_id, worker_id, title, created_at)
      values (${company.id}, ${worker.id}, ${`Task ${i}`}, now() - make_interval(mins => ${10 - i}))
      returning id`;
    tasks.push(task.id);
  }
  return { id: worker.id, number, companyId: company.id, tasks };
}

/** A session put straight into `state`, as if earlier messages had brought it there. */
export async function craftSession(
  sql: Sql,
  worker: Worker,
  state: string,
  options: {
    sessionType?: "progress_update" | "incident";
    taskId?: string | null;
    metadata?: Record<string, unknown>;
    idleFor?: string;
  } = {},
): Promise<{ id: string; version: number }> {
  const closed = state === "completed" || state === "abandoned";
  const taskId = options.taskId !== undefined
    ? options.taskId
    : ["idle", "task_selection"].includes(state) ? null : worker.tasks[0];
  const [row] = await sql`
    insert into progress_update_sessions
      (worker_id, session_type, task_id, fsm_state, session_metadata, last_activity,
       closure_reason, closed_at)
    values
      (${worker.id}, ${options.sessionType ?? "progress_update"}, ${taskId}, ${state},
       ${sql.json((options.metadata ?? {}) as postgres.JSONValue)},
       now() - ${options.idleFor ?? "0 seconds"}::interval,
       ${closed ? (state === "completed" ? "completed" : "cancelled") : null},
       ${closed ? sql`now()` : null})
    returning id, version`;
  return row as unknown as { id: string; version: number };
}

export async function transition(
  sql: Sql,
  sessionId: string,
  event: string,
  options: { version?: number | null; payload?: Record<string, unknown>; correlationId?: string } = {},
) {
  const [{ result }] = await sql`
    select fsm_transition(${sessionId}, ${event}, ${options.version ?? null},
                          ${sql.json((options.payload ?? {}) as postgres.JSONValue)},
                          ${options.correlationId ?? randomUUID()}) as result`;
  return result as {
    ok: boolean;
    error_code?: string;
    error?: string;
    session: { id: string; fsm_state: string; version: number; closure_reason: string | null; [k: string]: unknown };
  };
}

export async function sessionRow(sql: Sql, id: string) {
  const [row] = await sql`select * from progress_update_sessions where id = ${id}`;
  return row;
}

export const messageId = () => `SM${randomUUID().replaceAll("-", "")}`;

export async function begin(sql: Sql, message: string, number: string) {
  const [{ r }] = await sql`select fsm_begin_message(${message}, ${number}) as r`;
  return r as {
    status: "claimed" | "duplicate" | "in_progress" | "unknown_worker";
    claim_token?: string;
    attempt?: number;
    reply?: string;
    context?: {
      session: { id: string; version: number; fsm_state: string } | null;
      clarification: { id: string } | null;
      tasks: { number: number; id: string; title: string }[];
      unnotified_closure: { session_id: string; closure_reason: string } | null;
    };
  };
}

export async function apply(
  sql: Sql,
  message: string,
  claimToken: string,
  session: { id: string; version: number } | null,
  steps: unknown[],
  reply: string,
) {
  const [{ r }] = await sql`
    select fsm_apply_message(${message}, ${claimToken}, ${session?.id ?? null}, ${session?.version ?? null},
                             ${sql.json(steps as postgres.JSONValue)}, ${reply}) as r`;
  return r as {
    status: "applied" | "conflict" | "rejected" | "claim_lost";
    error_code?: string;
    session?: { id: string; fsm_state: string; version: number };
    context?: { session: { id: string; version: number; fsm_state: string } | null };
  };
}
