#!/usr/bin/env bun
/**
 * The response cache (docs/cache.md), printed figures, not a test: `POST /v1/chat/completions`
 * through ModelRoute at concurrency 1 (lib.ts's gateway, an instant OpenAI-compatible upstream,
 * metering on), in the same run:
 *   1. a cache HIT: the same deterministic request (temperature 0) again and again, end to end;
 *   2. a MISS: a new deterministic request each time (the upstream answers, the cache stores it);
 *   3. the same new requests with `X-ModelRoute-Cache: bypass` (no lookup, nothing stored).
 * The cache's cost on a MISS is (2) − (3) at p50. Every answer is checked (status 200, content
 * "hi", the X-ModelRoute-Cache header expected: HIT, MISS, none); wrong answers are printed and
 * make the exit code 1, and the upstream must be called once per MISS and bypass, never per HIT.
 * Goals: a HIT under 0.2 ms p50; a MISS under 0.05 ms p50 over the bypassed request.
 *
 *   bun scripts/bench/cache.ts [--seconds 3] [--no-pin]
 */
import { benchArgs, fmt, measure, parsed, row, signed, startGateway, WARMUP_MS, wrongLines, type Probe } from "./lib";

const { seconds: SECONDS, pin } = benchArgs();
const GOAL_HIT_P50_MS = 0.2;
const GOAL_MISS_ADDED_P50_MS = 0.05;

/** A chat completion whose answer must be "hi" with the given X-ModelRoute-Cache header (null: none). */
const cacheProbe = (url: string, apiKey: string, who: string, body: () => unknown, expected: "HIT" | "MISS" | null, headers: Record<string, string> = {}): Probe => async () => {
  const init = { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body()) };
  const t0 = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = [performance.now() - t0];
  const content = parsed<{ choices?: { message?: { content?: string } }[] }>(text)?.choices?.[0]?.message?.content;
  const cache = res.headers.get("x-modelroute-cache");
  if (res.status !== 200 || content !== "hi") return { ms, problem: `${who}: HTTP ${res.status} ${text.slice(0, 300)}` };
  return { ms, problem: cache === expected ? null : `${who}: X-ModelRoute-Cache ${cache}, expected ${expected}` };
};

const gateway = await startGateway("cache", pin);
let wrong = 0;
try {
  const url = `${gateway.server.url}/v1/chat/completions`;
  let n = 0;
  const fresh = () => ({ model: "bench-chat", temperature: 0, messages: [{ role: "user", content: `hello ${n++}` }] });
  const repeated = { model: "bench-chat", temperature: 0, messages: [{ role: "user", content: "hello again" }] };
  // The repeated request is answered once, so every timed one is a hit.
  const first = await cacheProbe(url, gateway.apiKey, "first", () => repeated, "MISS")();
  if (first.problem) throw new Error(first.problem);

  console.log(`response cache, chat completions at concurrency 1: ${SECONDS} s per run after ${WARMUP_MS} ms warm-up`);
  console.log(`  (${gateway.setting})`);
  const before = await gateway.served();
  const hit = await measure(cacheProbe(url, gateway.apiKey, "hit", () => repeated, "HIT"), 1, SECONDS);
  const hitCalls = (await gateway.served()) - before;
  const miss = await gateway.throughGateway(cacheProbe(url, gateway.apiKey, "miss", fresh, "MISS"), 1, SECONDS);
  const bypass = await gateway.throughGateway(cacheProbe(url, gateway.apiKey, "bypass", fresh, null, { "x-modelroute-cache": "bypass" }), 1, SECONDS);
  wrong += hit.wrong + miss.g.wrong + bypass.g.wrong;
  console.log(row("HIT:            ", hit));
  console.log(`  upstream calls for the ${hit.sent} hits (warm-up included): ${hitCalls}${hitCalls === 0 ? "" : "  <- NOT NONE"}`);
  console.log(row("MISS:           ", miss.g));
  console.log(miss.note);
  console.log(row("bypassed:       ", bypass.g));
  console.log(bypass.note);
  const [h, m, b] = [hit.stats[0]!, miss.g.stats[0]!, bypass.g.stats[0]!];
  console.log(`  a HIT against a MISS: p50 ${fmt(h.p50 / m.p50)}x, p99 ${fmt(h.p99 / m.p99)}x`);
  console.log(`  the cache's cost on a MISS (MISS − bypassed): p50 ${signed(m.p50 - b.p50)} ms, p99 ${signed(m.p99 - b.p99)} ms`);
  for (const line of wrongLines(hit, miss.g, bypass.g)) console.log(line);
  console.log(`goal: a HIT under ${GOAL_HIT_P50_MS} ms p50 end to end (${fmt(h.p50, 3)} ms) -> ${h.p50 < GOAL_HIT_P50_MS ? "met" : "NOT met"}`);
  console.log(`goal: a MISS adds under ${GOAL_MISS_ADDED_P50_MS} ms p50 over the bypassed request (${signed(m.p50 - b.p50)} ms) -> ${m.p50 - b.p50 < GOAL_MISS_ADDED_P50_MS ? "met" : "NOT met"}`);
  if (hitCalls !== 0) wrong++;
  if (wrong > 0) {
    console.log(`!!! ${wrong} WRONG ANSWERS: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
} finally {
  await gateway.close();
}
