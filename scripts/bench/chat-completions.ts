#!/usr/bin/env bun
/**
 * OpenAI-compatible surface, printed figures, not a test: what `POST /v1/chat/completions`
 * through ModelRoute costs over calling the same OpenAI-compatible upstream directly, in the
 * same run, and over a bare pass-through proxy (Bun.serve forwarding to the same upstream, no
 * auth, no metering: the floor of any gateway on this stack). The upstream, the gateway, the
 * bare proxy and the load generator are lib.ts's (an instant upstream, metering on, the gateway
 * and the bare proxy pinned to a core of their own where taskset exists). Closed-loop keep-alive
 * workers measure for --seconds each (after 0.5 s of warm-up):
 *   1. non-streamed, at concurrency 1 and --concurrency-high: p50/p99, req/s, added latency
 *      (gateway − direct, bare proxy − direct) and ratios;
 *   2. streamed, at concurrency 1: time to the first chunk of the response body (the first
 *      read of `res.body.getReader()`), also time to the first content ("hi") and to the end;
 *   3. requests/s at --concurrency-high of the gateway beside the bare proxy's and the upstream's.
 * Every answer is checked (status, content "hi"; for streams the role chunk, the content, the
 * finish reason and `[DONE]`); wrong answers are printed and make the exit code 1.
 * Goals: at concurrency 1, added p50 under 0.15 ms and added p99 under 1 ms (non-streamed); the
 * first byte of a stream delayed by under 1 ms (p50); at --concurrency-high, at least 70 % of the
 * bare proxy's requests/s.
 *
 *   bun scripts/bench/chat-completions.ts [--seconds 3] [--concurrency-high 64] [--no-pin]
 */
import { benchArgs, completionProbe, fmt, fmtInt, measure, post, row, signed, startGateway, streamProbe, WARMUP_MS, wrongLines, type Probe, type Run, type Stat } from "./lib";

const { seconds: SECONDS, high: HIGH, pin } = benchArgs();
const GOAL_ADDED_P50_MS = 0.15;
const GOAL_ADDED_P99_MS = 1;
const GOAL_FIRST_BYTE_MS = 1;
const GOAL_BARE_SHARE = 0.7;

