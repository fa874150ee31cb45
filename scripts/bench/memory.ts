#!/usr/bin/env bun
/**
 * Memory of the compiled binary while it works, printed figures, not a test (`npm run bench`).
 * The server (dist/modelroute, built first when missing; `--source` runs `bun src/main.ts`) runs
 * alone on CPU 0 on a fresh data directory (bootstrap credit 1,000,000, rate limit off), the load
 * generator on CPU 1 where taskset exists (`--no-pin` turns it off). Beside it, in the same run,
 * the floor: a bare `Bun.serve` on the same Bun, idle (scripts/bench/lib.ts's bare proxy, in
 * front of lib.ts's upstream, which answers its readiness probe).
 *
 *  - resident memory (VmRSS) after start and after 2 s idle (at most --idle-seconds);
 *  - --executions ASYNC `demo-model` executions (the built-in instant mock) at --concurrency,
 *    each answer checked (202 with an `exec_` id); RSS read every second: the highest, and at
 *    each tenth of the way;
 *  - once every one of them has ended (the database file read read-only: only COMPLETED counts,
 *    anything else is a wrong answer), and after --idle-seconds of rest: RSS.
 * Goals (docs/benchmarks.md): RSS after 1 M executions under 120 MB (read --idle-seconds after the last one
 * ended: what the server keeps; the highest during the load is shown beside it), idle under
 * 70 MB. The third
 * memory goal, flat during a 150 MB upload, is files-upload.ts's. Prints a table, the goals with
 * met / NOT met and one line `{"bench":"memory",...}`; exit code 1 on a wrong answer. Only
 * 127.0.0.1 is called; the load stops early after --max-minutes.
 *
 *   bun scripts/bench/memory.ts [--executions 1000000] [--concurrency 64] [--no-pin]
 *     [--binary dist/modelroute | --source] [--max-minutes 20] [--idle-seconds 5]
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { databasePath } from "../../src/db/client";
import { spawnServer } from "../../test/helpers/process";
import { canPin, ensureBinary, fmt, fmtInt, memoryOf, OPEN_EXECUTION, pinLoadToCpu1, startBareProxy, startUpstream } from "./lib";
import { stopTree } from "./overhead/processes";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    executions: { type: "string", default: "1000000" },
    concurrency: { type: "string", default: "64" },
    "no-pin": { type: "boolean", default: false },
    binary: { type: "string" },
    source: { type: "boolean", default: false },
    "max-minutes": { type: "string", default: "20" },
    "idle-seconds": { type: "string", default: "5" },
  },
});
const EXECUTIONS = Number(values.executions);
const CONCURRENCY = Number(values.concurrency);
const PIN = !values["no-pin"];
const binary = values.source ? undefined : ensureBinary(values.binary);
const deadline = performance.now() + Number(values["max-minutes"]) * 60_000;
const GOALS = { afterMb: 120, idleMb: 70, afterExecutions: 1_000_000 };
const REQUEST_TIMEOUT_MS = 30_000;
const END_WAIT_MS = 120_000;
/** The rest after the load; the idle readings after start take at most 2 s of it. */
const REST_MS = Number(values["idle-seconds"]) * 1000;
const IDLE_MS = Math.min(2_000, REST_MS);

pinLoadToCpu1(PIN);
const rssOf = (pid: number) => memoryOf(pid).rss;

// ---- the floor: a bare Bun.serve, idle ----
const upstream = await startUpstream(PIN); // the bare proxy answers its readiness probe through it
const bare = await startBareProxy(PIN, upstream.url);
await Bun.sleep(IDLE_MS);
const bareIdleMb = rssOf(bare.proc.pid);
for (const proc of [bare.proc, upstream.proc]) proc.kill("SIGTERM");
await Promise.all([bare.proc.exited, upstream.proc.exited]);

// ---- ModelRoute ----
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-memory-"));
const server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0" }, undefined, { binary });
const pid = server.proc.pid;
const cleanUp = async () => {
  await stopTree(pid);
  rmSync(dataDir, { recursive: true, force: true });
};
process.on("SIGINT", () => void cleanUp().then(() => process.exit(130)));
if (canPin(PIN)) Bun.spawnSync(["taskset", "-a", "-cp", "0", String(pid)], { stdout: "ignore" });
const apiKey: string = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
const startedMb = rssOf(pid);
await Bun.sleep(IDLE_MS);
const idleMb = rssOf(pid);

const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
const body = JSON.stringify({ model: "demo-model", input: { text: "hello" } });
let sent = 0;
let created = 0;
const wrong: string[] = [];
const samples: { executions: number; rssMb: number }[] = [];
let highestMb = idleMb;
const sampler = setInterval(() => {
  const rss = rssOf(pid);
  highestMb = Math.max(highestMb, rss);
  samples.push({ executions: created, rssMb: rss });
}, 1_000);

