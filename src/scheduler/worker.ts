/**
 * The durable in-process scheduler: per-kind loops claim due jobs in batches, run them with a
 * per-kind concurrency cap, and are woken at once by enqueue (no poll delay). A timer covers
 * future run_at values and jobs enqueued by another process. Retries back off exponentially
 * with ±20 % jitter unless the handler names its own delay (RetryLater).
 */
import type { AppContext } from "../context";
import type { Conn } from "../db/client";
import { insertJob, JobStatements, type EnqueueOptions, type JobRow } from "./store";
import { RetryLater, type Job, type JobHandler, type JobKind, type JobPayloads, type KindOptions } from "./types";

const IDLE_POLL_MS = 1000;
const CLAIM_BATCH = 64;

const defaultBackoff = (attempt: number) => Math.min(60_000, 500 * 2 ** (attempt - 1));
const jitter = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4));

type KindState = {
  kind: JobKind;
  handler: JobHandler<never>;
  options: KindOptions;
  running: number;
  scheduled: boolean;
  timer: ReturnType<typeof setTimeout> | null;
};

export class Scheduler {
  private kinds = new Map<string, KindState>();
  private prepared: JobStatements | null = null;
  private started = false;
  private stopping = false;
  private inFlight = new Set<Promise<void>>();
  private abort = new AbortController();

  constructor(private ctx: AppContext) {}

  /** Prepared on first use: the jobs table exists only once migrations have run. */
  private get statements(): JobStatements {
    return (this.prepared ??= new JobStatements(this.ctx.sqlite));
  }

  register<K extends JobKind>(kind: K, handler: JobHandler<K>, options: KindOptions) {
    this.kinds.set(kind, { kind, handler: handler as JobHandler<never>, options, running: 0, scheduled: false, timer: null });
  }

  /** Adds a job in the caller's transaction; call wake(kind) after the commit. */
  enqueue<K extends JobKind>(conn: Conn, kind: K, payload: JobPayloads[K], opts?: EnqueueOptions) {
    insertJob(conn, kind, payload as Record<string, unknown>, this.ctx.clock.now(), opts);
  }

  /** Starts the loops; leases left by a crashed process are released first. */
  start() {
    const released = this.statements.releaseLeases();
    if (released > 0) this.ctx.log.warn("scheduler: released leases left by a previous process", { jobs: released });
    this.started = true;
    for (const state of this.kinds.values()) {
      if (state.options.everyMs)
        this.ctx.db.transaction((tx) => this.enqueue(tx, state.kind, {} as never, { uniqueKey: `periodic:${state.kind}` }));
      this.wake(state.kind);
    }
  }

  /** Claims due jobs of this kind on the next tick. Cheap to call many times. */
  wake(kind: JobKind) {
    const state = this.kinds.get(kind);
    if (!state || !this.started || this.stopping || state.scheduled) return;
    state.scheduled = true;
    queueMicrotask(() => {
      state.scheduled = false;
      this.pump(state);
    });
  }

  private pump(state: KindState) {
    if (this.stopping) return;
    const free = state.options.concurrency - state.running;
    if (free <= 0) return; // a finishing job pumps again
    const now = this.ctx.clock.now();
    const claimed = this.statements.claimDue(state.kind, now, Math.min(free, CLAIM_BATCH), state.options.leaseMs);
    for (const row of claimed) this.run(state, row);
    if (claimed.length === Math.min(free, CLAIM_BATCH) && claimed.length > 0) return this.wake(state.kind);
    this.armTimer(state, now);
  }

  private armTimer(state: KindState, now: number) {
    if (state.timer) clearTimeout(state.timer);
    const next = this.statements.nextRunAt(state.kind);
    const delay = next === null ? IDLE_POLL_MS : Math.max(0, Math.min(IDLE_POLL_MS, next - now));
    state.timer = setTimeout(() => {
      state.timer = null;
      this.wake(state.kind);
    }, delay);
    state.timer.unref?.();
  }

  private run(state: KindState, row: JobRow) {
    state.running++;
    const job: Job = {
      id: row.id,
      kind: row.kind as JobKind,
      payload: JSON.parse(row.payload),
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      signal: this.abort.signal,
    };
    const task = (async () => {
      try {
        await (state.handler as JobHandler)(this.ctx, job);
        this.finish(state, job);
      } catch (error) {
        this.fail(state, job, error);
      }
    })().finally(() => {
      state.running--;
      this.inFlight.delete(task);
      this.wake(state.kind);
    });
    this.inFlight.add(task);
  }

  private finish(state: KindState, job: Job) {
    if (state.options.everyMs) {
      this.statements.reschedule(job.id, this.ctx.clock.now() + state.options.everyMs, "");
      return;
    }
    this.statements.complete(job.id);
  }

  private fail(state: KindState, job: Job, error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (this.stopping && job.signal.aborted) return; // lease expires; a later start resumes it
    if (job.attempt >= job.maxAttempts && !state.options.everyMs) {
      this.ctx.log.error("job failed for good", { kind: job.kind, job_id: job.id, attempts: job.attempt, error });
      this.statements.complete(job.id);
      return;
    }
    const delay = error instanceof RetryLater && error.delayMs !== undefined ? error.delayMs : jitter((state.options.backoffMs ?? defaultBackoff)(job.attempt));
    this.ctx.log.warn("job will retry", { kind: job.kind, job_id: job.id, attempt: job.attempt, delay_ms: delay, error: message });
    this.statements.reschedule(job.id, this.ctx.clock.now() + delay, message);
  }

  /** Stops claiming; waits for running jobs up to graceMs, then aborts them. */
  async stop(graceMs: number) {
    this.stopping = true;
    for (const state of this.kinds.values()) if (state.timer) clearTimeout(state.timer);
    const all = Promise.allSettled([...this.inFlight]);
    const timedOut = await Promise.race([all.then(() => false), Bun.sleep(graceMs).then(() => true)]);
    if (timedOut) {
      this.abort.abort(new Error("shutting down"));
      await Promise.race([all, Bun.sleep(1000)]);
    }
  }

  get runningCount() {
    let n = 0;
    for (const s of this.kinds.values()) n += s.running;
    return n;
  }
}
