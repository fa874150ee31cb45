/**
 * The processes a benchmark target runs as (OmniRoute is a CLI wrapper and a Next.js child):
 * their tree, its peak memory, and stopping it. Only a process this benchmark spawned, and its
 * descendants, is ever signalled.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";

/** `pid` and every descendant, from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const tasks = `/proc/${all[i]}/task`;
    if (!existsSync(tasks)) continue;
    for (const tid of readdirSync(tasks)) {
      try {
        const children = readFileSync(`${tasks}/${tid}/children`, "utf8").trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      } catch {
        // the task ended while we read: nothing to add
      }
    }
  }
  return all;
}

const statusKb = (pid: number, field: string) => {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0; // exited meanwhile
  }
};

/** Peak resident memory (kernel VmHWM) of the whole tree, summed, in MB; null where /proc is missing. */
export function peakRssMb(pid: number): number | null {
  if (!existsSync(`/proc/${pid}/status`)) return null;
  return processTree(pid).reduce((sum, p) => sum + statusKb(p, "VmHWM"), 0) / 1024;
}

/** Clock ticks per second of /proc/<pid>/stat's times: USER_HZ, 100 on every Linux build that matters. */
const USER_HZ = 100;

const cpuTicksOf = (pid: number) => {
  try {
    // Fields after the command name (which may hold spaces): utime is the 12th, stime the 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0; // exited meanwhile
  }
};

/** CPU time (user + system, every thread) the tree has used so far, in ms; null where /proc is missing. */
export function cpuMsOf(pid: number): number | null {
  if (!existsSync(`/proc/${pid}/stat`)) return null;
  return (processTree(pid).reduce((sum, p) => sum + cpuTicksOf(p), 0) * 1000) / USER_HZ;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM to the tree, SIGKILL to what is left after `graceMs`. */
export async function stopTree(pid: number, graceMs = 5000) {
  const pids = processTree(pid);
  for (const p of pids) if (alive(p)) process.kill(p, "SIGTERM");
  const deadline = performance.now() + graceMs;
  while (pids.some(alive) && performance.now() < deadline) await Bun.sleep(50);
  for (const p of pids) if (alive(p)) process.kill(p, "SIGKILL");
}

const readOr = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** The last `chars` of a process's stdout log and of its stderr (`<path>.err`), without terminal colours, for a failure message. */
export function logTail(path: string, chars = 600): string {
  const text = [readOr(path), readOr(`${path}.err`)].map((t) => t.slice(-chars).replace(/\x1b\[[0-9;]*m/g, "").trim()).filter(Boolean).join("\n");
  return text || "(nothing logged)";
}
