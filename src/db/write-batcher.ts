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

export class WriteBatcher {
  private queue: Item[] = [];
  private scheduled = false;

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

  /** Commits everything queued so far (also called on shutdown). */
  flush() {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
      try {
        this.db.transaction((tx) => {
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
