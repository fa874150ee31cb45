/**
 * The durable in-process scheduler: per-kind loops claim due jobs in batches, run them with a
 * per-kind concurrency cap, and are woken at once by enqueue (no poll delay). A timer covers
 * future run_at values and jobs enqueued by another process. Retries back off exponentially
 * with ±20 % jitter unless the handler names its own delay (RetryLater).
 */
import type { AppContext } from "../context";
import type { Conn } from "../db/client";
import { deleteUnclaimedJob, insertJob, insertLeasedJob, JobStatements, type EnqueueOptions, type JobRow } from "./store";
import { RetryLater, type Job, type JobHandler, type JobKind, type JobPayloads, type KindOptions } from "./types";

const IDLE_POLL_MS = 1000;
/** How soon a claim or a job's outcome that the database refused (a full disk) is tried again. */
const STORAGE_RETRY_MS = 1000;
const CLAIM_BATCH = 64;

const defaultBackoff = (attempt: number) => Math.min(60_000, 500 * 2 ** (attempt - 1));
const jitter = (ms: number) => Math.round(ms * (0.8 + Math.random() * 0.4));

/**
 * A run slot of a kind taken before the transaction that creates the work: the job is inserted
 * already leased to this process (`insert`, in that transaction) and started right after the
 * commit (`start`), skipping the claim and its commit. `cancel` gives the slot back when the
 * transaction did not commit. After a crash the lease lapses and the job runs as any other.
 */
export type ReservedSlot<K extends JobKind> = {
  insert(conn: Conn, payload: JobPayloads[K], maxAttempts: number): void;
  /** Runs `handler` (by default the kind's) for the inserted job, with the kind's retries. */
  start(handler?: JobHandler<K>): void;
  cancel(): void;
};

type KindState = {
  kind: JobKind;
  handler: JobHandler<never>;
  options: KindOptions;
  running: number;
  scheduled: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  timerAt: number;
  /** A wake() arrived for a periodic kind: run it now rather than at its next period. */
  runSoon: boolean;
  /**
   * Jobs may be waiting to be claimed: set by enqueue, wake and the timer, cleared by a claim
   * that found fewer than it could take. A run that ends only looks for more while it is set,
   * so a process running at once what it creates does not pay a claim query per finished job.
   */
  backlog: boolean;
};

export class Scheduler {
  private kinds = new Map<string, KindState>();
  private prepared: JobStatements | null = null;
  private started = false;
  private stopping = false;
  private inFlight = new Set<Promise<void>>();
  private completed: number[] = [];
  private abort = new AbortController();
  /** When an interactive execution was last created (noteInteractive). */
  private interactiveAt = -Infinity;
  /** Ids of the jobs this process is running: their leases are renewed while replicas share the jobs table. */
  private runningIds = new Set<number>();
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  constructor(private ctx: AppContext) {}

  /** Replicas on one PostgreSQL share the jobs table (docs/scale-out.md "Jobs"). */
  private get shared(): boolean {
    return this.ctx.handle.dialect === "postgres";
  }

  /**
   * How long a claim lasts. Shared jobs get a short lease renewed while they run, so a killed
   * replica's jobs are taken over within `jobLeaseMs`; alone, the kind's own (long) lease.
   */
  private leaseOf(state: KindState): number {
    return this.shared ? Math.min(state.options.leaseMs, this.ctx.config.jobLeaseMs) : state.options.leaseMs;
  }

  /** Prepared on first use: the jobs table exists only once migrations have run. */
  private get statements(): JobStatements {
    return (this.prepared ??= new JobStatements(this.ctx.client, this.shared));
  }

  register<K extends JobKind>(kind: K, handler: JobHandler<K>, options: KindOptions) {
    this.kinds.set(kind, { kind, handler: handler as JobHandler<never>, options, running: 0, scheduled: false, timer: null, timerAt: 0, runSoon: false, backlog: true });
  }

  /** Adds a job in the caller's transaction; call wake(kind) after the commit. */
  enqueue<K extends JobKind>(conn: Conn, kind: K, payload: JobPayloads[K], opts?: EnqueueOptions) {
    const now = this.ctx.clock.now();
    insertJob(conn, kind, payload as Record<string, unknown>, now, opts);
    const state = this.kinds.get(kind);
    if (state) state.backlog = true;
    if (state && opts?.runAt !== undefined && opts.runAt > now) this.armAt(state, opts.runAt, now);
  }

  /** Drops a job enqueued with `uniqueKey` that is no longer needed (a deadline for work that ended first). */
  cancel(conn: Conn, uniqueKey: string) {
    deleteUnclaimedJob(conn, uniqueKey);
  }

  /** An interactive execution was just created: background kinds hold back for a while (KindOptions.yieldsToInteractive). */
  noteInteractive() {
    this.interactiveAt = this.ctx.clock.now();
  }

