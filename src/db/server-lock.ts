/**
 * One process at a time owns a data directory: `serve` for its whole life, `restore` and
 * `migrate` while they run. The owner holds an exclusive OS lock on `<data-dir>/modelroute.lock`
 * (an empty SQLite file kept inside `BEGIN EXCLUSIVE`, SQLite being the portable way to an
 * fcntl/LockFileEx lock in Bun); the OS drops it when the process dies, even by kill -9, so a
 * crash leaves nothing to clean up. The lock cannot be read while held, so the owner names itself
 * in `<data-dir>/modelroute.pid` for the refusal message. The operator commands that work beside
 * a running server (keys, credits, backup, …) take no lock: SQLite WAL serialises their writes.
 */
import { Database } from "bun:sqlite";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const lockPath = (dataDir: string) => join(dataDir, "modelroute.lock");
const ownerPath = (dataDir: string) => join(dataDir, "modelroute.pid");

type Owner = { pid: number; command: string; started_at: string };

export type DataDirLock = { release(): void };

/** The data directory is owned by another process (or another server in this one). */
export class DataDirInUse extends Error {}

/** Takes the data directory for `command`, or throws DataDirInUse naming the owner. The directory must exist. */
export function lockDataDir(dataDir: string, command: string, now: number): DataDirLock {
  const lock = new Database(lockPath(dataDir), { create: true });
  try {
    lock.exec("PRAGMA busy_timeout = 0"); // refuse at once; waiting would hide a second server
    lock.exec("BEGIN EXCLUSIVE");
  } catch (e) {
    lock.close();
    if ((e as { code?: string }).code !== "SQLITE_BUSY") throw e;
    throw new DataDirInUse(`${dataDir} is in use by ${describeOwner(dataDir)}; stop it first or choose another --data-dir`);
  }
  const owner = JSON.stringify({ pid: process.pid, command, started_at: new Date(now).toISOString() } satisfies Owner) + "\n";
  writeFileSync(ownerPath(dataDir), owner, { mode: 0o644 });
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(ownerPath(dataDir), { force: true }); // before the lock goes: the next owner writes its own
      lock.exec("ROLLBACK");
      lock.close();
    },
  };
}

function describeOwner(dataDir: string): string {
  try {
    const owner = JSON.parse(readFileSync(ownerPath(dataDir), "utf8")) as Owner;
    return `modelroute ${owner.command} (pid ${owner.pid}, started ${owner.started_at})`;
  } catch {
    return "another modelroute process (it has not written its pid yet)";
  }
}
