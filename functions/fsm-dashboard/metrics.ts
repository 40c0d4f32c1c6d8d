// What public.fsm_dashboard_metrics(window) returns (supabase/migrations/20261125000800_fsm_dashboard.sql),
// and the windows the dashboard offers. Timestamps are ISO strings, counts numbers.

export const WINDOWS = {
  hour: { interval: "1 hour", label: "Last hour" },
  day: { interval: "1 day", label: "Last 24 hours" },
  week: { interval: "7 days", label: "Last 7 days" },
} as const;
export type WindowName = keyof typeof WINDOWS;
export const DEFAULT_WINDOW: WindowName = "day";

export function parseWindow(value: string | null): WindowName | undefined {
  if (value === null || value === "") return DEFAULT_WINDOW;
  return Object.hasOwn(WINDOWS, value) ? (value as WindowName) : undefined;
}

export interface StateFigure {
  state: string;
  /** No rule leaves it. */
  terminal: boolean;
  /** Open sessions in this state now. */
  open_now: number;
  /** Successful transitions into it within the window. */
  entered: number;
}

export interface Rule {
  from_state: string;
  event: string;
  to_state: string;
  description: string;
}

export interface TransitionFigure {
  /** null for `start`, which creates a session in idle. */
  from_state: string | null;
  to_state: string;
  event: string;
  count: number;
}

export interface Criterion {
  criterion: string;
  description: string;
  target: string;
  current_value: number | null;
  met: boolean;
  /** null where the criterion is counted over all time only. */
  window_value: number | null;
  window_met: boolean | null;
}

export interface DashboardMetrics {
  generated_at: string;
  window: { seconds: number; since: string; until: string };
  states: StateFigure[];
  rules: Rule[];
  transitions: TransitionFigure[];
  sessions: { open_now: number; completed: number; abandoned: number };
  abandoned_by_reason: { reason: string; sessions: number }[];
  clarifications: {
    answered: number;
    expired: number;
    cancelled: number;
    pending: number;
    total: number;
    answered_pct: number | null;
  };
  stuck_sessions: {
    count: number;
    idle_over_minutes: number;
    oldest: { id: string; state: string; session_type: string; last_activity: string; idle_minutes: number }[];
  };
  invalid_transitions: {
    count: number;
    by_code: { error_code: string; count: number; last_seen: string }[];
    recent: {
      at: string;
      from_state: string | null;
      event: string;
      error_code: string;
      error: string | null;
      correlation_id: string | null;
    }[];
  };
  dead_letters: {
    count: number;
    recent: { message_id: string; error: string | null; attempts: number; created_at: string; processed_at: string }[];
  };
  messages: { total: number; completed: number; failed: number; processing: number };
  messages_over_time: {
    bucket_seconds: number;
    buckets: { start: string; completed: number; failed: number; processing: number }[];
  };
  success_criteria: Criterion[];
}

export type LoadMetrics = (window: WindowName) => Promise<DashboardMetrics>;
