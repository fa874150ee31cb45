/**
 * WAL checkpoints off the request thread. SQLite's automatic checkpoint runs inside whichever
 * commit crosses 1,000 WAL pages: that commit copies the pages into the database file and
 * fsyncs it, a pause of several milliseconds every few dozen executions, taken by a request. The
 * server raises that threshold to a fallback that is rarely reached, and a worker thread with a
 * connection of its own runs PASSIVE checkpoints, which never block a writer or a reader, every
 * CHECKPOINT_EVERY_MS. SQLite rewinds the WAL at the next write after a complete checkpoint, so
 * the file stays small (docs/decisions.md "WAL checkpoints on a thread of their own").
 */
import type { Database } from "bun:sqlite";

const CHECKPOINT_EVERY_MS = 100;
/** The server's own connection still checkpoints past this many WAL pages (~40 MB): the worker stopped or fell behind. */
const FALLBACK_AUTOCHECKPOINT_PAGES = 10_000;
const STOP_WAIT_MS = 2_000;

// A worker from source text: it is part of the compiled binary without an entry point of its own.
const WORKER_SOURCE = `
const { Database } = require("bun:sqlite");
let db = null;
let checkpoint = null;
let timer = null;
let failing = false;
self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "start") {
    db = new Database(message.path);
    db.exec("PRAGMA busy_timeout = 5000");
    checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
    timer = setInterval(() => {
      // Told once when checkpoints start failing (a full disk fails one every interval) and once when they work again.
      try {
        checkpoint.get();
        if (failing) self.postMessage({ type: "recovered" });
        failing = false;
      } catch (error) {
        if (!failing) self.postMessage({ type: "error", message: String(error && error.message || error) });
        failing = true;
      }
    }, message.everyMs);
  } else if (message.type === "stop") {
    if (timer) clearInterval(timer);
    // Finalized first: a connection closed with a statement still open lingers until the statement
    // is collected, and the server's own close would then not be the last (it leaves the -wal file).
    if (checkpoint) checkpoint.finalize();
    if (db) db.close(true);
    self.postMessage({ type: "stopped" });
  }
};
`;

export type Checkpointer = { stop(): Promise<void> };

/**
 * Starts checkpointing `path` on a worker thread; `onError` hears the first of a run of failed
 * checkpoints (the fallback still runs), `onRecovered` the first that works after them.
 */
export function startCheckpointer(sqlite: Database, path: string, onError: (message: string) => void, onRecovered: () => void = () => {}): Checkpointer {
  sqlite.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  const worker = new Worker(url);
  worker.unref();
  let stopped: (() => void) | null = null;
  worker.onmessage = (event: MessageEvent<{ type: string; message?: string }>) => {
    if (event.data.type === "error") onError(event.data.message ?? "checkpoint failed");
    else if (event.data.type === "recovered") onRecovered();
    else if (event.data.type === "stopped") stopped?.();
  };
  worker.postMessage({ type: "start", path, everyMs: CHECKPOINT_EVERY_MS });
  return {
    async stop() {
      // The worker closes its connection itself: a thread ended mid-checkpoint could leave a lock behind.
      await Promise.race([new Promise<void>((resolve) => ((stopped = resolve), worker.postMessage({ type: "stop" }))), Bun.sleep(STOP_WAIT_MS)]);
      worker.terminate();
      URL.revokeObjectURL(url);
      sqlite.exec("PRAGMA wal_autocheckpoint = 1000");
    },
  };
}
