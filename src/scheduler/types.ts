/** Job kinds, their payloads, and the contract of a handler. */
import type { AppContext } from "../context";

/** Modules add their kinds with `declare module "../../scheduler/types" { interface JobPayloads { … } }`. */
export interface JobPayloads {
  "execution.run": { executionId: string };
  "execution.sweep": Record<string, never>;
  "execution.purge": Record<string, never>;
}

export type JobKind = keyof JobPayloads & string;

export type Job<K extends JobKind = JobKind> = {
  id: number;
  kind: K;
  payload: JobPayloads[K];
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the process shuts down past its grace period. */
  signal: AbortSignal;
};

/** Return = done (the job is deleted); throw = retry with backoff until maxAttempts. */
export type JobHandler<K extends JobKind = JobKind> = (ctx: AppContext, job: Job<K>) => Promise<void>;

/** Thrown by a handler to be retried at a given delay instead of the kind's backoff. */
export class RetryLater extends Error {
  constructor(message: string, readonly delayMs?: number) {
    super(message);
  }
}

export type KindOptions = {
  concurrency: number;
  leaseMs: number;
  /** Delay before attempt n+1 after attempt n failed. */
  backoffMs?: (attempt: number) => number;
  /** Re-enqueued after each run: a periodic job. */
  everyMs?: number;
  /**
   * Background work (batch lines): while interactive executions keep arriving (one created in
   * the last `quietMs`), at most `concurrency` of this kind run, so they do not take the core
   * from callers who wait.
   */
  yieldsToInteractive?: { concurrency: number; quietMs: number };
};