  /** The kind's concurrency now: lower for a background kind while interactive work arrives. */
  private concurrencyOf(state: KindState, now: number): number {
    const yields = state.options.yieldsToInteractive;
    if (yields && now - this.interactiveAt < yields.quietMs) return Math.min(state.options.concurrency, yields.concurrency);
    return state.options.concurrency;
  }

  /** A slot to run a job of `kind` at once, or null when the kind is at its concurrency (enqueue instead). */
  reserve<K extends JobKind>(kind: K): ReservedSlot<K> | null {
    const state = this.kinds.get(kind);
    if (!state || !this.started || this.stopping || state.running >= this.concurrencyOf(state, this.ctx.clock.now())) return null;
    state.running++;
    let row: JobRow | null = null;
    let open = true;
    const giveBack = () => {
      if (!open) return;
      open = false;
      state.running--;
    };
    return {
      insert: (conn, payload, maxAttempts) => {
        const now = this.ctx.clock.now();
        row = insertLeasedJob(conn, kind, payload as Record<string, unknown>, now, now + this.leaseOf(state), maxAttempts);
      },
      start: (handler) => {
        if (!open || !row) throw new Error(`reserved ${kind} slot started without a committed job`);
        open = false;
        state.running--; // run() counts it again
        this.run(state, row, handler as JobHandler<never> | undefined);
      },
      cancel: giveBack,
    };
  }

  /** Starts the loops; leases left by a crashed process are released first. */
  start() {
    const released = this.statements.releaseLeases();
    if (released > 0) this.ctx.log.warn("scheduler: released leases left by a previous process", { jobs: released });
    this.started = true;
    // One transaction for every periodic kind: each commit is a WAL write on the start-up path.
    this.ctx.db.transaction((tx) => {
      for (const state of this.kinds.values())
        if (state.options.everyMs) this.enqueue(tx, state.kind, {} as never, { uniqueKey: `periodic:${state.kind}` });
    });
    for (const state of this.kinds.values()) this.wake(state.kind);
    if (this.shared) {
      const every = Math.max(250, Math.floor(this.ctx.config.jobLeaseMs / 3));
      this.heartbeat = setInterval(() => this.renewLeases(), every);
      this.heartbeat.unref();
    }
  }

  private renewLeases() {
    if (this.runningIds.size === 0) return;
    try {
      this.statements.extendLeases([...this.runningIds], this.ctx.clock.now() + this.ctx.config.jobLeaseMs);
    } catch (error) {
      this.ctx.log.warn("scheduler: could not renew job leases", { error });
    }
  }

  /**
   * Claims due jobs of this kind on the next tick; a periodic kind (the outbox dispatcher) runs
   * at once instead of at its next period. Cheap to call many times.
   */
  wake(kind: JobKind, opts: { fromReplica?: boolean } = {}) {
    if (!opts.fromReplica) this.ctx.replicas?.jobsEnqueued(kind);
    const state = this.kinds.get(kind);
    if (state?.options.everyMs) state.runSoon = true;
    if (state) {
      state.backlog = true;
      this.pumpSoon(state);
    }
  }

  private pumpSoon(state: KindState) {
    if (!this.started || this.stopping || state.scheduled) return;
    state.scheduled = true;
    // setImmediate, not a microtask: every enqueue and finish of this event-loop turn shares
    // one claim (and one commit) instead of one each. Still no poll delay.
    setImmediate(() => {
      state.scheduled = false;
      this.flushCompleted();
      this.pump(state);
    });
  }

  /**
   * A claim the database refused (a full or read-only disk) is tried again later: thrown from a
   * timer it would leave the kind with no timer, never claiming again until an enqueue woke it.
   */
  private pump(state: KindState) {
    try {
      this.claim(state);
    } catch (error) {
      state.backlog = true;
      this.ctx.log.warn("scheduler: could not claim jobs; trying again", { kind: state.kind, retry_ms: STORAGE_RETRY_MS, error: (error as Error).message });
      this.armAt(state, this.ctx.clock.now() + STORAGE_RETRY_MS);
    }
  }

  private claim(state: KindState) {
    if (this.stopping) return;
    const now = this.ctx.clock.now();
    const free = this.concurrencyOf(state, now) - state.running;
    if (free <= 0) {
      // A finishing job pumps again; a kind held back for interactive work also looks once it is quiet.
      if (state.options.yieldsToInteractive) this.armAt(state, now + state.options.yieldsToInteractive.quietMs, now);
      return;
    }
    if (state.runSoon && state.running === 0) {
      state.runSoon = false;
      this.statements.runPeriodicNow(state.kind, now);
    }
    if (!state.backlog) return this.armTimer(state, now);
    const limit = Math.min(free, CLAIM_BATCH);
    const claimed = this.statements.claimDue(state.kind, now, limit, this.leaseOf(state));
    for (const row of claimed) this.run(state, row);
    if (claimed.length === limit) return this.pumpSoon(state);
    state.backlog = false;
    this.armTimer(state, now);
  }

