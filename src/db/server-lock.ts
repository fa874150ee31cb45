/**
 * `<data-dir>/modelroute.pid`: written by a running server, removed when it stops, so `restore`
 * can refuse to swap the database under it. SQLite cannot tell: an idle WAL connection holds no
 * lock another process can see. A file left by a crash names a dead pid and is ignored.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const lockPath = (dataDir: string) => join(dataDir, "modelroute.pid");

type LockFile = { pid: number; token: string; started_at: string };

export type ServerLock = { release(): void };

export function claimServerLock(dataDir: string, now: number): ServerLock {
  const path = lockPath(dataDir);
  const token = crypto.randomUUID(); // two servers in one test process share a pid
  const content = JSON.stringify({ pid: process.pid, token, started_at: new Date(now).toISOString() } satisfies LockFile) + "\n";
  writeFileSync(path, content, { mode: 0o644 });
  return {
    release() {
      if (existsSync(path) && readFileSync(path, "utf8") === content) rmSync(path, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by someone else
  }
}

/** The server using this data directory, or null when none is running. */
export function runningServer(dataDir: string): { pid: number; startedAt: string } | null {
  const path = lockPath(dataDir);
  if (!existsSync(path)) return null;
  let lock: LockFile;
  try {
    lock = JSON.parse(readFileSync(path, "utf8")) as LockFile;
  } catch (e) {
    throw new Error(`${path} is unreadable (${(e as Error).message}); delete it if no server is running`);
  }
  return Number.isInteger(lock.pid) && isAlive(lock.pid) ? { pid: lock.pid, startedAt: lock.started_at } : null;
}
