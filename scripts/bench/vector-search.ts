/**
 * Vector search benchmark, printed figures, not a test: one scope of N vectors (default 200,000
 * × 768 dimensions) in a real SQLite file, searched through the vectors service as `search` runs
 * use it. Prints, all from the same run:
 * - indexing throughput through the service (one transaction per item, as an index run writes)
 *   on the first --api-items items, and the bulk load of the rest;
 * - time to have the index ready after a restart: from the rows (graph built) and from the
 *   snapshot saved at the last build (loaded);
 * - top-10 search latency (p50, p99) on one core, against an exact brute-force scan of the same
 *   vectors measured in the same run, and recall@10 of the index against that exact scan;
 * - RSS with the index loaded.
 *
 * The data are unit vectors around 1,000 random centres (embeddings cluster by topic; uniformly
 * random 768-d vectors have no neighbours worth finding), queries drawn the same way.
 *
 * Usage: bun scripts/bench/vector-search.ts [--items 200000] [--dimensions 768] [--queries 200] [--api-items 5000]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AppContext } from "../../src/context";
import { migrate, openDatabase } from "../../src/db/client";
import { createLogger } from "../../src/log";
import { insertOrg } from "../../src/modules/orgs/store";
import * as Vectors from "../../src/modules/vectors/service";
import * as store from "../../src/modules/vectors/store";

const { values } = parseArgs({
  options: { items: { type: "string", default: "200000" }, dimensions: { type: "string", default: "768" }, queries: { type: "string", default: "200" }, "api-items": { type: "string", default: "5000" } },
});
const N = Number(values.items);
const D = Number(values.dimensions);
const Q = Number(values.queries);
const API_ITEMS = Math.min(N, Number(values["api-items"]));
const K = 10;

let seed = 42;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const gauss = () => Math.sqrt(-2 * Math.log(random() || 1e-12)) * Math.cos(2 * Math.PI * random());
const centres = Array.from({ length: 1000 }, () => Float32Array.from({ length: D }, gauss));
function sample(): Float32Array {
  const c = centres[Math.floor(random() * centres.length)]!;
  const v = new Float32Array(D);
  let n = 0;
  for (let i = 0; i < D; i++) n += (v[i] = c[i]! + 0.8 * gauss()) ** 2;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < D; i++) v[i]! *= s;
  return v;
}

const dir = mkdtempSync(join(tmpdir(), "modelroute-vector-bench-"));
const handle = openDatabase(dir);
migrate(handle);
const orgId = "org_01932c5e-7a1b-7000-8000-0000000be7c4";
insertOrg(handle.db, { id: orgId, name: "bench", createdAt: Date.now() });
const contextAt = () => ({ db: handle.db, config: { dataDir: dir }, log: createLogger("silent"), clock: { now: () => Date.now() } }) as unknown as AppContext;
const key = { orgId, model: "bench-embed", scope: "bench" };
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const ms = (t0: number) => performance.now() - t0;

console.log(`vector-search: ${N} items × ${D} dimensions, ${Q} queries, top-${K}`);
const all = new Float32Array(N * D);
for (let i = 0; i < N; i++) all.set(sample(), i * D);
const queries = Array.from({ length: Q }, sample);

// 1. Indexing through the service: one transaction per item, as an index run writes.
let ctx = contextAt();
let t0 = performance.now();
for (let i = 0; i < API_ITEMS; i++) {
  const upsert = await Vectors.prepareUpsert(ctx, key, D);
  const vector = all.subarray(i * D, (i + 1) * D);
  const done = handle.db.transaction((tx) => upsert(tx, { itemId: `item-${i}`, vector, metadata: { n: i % 10 }, inputRef: { text: `item ${i}` }, runId: "exec_bench" }, Date.now()));
  done.apply();
}
const apiRate = API_ITEMS / (ms(t0) / 1000);
console.log(`index through the service: ${apiRate.toFixed(0)} items/s (${API_ITEMS} items, the scope moves to the graph at ${Vectors.EXACT_MAX_ITEMS})`);

// The rest in bulk (rows only), then the index is built as at a restart.
t0 = performance.now();
for (let start = API_ITEMS; start < N; start += 5000) {
  const end = Math.min(N, start + 5000);
  handle.db.transaction((tx) => {
    for (let i = start; i < end; i++)
      store.upsertItem(tx, { ...key, itemId: `item-${i}`, vector: Vectors.toBlob(all.subarray(i * D, (i + 1) * D)), metadata: { n: i % 10 }, inputRef: {}, runId: "exec_bench", createdAt: 0, updatedAt: 0 });
    store.touchScope(tx, key, D, end - start, Bun.randomUUIDv7(), Date.now());
  });
}
if (N > API_ITEMS) console.log(`bulk rows written: ${N - API_ITEMS} in ${(ms(t0) / 1000).toFixed(1)} s`);

// 2. Ready after a restart: a fresh context has nothing loaded.
ctx = contextAt();
t0 = performance.now();
await Vectors.search(ctx, key, queries[0]!, K, undefined);
const buildMs = ms(t0);
console.log(`ready after restart, built from the rows: ${(buildMs / 1000).toFixed(2)} s (${(N / (buildMs / 1000)).toFixed(0)} items/s into the graph, all cores)`);
ctx = contextAt();
t0 = performance.now();
await Vectors.search(ctx, key, queries[0]!, K, undefined);
console.log(`ready after restart, from the snapshot: ${(ms(t0) / 1000).toFixed(2)} s`);

// 3. Search latency and recall against an exact scan of the same vectors.
const rowIds: number[] = [];
const unitMatrix = new Float32Array(N * D);
for (let after = 0, i = 0; ; ) {
  const rows = store.vectorBatch(handle.db, key, after, 10_000);
  if (rows.length === 0) break;
  for (const r of rows) {
    unitMatrix.set(Vectors.fromBlob(r.vector), i++ * D);
    rowIds.push(r.rowId);
  }
  after = rows[rows.length - 1]!.rowId;
}
const idOfRow = new Map(rowIds.map((r, i) => [r, `item-${i}`]));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const annTimes: number[] = [];
const exactTimes: number[] = [];
let found = 0;
for (const q of queries) {
  t0 = performance.now();
  const hits = await Vectors.search(ctx, key, q, K, undefined);
  annTimes.push(ms(t0));
  t0 = performance.now();
  const truth = Vectors.exactTopK(q, rowIds, unitMatrix, rowIds.length, K);
  exactTimes.push(ms(t0));
  const want = new Set(truth.map((h) => idOfRow.get(h.key)));
  found += hits.filter((h) => want.has(h.item_id)).length;
}
const p50 = percentile(annTimes, 0.5);
const exactP50 = percentile(exactTimes, 0.5);
console.log(`search top-${K} (service, index + row lookup): p50 ${p50.toFixed(3)} ms, p99 ${percentile(annTimes, 0.99).toFixed(3)} ms`);
console.log(`exact brute-force scan, same vectors: p50 ${exactP50.toFixed(2)} ms, p99 ${percentile(exactTimes, 0.99).toFixed(2)} ms`);
console.log(`speed-up over brute force: ${(exactP50 / p50).toFixed(0)}×; recall@${K}: ${(found / (Q * K)).toFixed(4)}`);
const filtered: number[] = [];
for (const q of queries.slice(0, 50)) {
  t0 = performance.now();
  await Vectors.search(ctx, key, q, K, { n: 3 });
  filtered.push(ms(t0));
}
console.log(`filtered search (1 in 10 items match: metadata by SQL, then the graph searched wider or an exact scan): p50 ${percentile(filtered, 0.5).toFixed(1)} ms`);
console.log(`RSS with the index loaded (and the benchmark's own copies of the vectors, ${mb(all.byteLength * 2)}): ${mb(process.memoryUsage().rss)}`);
handle.client.close();
rmSync(dir, { recursive: true, force: true });
