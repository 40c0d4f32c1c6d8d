// The two calls a message makes to the database, whichever way they travel.
import type { Context, Step } from "../conversation.ts";

export type BeginResult =
  | { status: "unknown_worker" }
  | { status: "duplicate"; outcome: "completed" | "failed"; reply: string | null }
  | { status: "in_progress"; retry_after_ms: number }
  | { status: "claimed"; claim_token: string; attempt: number; context: Context };

export type ApplyResult =
  | { status: "applied"; reply: string }
  | { status: "conflict"; context: Context }
  | { status: "rejected"; error_code: string; error: string; context: Context }
  | { status: "claim_lost" };

export interface ApplyArgs {
  messageId: string;
  claimToken: string;
  expectedSessionId: string | null;
  expectedVersion: number | null;
  steps: Step[];
  reply: string;
}

export interface FsmStore {
  /** `payload`: the provider's form, kept with the claim so a failed message can be replayed. */
  begin(messageId: string, whatsappNumber: string, payload?: Record<string, string>): Promise<BeginResult>;
  apply(args: ApplyArgs): Promise<ApplyResult>;
  fail(messageId: string, claimToken: string, error: string, reply: string): Promise<void>;
  close(): Promise<void>;
}
