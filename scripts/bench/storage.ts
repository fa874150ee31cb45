#!/usr/bin/env bun
/**
 * Storage, printed figures, not a test: the database bytes one completed small execution costs,
 * by table and index (SQLite's dbstat, pages in use), measured as the growth over the same data
 * directory just after its first start. The executions are ASYNC `mock-chat` calls
 * (`POST /v1/executions`, a one-line prompt, max_tokens 16) created --concurrency at a time and
 * each checked COMPLETED through the API; then the server stops (a clean shutdown checkpoints the
 * WAL) and the file is read. Goal: at most 600 bytes per completed small execution, everything
 * counted (input, output, its status history, ledger entries, balances, jobs and indexes).
 *
 *   bun scripts/bench/storage.ts [--executions 20000] [--concurrency 64]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnServer, type ServerProcess } from "../../test/helpers/process";
import { databasePath } from "../../src/db/client";
import { bytesByObject, fmt, fmtInt, growthByObject } from "./lib";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { executions: { type: "string", default: "20000" }, concurrency: { type: "string", default: "64" } } });
const N = Number(values.executions);
const CONCURRENCY = Number(values.concurrency);
const GOAL_BYTES = 600;

async function stop(server: ServerProcess) {
  server.proc.kill("SIGTERM");
  await server.exited;
}

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-storage-"));
let server: ServerProcess | null = null;
try {
  server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0" });
  const key = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
  await stop(server);
  const before = bytesByObject(databasePath(dataDir));
  server = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0" });
  const url = server.url;
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const body = JSON.stringify({ model: "mock-chat", input: { messages: [{ role: "user", content: "Say hello" }], max_tokens: 16 } });
  const ids: string[] = [];
  let wrong = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        next++;
        const res = await fetch(`${url}/v1/executions`, { method: "POST", headers, body });
        const created = (await res.json()) as { id?: string };
        if (res.status === 202 && created.id) ids.push(created.id);
        else wrong++;
      }
    }),
  );
  // Every one checked COMPLETED through the API (a FAILED execution is not a completed one).
  let pending = [...ids];
  for (let round = 0; pending.length > 0 && round < 600; round++) {
    const still: string[] = [];
    for (const id of pending) {
      const row = (await (await fetch(`${url}/v1/executions/${id}`, { headers })).json()) as { status: string };
      if (row.status === "COMPLETED") continue;
      if (["FAILED", "CANCELLED", "EXPIRED"].includes(row.status)) wrong++;
      else still.push(id);
    }
    pending = still;
    if (pending.length) await Bun.sleep(100);
  }
  const seconds = (performance.now() - started) / 1000;
  await stop(server);
  server = null;
  const after = bytesByObject(databasePath(dataDir));
  const completed = ids.length - pending.length;
  const growth = growthByObject(before, after);
  const total = growth.reduce((sum, r) => sum + r.bytes, 0);
  console.log(`storage: ${fmtInt(completed)} completed mock-chat executions (${fmtInt(N)} created, ${fmt(seconds, 1)} s); database growth by table and index:`);
  for (const r of growth) console.log(`  ${r.name.padEnd(36)} ${fmtInt(r.bytes).padStart(14)} bytes  ${fmt(r.bytes / completed, 0).padStart(6)} B/execution`);
  const perExecution = total / completed;
  console.log(`  ${"total".padEnd(36)} ${fmtInt(total).padStart(14)} bytes  ${fmt(perExecution, 0).padStart(6)} B/execution`);
  console.log(`goal: at most ${GOAL_BYTES} bytes of database per completed small execution (${fmt(perExecution, 0)}) -> ${perExecution <= GOAL_BYTES ? "met" : "NOT met"}`);
  console.log(JSON.stringify({ bench: "storage", executions: completed, bytes_per_execution: Math.round(perExecution), by_object: Object.fromEntries(growth.map((r) => [r.name, Math.round(r.bytes / completed)])) }));
  if (wrong > 0 || pending.length > 0) {
    console.log(`!!! ${wrong} executions did not complete, ${pending.length} never ended: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
} finally {
  if (server) await stop(server);
  rmSync(dataDir, { recursive: true, force: true });
}
