#!/usr/bin/env bun
/**
 * Batches, printed figures, not a test (lib.ts's instant upstream and gateway, pinned to one core
 * of its own where taskset exists):
 *   1. batch lines per second: a --lines OpenAI batch of chat completions, from create to
 *      `completed` (validation, one execution per line, output file), checked line by line;
 *   2. interactive chat completions at --concurrency while no batch runs, then while a large
 *      batch runs beside them (it must still be in progress at the end of the window): p50/p99
 *      of each and the p99 ratio, in the same run. Batch lines have a job kind of their own with
 *      MODELROUTE_BATCH_CONCURRENCY (16) slots, so interactive calls keep the other workers.
 *
 *   bun scripts/bench/batches.ts [--seconds 3] [--lines 5000] [--concurrency 4] [--no-pin]
 */
import { parseArgs } from "node:util";
import { completionProbe, fmt, fmtInt, measure, post, row, startGateway, wrongLines } from "./lib";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { seconds: { type: "string", default: "3" }, lines: { type: "string", default: "5000" }, concurrency: { type: "string", default: "4" }, "no-pin": { type: "boolean", default: false } },
});
const SECONDS = Number(values.seconds);
const LINES = Number(values.lines);
const CONCURRENCY = Number(values.concurrency);

const gateway = await startGateway("batches", !values["no-pin"]);
const base = gateway.server.url;
const auth = { authorization: `Bearer ${gateway.apiKey}` };
const api = async (path: string, init: RequestInit = {}): Promise<any> => (await fetch(`${base}${path}`, { ...init, headers: { ...auth, ...init.headers } })).json();

async function startBatch(lines: number) {
  const text = Array.from({ length: lines }, (_, i) =>
    JSON.stringify({ custom_id: `l${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "bench-chat", messages: [{ role: "user", content: `say hi ${i}` }] } }),
  ).join("\n");
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new File([text], "bench.jsonl"));
  const file = await api("/v1/files", { method: "POST", body: form });
  return api("/v1/batches", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
}

let failed = false;
try {
  console.log(`batches: ${gateway.setting}`);

  // 1. Throughput of batch lines.
  const t0 = performance.now();
  const created = await startBatch(LINES);
  let batch = created;
  while (!["completed", "failed", "cancelled", "expired"].includes(batch.status)) {
    await Bun.sleep(20);
    batch = await api(`/v1/batches/${created.id}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const output = (await (await fetch(`${base}/v1/files/${batch.output_file_id}/content`, { headers: { ...auth, accept: "application/binary" } })).text()).trim().split("\n").map((l) => JSON.parse(l));
  const right = output.filter((l) => l.response?.status_code === 200 && l.response.body.choices[0].message.content === "hi").length;
  console.log(`  batch of ${fmtInt(LINES)} lines: ${batch.status} in ${fmt(seconds)} s = ${fmtInt(LINES / seconds)} lines/s, ${right} right answers in the output file`);
  if (batch.status !== "completed" || right !== LINES) failed = true;

  // 2. Interactive latency without, then with, a batch running.
  const probe = completionProbe("gateway", post(`${base}/v1/chat/completions`, auth, { model: "bench-chat", messages: [{ role: "user", content: "say hi" }] }));
  const alone = await measure(probe, CONCURRENCY, SECONDS);
  const big = await startBatch(Math.max(LINES * 4, 20_000));
  const beside = await measure(probe, CONCURRENCY, SECONDS);
  const during = await api(`/v1/batches/${big.id}`);
  console.log(`  interactive chat completions at concurrency ${CONCURRENCY}:`);
  console.log(row("no batch      ", alone));
  console.log(row("beside a batch", beside));
  console.log(
    `  p99 beside a batch / alone: ${fmt(beside.stats[0]!.p99 / alone.stats[0]!.p99)}x; the batch was ${during.status} with ${fmtInt(during.request_counts.completed)} of ${fmtInt(during.request_counts.total)} lines done at the end of the window`,
  );
  if (during.status !== "in_progress") console.log("  NOTE: the batch ended inside the window; raise --lines for a fair comparison");
  for (const line of wrongLines(alone, beside)) console.log(line);
  if (alone.wrong || beside.wrong) failed = true;
  await api(`/v1/batches/${big.id}/cancel`, { method: "POST" });
} finally {
  await gateway.close();
}
process.exit(failed ? 1 : 0);
