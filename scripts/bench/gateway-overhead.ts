#!/usr/bin/env bun
/**
 * Gateway overhead, printed figures, not a test: how much time ModelRoute adds over calling an
 * OpenAI-compatible upstream directly, on its own API: SYNC executions (`Prefer: wait=30` on
 * POST /v1/executions). The upstream, the gateway and the load generator are lib.ts's (an
 * instant upstream, metering on, the gateway pinned to a core of its own where taskset exists).
 * At concurrency 1 and --concurrency-high, closed-loop keep-alive workers measure for --seconds
 * each (after 0.5 s of warm-up): direct calls to the upstream, and SYNC executions through the
 * gateway, every answer checked (200, COMPLETED, the upstream's text). Prints p50/p99 and req/s
 * of both, the added latency (gateway − direct) and the gateway/direct ratios.
 * Goal: the gateway adds under 5 ms at p50 at concurrency 1.
 *
 *   bun scripts/bench/gateway-overhead.ts [--seconds 3] [--concurrency-high 64] [--no-pin]
 */
import { benchArgs, checkedProbe, completionProbe, fmt, measure, parsed, post, row, signed, startGateway, WARMUP_MS, wrongLines } from "./lib";

const { seconds: SECONDS, high: HIGH, pin } = benchArgs();
const GOAL_ADDED_P50_MS = 5;

const gateway = await startGateway("overhead", pin);
let wrongTotal = 0;
try {
  const messages = [{ role: "user", content: "hello" }];
  const direct = completionProbe("direct", post(`${gateway.upstreamUrl}/v1/chat/completions`, {}, { model: "bench", messages }));
  const sync = post(`${gateway.server.url}/v1/executions`, { authorization: `Bearer ${gateway.apiKey}`, prefer: "wait=30" }, { model: "bench-chat", input: { messages } });
  const viaGateway = checkedProbe(sync, (status, text) => {
    const body = parsed<{ status?: string; output?: { text?: string }; error?: unknown }>(text);
    if (status !== 200 || body?.status !== "COMPLETED") return `gateway: HTTP ${status} status ${body?.status ?? "?"} error ${JSON.stringify(body?.error ?? text.slice(0, 300))}`;
    if (body.output?.text !== "hi") return `gateway: COMPLETED but output.text is ${JSON.stringify(body.output?.text)}`;
    return null;
  });

  console.log(`gateway overhead (SYNC executions): ${SECONDS} s per run after ${WARMUP_MS} ms warm-up; added = gateway − direct`);
  console.log(`  (${gateway.setting})`);
  let goal = "";
  for (const concurrency of [1, HIGH]) {
    const d = await measure(direct, concurrency, SECONDS);
    const { g, note } = await gateway.throughGateway(viaGateway, concurrency, SECONDS);
    wrongTotal += d.wrong + g.wrong;
    const [ds, gs] = [d.stats[0]!, g.stats[0]!];
    console.log(`concurrency ${concurrency}:`);
    console.log(row("direct: ", d));
    console.log(row("gateway:", g));
    console.log(`  added:   p50 ${signed(gs.p50 - ds.p50)} ms, p99 ${signed(gs.p99 - ds.p99)} ms`);
    console.log(`  ratio gateway/direct: p50 ${fmt(gs.p50 / ds.p50)}x, throughput ${fmt(g.rps / d.rps)}x`);
    console.log(note);
    for (const line of wrongLines(d, g)) console.log(line);
    if (concurrency === 1) goal = `goal: added p50 under ${GOAL_ADDED_P50_MS} ms at concurrency 1 -> ${gs.p50 - ds.p50 < GOAL_ADDED_P50_MS ? "met" : "MISSED"}`;
  }
  console.log(goal);
  if (wrongTotal > 0) {
    console.log(`!!! ${wrongTotal} WRONG ANSWERS: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
} finally {
  await gateway.close();
}
