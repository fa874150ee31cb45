/**
 * Startup benchmark of the compiled binary (not a test; `npm run bench`). Prints the binary
 * size, the time from spawn to the first 200 on /healthz (polled every 1 ms, fresh and existing
 * data dirs), and the resident memory after start, after 2 s idle and after a short burst.
 * Goals (docs/benchmarks.md): cold start < 50 ms, idle RSS < 70 MB.
 *   bun scripts/bench/startup.ts [--runs 15] [--binary dist/modelroute]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureBinary, memoryOf, stopTimed, timedStart } from "./lib";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { runs: { type: "string", default: "15" }, binary: { type: "string" } } });
const binary = ensureBinary(values.binary);
const RUNS = Number(values.runs);
const START_GOAL_MS = 50;
const RSS_GOAL_MB = 70;

const work = mkdtempSync(join(tmpdir(), "modelroute-bench-startup-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));

/** Spawns the binary and polls /healthz every 1 ms; startMs = spawn → first 200. */
const start = (dataDir: string) => timedStart([binary], dataDir, { cwd: work });

const rssMb = (pid: number) => memoryOf(pid).rss;

function summary(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)! };
}

const fmt = (n: number) => n.toFixed(1).padStart(6);
const verdict = (ok: boolean) => (ok ? "ok" : "OVER GOAL");

console.log(`binary: ${binary}`);
console.log(`size:   ${(statSync(binary).size / 1e6).toFixed(1)} MB (${statSync(binary).size} bytes)`);

const fresh: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const dir = join(work, `fresh-${i}`);
  const s = await start(dir);
  fresh.push(s.startMs);
  await stopTimed(s);
}
const existingDir = join(work, "existing");
await stopTimed(await start(existingDir)); // first run: schema + bootstrap
const existing: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const s = await start(existingDir);
  existing.push(s.startMs);
  await stopTimed(s);
}

console.log(`\ncold start to first 200 on /healthz, ${RUNS} runs each (goal < ${START_GOAL_MS} ms):`);
for (const [label, values] of [["fresh data dir", fresh], ["existing data dir", existing]] as const) {
  const s = summary(values);
  console.log(`  ${label.padEnd(18)} median ${fmt(s.median)} ms  min ${fmt(s.min)} ms  max ${fmt(s.max)} ms  ${verdict(s.median < START_GOAL_MS)}`);
}

const server = await start(existingDir);
const pid = server.proc.pid;
const afterStart = rssMb(pid);
await Bun.sleep(2000);
const afterIdle = rssMb(pid);
const { api_key: apiKey } = JSON.parse(readFileSync(join(existingDir, "bootstrap.json"), "utf8"));
const burstStarted = performance.now();
const BURST = 2000;
for (let i = 0; i < BURST; i += 50)
  await Promise.all(
    Array.from({ length: 50 }, () => fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } }).then((r) => r.arrayBuffer())),
  );
const burstMs = performance.now() - burstStarted;
await Bun.sleep(2000);
const afterBurst = rssMb(pid);
await stopTimed(server);

console.log(`\nresident memory (VmRSS, goal < ${RSS_GOAL_MB} MB idle):`);
console.log(`  after start              ${fmt(afterStart)} MB  ${verdict(afterStart < RSS_GOAL_MB)}`);
console.log(`  after 2 s idle           ${fmt(afterIdle)} MB  ${verdict(afterIdle < RSS_GOAL_MB)}`);
console.log(`  after ${BURST} GET /v1/models (${Math.round(burstMs)} ms, 50 at a time) + 2 s idle ${fmt(afterBurst)} MB`);