const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (sent < EXECUTIONS && performance.now() < deadline && wrong.length < 20) {
      sent++;
      try {
        const res = await fetch(`${server.url}/v1/executions`, { method: "POST", headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await res.text();
        if (res.status === 202 && /"id":"exec_/.test(text)) created++;
        else wrong.push(`POST /v1/executions: HTTP ${res.status} ${text.slice(0, 200)}`);
      } catch (error) {
        wrong.push(`POST /v1/executions: ${(error as Error).message}`);
      }
    }
  }),
);
const loadSeconds = (performance.now() - t0) / 1000;

// Every execution created must end COMPLETED.
const db = new Database(databasePath(dataDir), { readonly: true });
const counts = () => db.query(`SELECT count(*) FILTER (WHERE status = 'COMPLETED') AS completed, count(*) FILTER (WHERE ${OPEN_EXECUTION}) AS open, count(*) AS total FROM executions`).get() as { completed: number; open: number; total: number };
const endBy = performance.now() + END_WAIT_MS;
let ended = counts();
while (ended.open > 0 && performance.now() < endBy) {
  await Bun.sleep(200);
  ended = counts();
}
db.close();
clearInterval(sampler);
const afterLoadMb = rssOf(pid);
highestMb = Math.max(highestMb, afterLoadMb);
await Bun.sleep(REST_MS);
const afterIdleMb = rssOf(pid);
if (ended.open > 0) wrong.push(`${ended.open} executions still open ${END_WAIT_MS / 1000} s after the load`);
if (ended.completed < created) wrong.push(`${created - ended.completed} of ${created} created executions did not end COMPLETED`);
await cleanUp();

// ---- figures ----
const tenths = Array.from({ length: 10 }, (_, i) => Math.round(((i + 1) * created) / 10));
const at = (n: number) => samples.find((s) => s.executions >= n)?.rssMb ?? afterLoadMb;
console.log(`memory: ${fmtInt(created)} ASYNC demo-model executions at concurrency ${CONCURRENCY} in ${fmt(loadSeconds, 1)} s (${fmtInt(created / loadSeconds)}/s), ${fmtInt(ended.completed)} COMPLETED; ${canPin(PIN) ? "server on CPU 0, load on CPU 1" : "not pinned"}; ${binary ?? "from source"}\n`);
console.log("| resident memory (MB) | ModelRoute | bare Bun.serve |");
console.log("|---|---|---|");
console.log(`| after start | ${fmt(startedMb, 1)} | – |`);
console.log(`| after ${fmt(IDLE_MS / 1000, 1)} s idle | ${fmt(idleMb, 1)} | ${fmt(bareIdleMb, 1)} |`);
console.log(`| highest during the load | ${fmt(highestMb, 1)} | – |`);
console.log(`| once all had ended | ${fmt(afterLoadMb, 1)} | – |`);
console.log(`| then after ${fmt(REST_MS / 1000, 1)} s of rest | ${fmt(afterIdleMb, 1)} | – |`);
console.log(`\nRSS during the load, at each tenth of the executions: ${tenths.map((n) => `${fmtInt(n)}: ${fmt(at(n), 1)}`).join(", ")}`);
console.log(`ModelRoute idle is ${fmt(idleMb / bareIdleMb, 2)}× a bare Bun.serve's idle RSS (${fmt(idleMb - bareIdleMb, 1)} MB more)\n`);

const enough = created >= GOALS.afterExecutions;
const goals = [
  {
    // At rest after them: what the server keeps. The highest during the load is in the table.
    goal: `RSS after ${fmtInt(GOALS.afterExecutions)} executions under ${GOALS.afterMb} MB (${fmt(REST_MS / 1000, 1)} s after the last ended)`,
    value: `${fmt(afterIdleMb, 1)} MB after ${fmtInt(created)}`,
    met: enough ? afterIdleMb < GOALS.afterMb : null,
  },
  { goal: `idle RSS under ${GOALS.idleMb} MB`, value: `${fmt(idleMb, 1)} MB`, met: idleMb < GOALS.idleMb },
];
for (const g of goals) console.log(`goal: ${g.goal}: ${g.value} -> ${g.met === null ? "not measured (fewer executions than the goal names)" : g.met ? "met" : "NOT met"}`);
for (const w of wrong.slice(0, 10)) console.log(`  WRONG ANSWER: ${w}`);
console.log(
  JSON.stringify({
    bench: "memory",
    program: binary ?? "source",
    pinned: canPin(PIN),
    concurrency: CONCURRENCY,
    created,
    completed: ended.completed,
    loadSeconds,
    rssMb: { started: startedMb, idle: idleMb, highest: highestMb, afterLoad: afterLoadMb, afterIdle: afterIdleMb, bareIdle: bareIdleMb },
    samples,
    goals,
    wrong: wrong.length,
  }),
);
if (wrong.length > 0) process.exitCode = 1;
