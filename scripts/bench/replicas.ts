/**
 * Replicas benchmark, printed figures, not a test: ASYNC creates of the zero-latency mock spread
 * round-robin over 1, 2 and 3 replicas on one PostgreSQL (and S3, s3rver), beside the single
 * SQLite node, in one run. Prints executions/s through to COMPLETED (every one checked) and the
 * create p50/p99. Caveat: this machine has 2 cores shared by the replicas, PostgreSQL and the
 * load, so more replicas cannot mean more throughput here; what it shows is that nothing
 * serialises needlessly (the figures hold up as replicas are added on one org's balance row).
 *
 * Usage: bun scripts/bench/replicas.ts [--seconds 5] [--concurrency 32]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freshDatabase } from "../../test/helpers/postgres";
import { spawnServer, type ServerProcess } from "../../test/helpers/process";
import { s3Env, startS3rver } from "../../test/helpers/s3";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "32" } } });
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

type Figures = { target: string; executionsPerSecond: number; createP50Ms: number; createP99Ms: number; executions: number };

async function measure(target: string, replicas: ServerProcess[], key: string): Promise<Figures> {
  const body = JSON.stringify({ model: "mock-chat", mode: "ASYNC", input: { messages: [{ role: "user", content: "hi" }] } });
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const latencies: number[] = [];
  const ids: string[] = [];
  let next = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const replica = replicas[next++ % replicas.length]!;
        const t = performance.now();
        const res = await fetch(`${replica.url}/v1/executions`, { method: "POST", headers, body });
        latencies.push(performance.now() - t);
        if (res.status !== 202) throw new Error(`${target}: create answered ${res.status}: ${await res.text()}`);
        ids.push(((await res.json()) as { id: string }).id);
      }
    }),
  );
  // Every execution must be COMPLETED (a FAILED one is not a completed one): read each back.
  const check = replicas[0]!;
  for (let i = 0; i < ids.length; i++) {
    for (;;) {
      const row = (await (await fetch(`${check.url}/v1/executions/${ids[i]}`, { headers })).json()) as { status: string };
      if (row.status === "COMPLETED") break;
      if (row.status === "FAILED" || row.status === "CANCELLED" || row.status === "EXPIRED") throw new Error(`${target}: ${ids[i]} ended ${row.status}`);
      await Bun.sleep(5);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { target, executionsPerSecond: ids.length / elapsed, createP50Ms: percentile(latencies, 50), createP99Ms: percentile(latencies, 99), executions: ids.length };
}

const keyOf = (dataDir: string) => JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key as string;
const common = { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_LOG_LEVEL: "warn" };

const results: Figures[] = [];
{
  const dir = mkdtempSync(join(tmpdir(), "modelroute-bench-"));
  const node = await spawnServer(dir, common);
  try {
    await measure("warm-up", [node], keyOf(dir));
    results.push(await measure("SQLite, one node", [node], keyOf(dir)));
  } finally {
    node.proc.kill("SIGTERM");
    await node.exited;
  }
}
const s3 = await startS3rver("modelroute-bench");
try {
  for (const count of [1, 2, 3]) {
    const env = { ...common, ...s3Env(s3), MODELROUTE_DATABASE_URL: await freshDatabase() };
    const dirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), "modelroute-bench-")));
    const replicas: ServerProcess[] = [];
    for (const dir of dirs) replicas.push(await spawnServer(dir, env));
    try {
      const key = keyOf(dirs[0]!);
      await measure("warm-up", replicas, key);
      results.push(await measure(`PostgreSQL, ${count} replica${count > 1 ? "s" : ""}`, replicas, key));
    } finally {
      for (const r of replicas) r.proc.kill("SIGTERM");
      await Promise.all(replicas.map((r) => r.exited));
    }
  }
} finally {
  await s3.stop();
}

const single = results[0]!.executionsPerSecond;
console.log(`\nASYNC create → COMPLETED, c=${CONCURRENCY}, ${SECONDS} s each (2 cores shared by everything: see the caveat above)\n`);
console.log("| target | executions/s | vs SQLite | create p50 | create p99 |");
console.log("|---|---|---|---|---|");
for (const r of results) console.log(`| ${r.target} | ${fmt(r.executionsPerSecond)} | ${fmt(r.executionsPerSecond / single)}× | ${fmt(r.createP50Ms)} ms | ${fmt(r.createP99Ms)} ms |`);
console.log(JSON.stringify({ bench: "replicas", concurrency: CONCURRENCY, seconds: SECONDS, results }));
process.exit(0);
