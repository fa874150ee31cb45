/**
 * Group commit. Writes that arrive in the same event-loop turn run in one SQLite transaction,
 * each inside its own SAVEPOINT: one item's failure (a 402, a guard that did not match) rolls
 * back only that item, and everything else commits together. Under load this turns hundreds
 * of commits (each a WAL append of every page it touched) into one, which is where most of an
 * execution's write cost went. Each caller's promise settles after the commit, so wake-ups and
 * notifications that follow still happen only for committed data.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Db, Tx } from "./client";

type Item = { fn: (tx: Tx) => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void };

/** How long deferred work may wait for a batch to ride along with before it commits on its own. */
const DEFER_MAX_MS = 50;

export class WriteBatcher {
  private queue: Item[] = [];
  private scheduled = false;
  private deferred: ((tx: Tx) => void)[] = [];
  private deferTimer: ReturnType<typeof setTimeout> | null = null;

  private savepoint: Statement;
  private release: Statement;
  private rollbackTo: Statement;

  constructor(private db: Db, sqlite: Database, private maxBatch = 512) {
    // Raw statements, prepared once: drizzle's nested transaction builds and prepares its
    // SAVEPOINT SQL and a transaction object on every call, a measurable cost per execution.
    this.savepoint = sqlite.prepare("SAVEPOINT batch_item");
    this.release = sqlite.prepare("RELEASE batch_item");
    this.rollbackTo = sqlite.prepare("ROLLBACK TO batch_item");
  }

  /** Runs `fn` in the next batch transaction; resolves with its result once committed. */
  run<T>(fn: (tx: Tx) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Housekeeping that must commit but not necessarily now (deleting finished jobs): it rides in
   * the next batch instead of paying a commit of its own, and commits alone after DEFER_MAX_MS
   * when no batch comes. Losing it in a crash is harmless by contract (a finished job that runs
   * again finds its work done).
   */
  defer(fn: (tx: Tx) => void) {
    this.deferred.push(fn);
    if (this.deferTimer || this.scheduled) return;
    this.deferTimer = setTimeout(() => {
      this.deferTimer = null;
      if (this.deferred.length > 0 && this.queue.length === 0) this.flush();
    }, DEFER_MAX_MS);
    this.deferTimer.unref?.();
  }

  /** Commits everything queued so far (also called on shutdown). */
  flush() {
    this.scheduled = false;
    if (this.queue.length === 0 && this.deferred.length > 0) this.queue.push({ fn: () => undefined, resolve: () => {}, reject: () => {} });
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const deferred = this.deferred.splice(0);
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      try {
        this.db.transaction((tx) => {
          for (const fn of deferred) fn(tx);
          for (const item of batch) {
            this.savepoint.run();
            try {
              outcomes.push({ ok: true, value: item.fn(tx) });
            } catch (error) {
              this.rollbackTo.run(); // undoes this item only; the savepoint stays until released
              outcomes.push({ ok: false, error });
            }
            this.release.run();
          }
        });
      } catch (error) {
        for (const item of batch) item.reject(error); // the commit itself failed: nothing was written
        this.deferred.unshift(...deferred); // kept for the next batch
        continue;
      }
      batch.forEach((item, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) item.resolve(outcome.value);
        else item.reject(outcome.error);
      });
    }
  }
}
