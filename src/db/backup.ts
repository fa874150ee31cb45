/**
 * Online, consistent backups: SQLite's `VACUUM INTO` copies one read snapshot (WAL readers never
 * block the server's writers) into a compact, self-contained file. It runs in a worker so the
 * caller can report progress by watching the file grow; the worker's code is inline so the
 * compiled binary needs no extra entry point.
 */
import { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync } from "node:fs";
import { appliedMigrations } from "./client";

const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
self.onmessage = (event) => {
  const { source, target } = event.data;
  try {
    const db = new Database(source, { readonly: true });
    db.exec("PRAGMA busy_timeout = 10000");
    db.query("VACUUM INTO ?").run(target);
    db.close();
    postMessage({ ok: true });
  } catch (error) {
    postMessage({ ok: false, message: String(error && error.message ? error.message : error) });
  }
};`;

export type Progress = (doneBytes: number, totalBytes: number) => void;

/** Bytes the copy will hold, about: pages in use × page size. */
export function estimatedSize(sourcePath: string): number {
  const db = new Database(sourcePath, { readonly: true });
  try {
    const pragma = (name: string) => Object.values(db.query(`PRAGMA ${name}`).get() as Record<string, number>)[0]!;
    return Math.max(0, pragma("page_count") - pragma("freelist_count")) * pragma("page_size");
  } finally {
    db.close();
  }
}

function vacuumInto(source: string, target: string, onProgress: Progress, totalBytes: number): Promise<void> {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  const worker = new Worker(url);
  const timer = setInterval(() => {
    if (existsSync(target)) onProgress(Math.min(statSync(target).size, totalBytes), totalBytes);
  }, 100);
  return new Promise<void>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ok: boolean; message?: string }>) => {
      if (event.data.ok) resolve();
      else reject(new Error(`VACUUM INTO failed: ${event.data.message}`));
    };
    worker.onerror = (event) => reject(new Error(`backup worker failed: ${event.message}`));
    worker.postMessage({ source, target });
  }).finally(() => {
    clearInterval(timer);
    void worker.terminate();
    URL.revokeObjectURL(url);
  });
}

/** Problems that make `path` unusable as a ModelRoute database; empty when it is one. */
export function databaseProblems(path: string, embeddedMigrations: number): string[] {
  if (!existsSync(path)) return [`${path} does not exist`];
  const header = Buffer.alloc(16);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString("latin1") !== "SQLite format 3\u0000") return [`${path} is not an SQLite database`];
  const db = new Database(path, { readonly: true });
  try {
    const check = (db.query("PRAGMA quick_check").get() as { quick_check: string }).quick_check;
    if (check !== "ok") return [`${path} is damaged: ${check}`];
    const tables = new Set((db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    const missing = ["__drizzle_migrations", "orgs", "api_keys", "settings", "models"].filter((t) => !tables.has(t));
    if (missing.length > 0) return [`${path} is not a ModelRoute database (no ${missing.join(", ")} table)`];
    const applied = appliedMigrations({ client: db });
    if (applied > embeddedMigrations) return [`${path} was written by a newer ModelRoute (${applied} migrations; this one knows ${embeddedMigrations})`];
    return [];
  } finally {
    db.close();
  }
}

/**
 * Copies the live database at `sourcePath` to `targetPath` (which must not exist) through a
 * temporary file renamed into place once the copy passes quick_check. Returns its size.
 */
export async function backupDatabase(sourcePath: string, targetPath: string, embeddedMigrations: number, onProgress: Progress = () => {}): Promise<number> {
  const partial = `${targetPath}.partial`;
  rmSync(partial, { force: true });
  const total = estimatedSize(sourcePath);
  try {
    // Owner-only like the database itself (it holds webhook secrets and key hashes); VACUUM INTO
    // writes into an existing empty file and keeps its mode.
    closeSync(openSync(partial, "wx", 0o600));
    await vacuumInto(sourcePath, partial, onProgress, total);
    const problems = databaseProblems(partial, embeddedMigrations);
    if (problems.length > 0) throw new Error(`the backup failed its check: ${problems.join("; ")}`);
    renameSync(partial, targetPath);
  } finally {
    rmSync(partial, { force: true });
  }
  const size = statSync(targetPath).size;
  onProgress(size, size);
  return size;
}
