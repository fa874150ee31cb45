/**
 * WAL checkpoints off the request thread. SQLite's automatic checkpoint runs inside whichever
 * commit crosses 1,000 WAL pages: that commit copies the pages into the database file and
 * fsyncs it, a pause of several milliseconds every few dozen executions, taken by a request. The
 * server raises that threshold to a fallback that is rarely reached, and a worker thread with a
 * connection of its own runs PASSIVE checkpoints, which never block a writer or a reader, every
 * CHECKPOINT_EVERY_MS. SQLite rewinds the WAL at the next write after a complete checkpoint, so
 * the file stays small (docs/decisions.md "WAL checkpoints on a thread of their own").
 *
 * The worker starts once the WAL holds START_AT_WAL_BYTES: a worker thread's memory stays resident
 * for the life of the process, even after the thread ends, and a server that has written little
 * since it started has nothing to checkpoint yet (docs/decisions.md).
 */
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";

const CHECKPOINT_EVERY_MS = 100;
/** How much WAL the server writes before the worker starts (256 pages of 4 KiB). */
const START_AT_WAL_BYTES = 1024 * 1024;
/** How often the WAL's size is looked at until then. */
const WAL_SIZE_EVERY_MS = 1_000;
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

export type Checkpointer = {
  stop(): Promise<void>;
  /** Whether the worker has started (the WAL reached START_AT_WAL_BYTES). */
  running(): boolean;
};

const walBytes = (path: string) => {
  try {
    return statSync(`${path}-wal`).size;
  } catch {
    return 0; // no WAL yet
  }
};

/**
 * Checkpoints `path` on a worker thread once its WAL is worth it; `onError` hears the first of a
 * run of failed checkpoints (the fallback still runs), `onRecovered` the first that works after them.
 */
export function startCheckpointer(sqlite: Database, path: string, onError: (message: string) => void, onRecovered: () => void = () => {}, opts: { startAtWalBytes?: number } = {}): Checkpointer {
  sqlite.exec(`PRAGMA wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const startAt = opts.startAtWalBytes ?? START_AT_WAL_BYTES;
  let worker: Worker | null = null;
  let url: string | null = null;
  let stopped: (() => void) | null = null;
  const start = () => {
    url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    worker = new Worker(url);
    worker.unref();
    worker.onmessage = (event: MessageEvent<{ type: string; message?: string }>) => {
      if (event.data.type === "error") onError(event.data.message ?? "checkpoint failed");
      else if (event.data.type === "recovered") onRecovered();
      else if (event.data.type === "stopped") stopped?.();
    };
    worker.postMessage({ type: "start", path, everyMs: CHECKPOINT_EVERY_MS });
  };
  const watch = () => {
    if (walBytes(path) < startAt) return false;
    start();
    return true;
  };
  let watcher: ReturnType<typeof setInterval> | null = null;
  if (!watch()) {
    watcher = setInterval(() => {
      if (watch()) clearInterval(watcher!);
    }, WAL_SIZE_EVERY_MS);
    watcher.unref();
  }
  return {
    running: () => worker !== null,
    async stop() {
      if (watcher) clearInterval(watcher);
      if (worker) {
        const running = worker;
        // The worker closes its connection itself: a thread ended mid-checkpoint could leave a lock behind.
        await Promise.race([new Promise<void>((resolve) => ((stopped = resolve), running.postMessage({ type: "stop" }))), Bun.sleep(STOP_WAIT_MS)]);
        running.terminate();
        URL.revokeObjectURL(url!);
      }
      sqlite.exec("PRAGMA wal_autocheckpoint = 1000");
    },
  };
}