const gateway = await startGateway("chat", pin);
const { apiKey, server, upstreamUrl } = gateway;
const throughGateway = (probe: Probe, concurrency: number) => gateway.throughGateway(probe, concurrency, SECONDS);
let wrongTotal = 0;
try {
  const messages = [{ role: "user", content: "hello" }];
  const auth = { authorization: `Bearer ${apiKey}` };
  const directUrl = `${upstreamUrl}/v1/chat/completions`;
  const gatewayUrl = `${server.url}/v1/chat/completions`;
  const bareUrl = `${gateway.bareProxyUrl}/v1/chat/completions`;
  const directPlain = completionProbe("direct", post(directUrl, {}, { model: "bench", messages }));
  const barePlain = completionProbe("bare proxy", post(bareUrl, {}, { model: "bench", messages }));
  const bareStream = streamProbe("bare proxy stream", post(bareUrl, {}, { model: "bench", messages, stream: true }));
  const gatewayPlain = completionProbe("gateway", post(gatewayUrl, auth, { model: "bench-chat", messages }));
  const directStream = streamProbe("direct stream", post(directUrl, {}, { model: "bench", messages, stream: true }));
  const gatewayStream = streamProbe("gateway stream", post(gatewayUrl, auth, { model: "bench-chat", messages, stream: true }));

  console.log(`chat completions (OpenAI-compatible surface): ${SECONDS} s per run after ${WARMUP_MS} ms warm-up; added = gateway − direct`);
  console.log(`  (${gateway.setting})`);

  // 1. Non-streamed.
  const goals: string[] = [];
  const plain = new Map<number, { d: Run; b: Run; g: Run }>();
  for (const concurrency of [1, HIGH]) {
    const d = await measure(directPlain, concurrency, SECONDS);
    const b = await measure(barePlain, concurrency, SECONDS);
    const { g, note } = await throughGateway(gatewayPlain, concurrency);
    plain.set(concurrency, { d, b, g });
    wrongTotal += d.wrong + b.wrong + g.wrong;
    const [ds, bs, gs] = [d.stats[0]!, b.stats[0]!, g.stats[0]!];
    console.log(`non-streamed, concurrency ${concurrency}:`);
    console.log(row("direct: ", d));
    console.log(row("bare:   ", b));
    console.log(row("gateway:", g));
    console.log(`  added over direct: gateway p50 ${signed(gs.p50 - ds.p50)} ms, p99 ${signed(gs.p99 - ds.p99)} ms; bare proxy p50 ${signed(bs.p50 - ds.p50)} ms, p99 ${signed(bs.p99 - ds.p99)} ms`);
    console.log(`  gateway over the bare proxy: p50 ${signed(gs.p50 - bs.p50)} ms, p99 ${signed(gs.p99 - bs.p99)} ms, throughput ${fmt(g.rps / b.rps)}x`);
    console.log(`  ratio gateway/direct: p50 ${fmt(gs.p50 / ds.p50)}x, p99 ${fmt(gs.p99 / ds.p99)}x, throughput ${fmt(g.rps / d.rps)}x`);
    console.log(note);
    for (const line of wrongLines(d, b, g)) console.log(line);
    if (concurrency === 1) {
      const p50 = gs.p50 - ds.p50;
      const p99 = gs.p99 - ds.p99;
      goals.push(`goal: non-streamed added p50 under ${GOAL_ADDED_P50_MS} ms at concurrency 1 (${signed(p50)} ms; the bare proxy alone adds ${signed(bs.p50 - ds.p50)} ms) -> ${p50 < GOAL_ADDED_P50_MS ? "met" : "NOT met"}`);
      goals.push(`goal: non-streamed added p99 under ${GOAL_ADDED_P99_MS} ms at concurrency 1 (${signed(p99)} ms) -> ${p99 < GOAL_ADDED_P99_MS ? "met" : "NOT met"}`);
    }
  }

  // 2. Streamed, concurrency 1: [first byte, first content, end].
  {
    const d = await measure(directStream, 1, SECONDS);
    const b = await measure(bareStream, 1, SECONDS);
    const { g, note } = await throughGateway(gatewayStream, 1);
    wrongTotal += d.wrong + b.wrong + g.wrong;
    const stat = (r: Run, i: number): Stat => r.stats[i] ?? { p50: NaN, p99: NaN, max: NaN };
    console.log(`streamed (stream: true), concurrency 1:`);
    const labels = ["first byte", "first content", "whole stream"];
    labels.forEach((label, i) => {
      const [ds, bs, gs] = [stat(d, i), stat(b, i), stat(g, i)];
      console.log(`  ${label}:`);
      console.log(row("  direct: ", d, ds));
      console.log(row("  bare:   ", b, bs));
      console.log(row("  gateway:", g, gs));
      console.log(`    added over direct: gateway p50 ${signed(gs.p50 - ds.p50)} ms, p99 ${signed(gs.p99 - ds.p99)} ms; bare proxy p50 ${signed(bs.p50 - ds.p50)} ms`);
    });
    console.log(note);
    for (const line of wrongLines(d, b, g)) console.log(line);
    const added = stat(g, 0).p50 - stat(d, 0).p50;
    const added99 = stat(g, 0).p99 - stat(d, 0).p99;
    goals.push(`goal: streamed first byte delayed under ${GOAL_FIRST_BYTE_MS} ms at p50 (${signed(added)} ms; p99 ${signed(added99)} ms) -> ${added < GOAL_FIRST_BYTE_MS ? "met" : "NOT met"}`);
  }

  // 3. Throughput at HIGH.
  const high = plain.get(HIGH)!;
  console.log(`throughput at concurrency ${HIGH}, non-streamed (${gateway.setting}):`);
  console.log(`  gateway ${fmtInt(high.g.rps)} req/s vs bare proxy ${fmtInt(high.b.rps)} req/s (${fmt(high.g.rps / high.b.rps)}x) vs upstream alone ${fmtInt(high.d.rps)} req/s (${fmt(high.g.rps / high.d.rps)}x)`);
  const share = high.g.rps / high.b.rps;
  goals.push(`goal: at concurrency ${HIGH}, at least ${fmt(GOAL_BARE_SHARE * 100, 0)} % of the bare proxy's requests/s (${fmt(share * 100, 0)} %) -> ${share >= GOAL_BARE_SHARE ? "met" : "NOT met"}`);
  for (const goal of goals) console.log(goal);
  if (wrongTotal > 0) {
    console.log(`!!! ${wrongTotal} WRONG ANSWERS: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
} finally {
  await gateway.close();
}
