/**
 * Executions benchmark, printed figures, not a test:
 *  - ASYNC creates/s and create→COMPLETED/s with the zero-latency mock (goal ≥ 5 000/s);
 *  - SYNC round trip p50/p99;
 *  - GET /result p50 with 10 k and with 1 M executions in the table (goal < 1 ms, flat).
 * The server runs in its own process (bun src/main.ts) so it has a core to itself; the load
 * comes from this process over keep-alive HTTP on 127.0.0.1.
 *
 * Usage: bun scripts/bench/executions.ts [--seconds 5] [--concurrency 64] [--rows 1000000]
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnServer } from "../../test/helpers/process";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "5" }, concurrency: { type: "string", default: "64" }, rows: { type: "string", default: "1000000" } },
});
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const BIG = Number(values.rows);

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

async function withServer<T>(env: Record<string, string>, prepare: ((dataDir: string) => void) | null, run: (url: string, key: string, dataDir: string) => Promise<T>) {
  const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-"));
  // First start creates the schema and the bootstrap key; prepare() may then add rows.
  let server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0", ...env });
  if (prepare) {
    server.proc.kill("SIGTERM");
    await server.exited;
    prepare(dataDir);
    server = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0", ...env });
  }
  const key = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
  try {
    return await run(server.url, key, dataDir);
  } finally {
    server.proc.kill("SIGTERM");
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function asyncCreates(url: string, key: string, dataDir: string) {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const body = JSON.stringify({ model: "demo-model", input: { text: "hello benchmark" } });
  let created = 0;
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) {
        const res = await fetch(`${url}/v1/executions`, { method: "POST", headers, body });
        await res.arrayBuffer();
        if (res.status === 202) created++;
        else errors++;
      }
    }),
  );
  const createSeconds = (performance.now() - started) / 1000;
  const db = new Database(join(dataDir, "modelroute.db"), { readonly: true });
  const count = () => (db.query("SELECT count(*) AS n FROM executions WHERE status IN ('COMPLETED','FAILED')").get() as { n: number }).n;
  while (count() < created) await Bun.sleep(20);
  const allDoneSeconds = (performance.now() - started) / 1000;
  db.close();
  return { created, errors, createsPerSecond: created / createSeconds, completedPerSecond: created / allDoneSeconds };
}

async function syncRoundTrips(url: string, key: string) {
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const body = JSON.stringify({ model: "demo-model", mode: "SYNC", input: { text: "hello" } });
  const times: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/executions`, { method: "POST", headers, body });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** Inserts finished executions straight into SQLite (for the /result lookups). */
function seedRows(count: number) {
  return (dataDir: string) => {
    const db = new Database(join(dataDir, "modelroute.db"));
    const org = (db.query("SELECT id FROM orgs LIMIT 1").get() as { id: string }).id;
    const insert = db.prepare(
      `INSERT INTO executions (id, org_id, model, status, mode, input, output, usage, cost_micros, hold_micros, metadata, created_at, started_at, completed_at)
       VALUES (?, ?, 'demo-model', 'COMPLETED', 'ASYNC', '{"text":"x"}', '{"text":"y"}', '{"inputTokens":1,"outputTokens":1}', 1, 1, '{}', ?, ?, ?)`,
    );
    const now = Date.now();
    db.transaction(() => {
      for (let i = 0; i < count; i++) insert.run(`exec_${Bun.randomUUIDv7()}`, org, now, now, now + 5);
    })();
    db.close();
  };
}

async function resultLatency(url: string, key: string, dataDir: string) {
  const db = new Database(join(dataDir, "modelroute.db"), { readonly: true });
  const ids = (db.query("SELECT id FROM executions ORDER BY random() LIMIT 2000").all() as { id: string }[]).map((r) => r.id);
  db.close();
  const headers = { authorization: `Bearer ${key}` };
  const times: number[] = [];
  for (const id of ids) {
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/executions/${id}/result`, { headers });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET /result answered ${res.status}`);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

console.log(`executions benchmark: ${SECONDS}s runs, ${CONCURRENCY} concurrent clients, bun ${Bun.version}`);
const creates = await withServer({}, null, asyncCreates);
console.log(`ASYNC creates:        ${fmt(creates.createsPerSecond)}/s (${creates.created} created, ${creates.errors} errors)`);
console.log(`create → COMPLETED:   ${fmt(creates.completedPerSecond)}/s`);
const sync = await withServer({}, null, syncRoundTrips);
console.log(`SYNC round trip:      p50 ${fmt(sync.p50)} ms, p99 ${fmt(sync.p99)} ms (sequential)`);
const small = await withServer({}, seedRows(10_000), resultLatency);
console.log(`GET /result, 10k rows: p50 ${fmt(small.p50)} ms, p99 ${fmt(small.p99)} ms`);
const big = await withServer({}, seedRows(BIG), resultLatency);
console.log(`GET /result, ${fmt(BIG)} rows: p50 ${fmt(big.p50)} ms, p99 ${fmt(big.p99)} ms`);