  /**
   * Sleeps until the next due job (at most IDLE_POLL_MS). With a timer already pending it does
   * not look: under load this runs every turn, and the lookup scans the leased rows. Jobs given
   * a later run_at by this process arm their own time with armAt().
   */
  private armTimer(state: KindState, now: number) {
    if (state.timer) return;
    const next = this.statements.nextRunAt(state.kind);
    this.armAt(state, now + (next === null ? IDLE_POLL_MS : Math.max(0, Math.min(IDLE_POLL_MS, next - now))), now);
  }

  /** Makes sure the kind is pumped by `fireAt`; keeps an earlier timer already set. */
  private armAt(state: KindState, fireAt: number, now = this.ctx.clock.now()) {
    if (state.timer && state.timerAt <= fireAt) return;
    if (state.timer) clearTimeout(state.timer);
    state.timerAt = fireAt;
    state.timer = setTimeout(() => {
      state.timer = null;
      state.backlog = true; // a job due later, or enqueued by another process
      this.pumpSoon(state);
    }, Math.max(0, fireAt - now));
    state.timer.unref?.();
  }

  private run(state: KindState, row: JobRow, handler: JobHandler<never> = state.handler) {
    state.running++;
    this.runningIds.add(row.id);
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
        await (handler as JobHandler)(this.ctx, job);
        this.finish(state, job);
      } catch (error) {
        this.fail(state, job, error);
      }
    })().finally(() => {
      state.running--;
      this.runningIds.delete(row.id);
      this.inFlight.delete(task);
      this.pumpSoon(state);
    });
    this.inFlight.add(task);
  }

  private finish(state: KindState, job: Job) {
    if (state.options.everyMs) {
      const soon = state.runSoon; // woken while running: go again
      state.runSoon = false;
      this.record(job, () => {
        const now = this.ctx.clock.now();
        this.statements.reschedule(job.id, soon ? now : now + state.options.everyMs!, "");
      });
      return;
    }
    this.completed.push(job.id);
  }

  /**
   * Deletes the jobs finished since the last flush, in the writer's next batch rather than in a
   * commit of their own; a crash before it only re-runs idempotent handlers.
   */
  private flushCompleted() {
    if (this.completed.length === 0) return;
    const ids = this.completed;
    this.completed = [];
    this.ctx.writer.defer(() => this.statements.complete(ids));
  }

  private fail(state: KindState, job: Job, error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (this.stopping && job.signal.aborted) return; // lease expires; a later start resumes it
    if (job.attempt >= job.maxAttempts && !state.options.everyMs) {
      this.ctx.log.error("job failed for good", { kind: job.kind, job_id: job.id, attempts: job.attempt, error });
      this.completed.push(job.id);
      return;
    }
    const delay = error instanceof RetryLater && error.delayMs !== undefined ? error.delayMs : jitter((state.options.backoffMs ?? defaultBackoff)(job.attempt));
    this.ctx.log.warn("job will retry", { kind: job.kind, job_id: job.id, attempt: job.attempt, delay_ms: delay, error: message });
    this.record(job, () => {
      this.statements.reschedule(job.id, this.ctx.clock.now() + delay, message);
      this.armAt(state, this.ctx.clock.now() + delay);
    });
  }

  /**
   * Writes a job's next run. Refused by the database (a full disk), it is tried again until it
   * is written: the job stays leased to this process meanwhile, rather than until its lease
   * ends (15 minutes for an execution's run). Once stopping, the next start releases the lease.
   */
  private record(job: Job, write: () => void) {
    try {
      write();
    } catch (error) {
      if (this.stopping) return;
      this.ctx.log.warn("scheduler: could not record a job's next run; trying again", { kind: job.kind, job_id: job.id, retry_ms: STORAGE_RETRY_MS, error: (error as Error).message });
      setTimeout(() => this.record(job, write), STORAGE_RETRY_MS).unref?.();
    }
  }

  /** Stops claiming; waits for running jobs up to graceMs, then aborts them. */
  async stop(graceMs: number) {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const state of this.kinds.values()) if (state.timer) clearTimeout(state.timer);
    const all = Promise.allSettled([...this.inFlight]);
    const timedOut = await Promise.race([all.then(() => false), Bun.sleep(graceMs).then(() => true)]);
    const unfinished = [...this.runningIds];
    if (timedOut) {
      this.abort.abort(new Error("shutting down"));
      await Promise.race([all, Bun.sleep(1000)]);
    }
    this.flushCompleted();
    this.ctx.writer.flush();
    // Replicas on PostgreSQL release no lease at start (it may be another's): a replica that
    // stops gives its unfinished jobs back now, rather than after their lease.
    if (this.shared && unfinished.length) this.statements.releaseLeasesOf(unfinished);
  }

  get runningCount() {
    let n = 0;
    for (const s of this.kinds.values()) n += s.running;
    return n;
  }
}
