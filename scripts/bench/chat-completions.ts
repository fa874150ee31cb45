#!/usr/bin/env bun
/**
 * OpenAI-compatible surface, printed figures, not a test: what `POST /v1/chat/completions`
 * through ModelRoute costs over calling the same OpenAI-compatible upstream directly, in the
 * same run. A minimal upstream (Bun.serve in a child process, so it does not share an event loop
 * with the load) answers at once: a fixed chat.completion, or with `"stream": true` an SSE stream
 * (a role chunk, one content chunk "hi", a finish chunk with usage, `data: [DONE]`). The gateway
 * (`bun src/main.ts serve`, its own process) gets a model `bench-chat` routed to it through
 * PUT /admin/v1/catalog. Closed-loop keep-alive workers measure for --seconds each (after 0.5 s
 * of warm-up):
 *   1. non-streamed, at concurrency 1 and --concurrency-high: p50/p99, req/s, added latency
 *      (gateway − direct) and ratios;
 *   2. streamed, at concurrency 1: time to the first chunk of the response body (the first
 *      read of `res.body.getReader()`), also time to the first content ("hi") and to the end;
 *   3. requests/s at --concurrency-high of the gateway beside the upstream's own.
 * Every answer is checked (status, content "hi"; for streams the role chunk, the content, the
 * finish reason and `[DONE]`); wrong answers are printed and make the exit code 1.
 * Goals: at concurrency 1, added p50 under 0.15 ms and added p99 under 1 ms (non-streamed); the
 * first byte of a stream delayed by under 1 ms (p50).
 *
 *   bun scripts/bench/chat-completions.ts [--seconds 3] [--concurrency-high 64]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { freePort, spawnServer } from "../../test/helpers/process";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "3" },
    "concurrency-high": { type: "string", default: "64" },
    upstream: { type: "string" }, // internal: `--upstream PORT` runs the upstream process
  },
});
const SECONDS = Number(values.seconds);
const HIGH = Number(values["concurrency-high"]);
const WARMUP_MS = 500;
const GOAL_ADDED_P50_MS = 0.15;
const GOAL_ADDED_P99_MS = 1;
const GOAL_FIRST_BYTE_MS = 1;

if (values.upstream) {
  // The upstream process: answers at once, streamed when asked; GET /_count tells how many it served.
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
  const answer = JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created,
    model: "bench",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
    usage,
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
    new TextEncoder().encode(
      `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench", choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`,
    );
  const frames = [chunk({ role: "assistant", content: "" }, null), chunk({ content: "hi" }, null), chunk({}, "stop", { usage }), new TextEncoder().encode("data: [DONE]\n\n")];
  let served = 0;
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(values.upstream),
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/v1/chat/completions") {
        served++;
        const body = (await req.json().catch(() => null)) as { stream?: boolean } | null;
        if (body?.stream !== true) return new Response(answer, { headers: { "content-type": "application/json" } });
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const frame of frames) controller.enqueue(frame);
            controller.close();
          },
        });
        return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
      }
      if (path === "/_count") return Response.json({ served });
      return new Response("not found", { status: 404 });
    },
  });
  await new Promise(() => {}); // served until killed
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const fmtInt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const signed = (n: number, digits = 3) => `${n >= 0 ? "+" : ""}${fmt(n, digits)}`;

/** One request: its timings in ms (the first is the one the figures are about), and null when the answer is right, else what was wrong. */
type Attempt = { ms: number[]; problem: string | null };
type Probe = () => Promise<Attempt>;
type Stat = { p50: number; p99: number; max: number };
type Run = { n: number; sent: number; stats: Stat[]; rps: number; wrong: number; samples: string[] };

/** `concurrency` closed-loop workers, each sending its next request once the last one answered. */
async function load(probe: Probe, concurrency: number, ms: number, record: boolean): Promise<Run> {
  const times: number[][] = [];
  const samples: string[] = [];
  let wrong = 0;
  let sent = 0;
  let n = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        let attempt: Attempt;
        try {
          attempt = await probe();
        } catch (error) {
          attempt = { ms: [performance.now() - t0], problem: `fetch failed: ${(error as Error).message}` };
        }
        sent++;
        if (!record) continue;
        n++;
        attempt.ms.forEach((v, i) => (times[i] ??= []).push(v));
        if (attempt.problem !== null) {
          wrong++;
          if (samples.length < 5) samples.push(attempt.problem);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const stats = times.map((list) => {
    list.sort((a, b) => a - b);
    return { p50: percentile(list, 50), p99: percentile(list, 99), max: percentile(list, 100) };
  });
  return { n, sent, stats, rps: n / seconds, wrong, samples };
}

async function measure(probe: Probe, concurrency: number): Promise<Run> {
  const warm = await load(probe, concurrency, WARMUP_MS, false);
  const run = await load(probe, concurrency, SECONDS * 1000, true);
  return { ...run, sent: warm.sent + run.sent };
}

const post = (url: string, headers: Record<string, string>, body: unknown): [string, RequestInit] => [
  url,
  { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) },
];

/** A non-streamed call, timed to the end of its body: 200 and `choices[0].message.content === "hi"`. */
const completionProbe =
  (who: string, [url, init]: [string, RequestInit]): Probe =>
  async () => {
    const t0 = performance.now();
    const res = await fetch(url, init);
    const text = await res.text();
    const ms = [performance.now() - t0];
    let body: { choices?: { message?: { content?: string } }[] } | null = null;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: reported below
    }
    if (res.status !== 200 || body?.choices?.[0]?.message?.content !== "hi") return { ms, problem: `${who}: HTTP ${res.status} ${text.slice(0, 300)}` };
    return { ms, problem: null };
  };

/**
 * A streamed call, timed to the first chunk of the body, to the first content ("hi") and to the
 * end: 200, text/event-stream, a first chunk with role assistant, content "hi" in all, a
 * finish_reason "stop" and `data: [DONE]` last.
 */
const streamProbe =
  (who: string, [url, init]: [string, RequestInit]): Probe =>
  async () => {
    const t0 = performance.now();
    const res = await fetch(url, init);
    if (res.status !== 200 || !res.body) return { ms: [performance.now() - t0], problem: `${who}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}` };
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let firstByte = NaN;
    let firstContent = NaN;
    let text = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (Number.isNaN(firstByte)) firstByte = performance.now() - t0;
      text += decoder.decode(value, { stream: true });
      if (Number.isNaN(firstContent) && text.includes('"content":"hi"')) firstContent = performance.now() - t0;
    }
    const ms = [firstByte, firstContent, performance.now() - t0];
    const wrong = (why: string): Attempt => ({ ms, problem: `${who}: ${why}: ${JSON.stringify(text.slice(0, 300))}` });
    if (!res.headers.get("content-type")?.startsWith("text/event-stream")) return wrong(`content-type ${res.headers.get("content-type")}`);
    const data = text
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trim());
    if (data.at(-1) !== "[DONE]") return wrong("no data: [DONE] at the end");
    let chunks: { choices?: { delta?: { role?: string; content?: string | null }; finish_reason?: string | null }[] }[];
    try {
      chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    } catch {
      return wrong("a data line is not JSON");
    }
    if (chunks[0]?.choices?.[0]?.delta?.role !== "assistant") return wrong("the first chunk has no role assistant");
    const content = chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join("");
    if (content !== "hi") return wrong(`content is ${JSON.stringify(content)}`);
    if (!chunks.some((c) => c.choices?.[0]?.finish_reason === "stop")) return wrong("no finish_reason stop");
    if (Number.isNaN(firstContent)) return wrong("no chunk with content hi");
    return { ms, problem: null };
  };

const upstreamPort = await freePort();
const upstream = Bun.spawn([process.execPath, import.meta.path, "--upstream", String(upstreamPort)], { stdout: "inherit", stderr: "inherit" });
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-chat-"));
let server: Awaited<ReturnType<typeof spawnServer>> | null = null;
let wrongTotal = 0;
try {
  for (let i = 0; ; i++) {
    if (await fetch(`${upstreamUrl}/_count`).then((r) => r.ok, () => false)) break;
    if (i === 200 || upstream.exitCode !== null) throw new Error("the upstream process did not start");
    await Bun.sleep(25);
  }
  server = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_BOOTSTRAP_CREDIT: "1000000" });
  const { api_key: apiKey, admin_token: adminToken } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));

  const catalog = {
    providers: [{ id: "bench-upstream", kind: "openai", base_url: `${upstreamUrl}/v1` }],
    models: [
      {
        slug: "bench-chat",
        task: "chat",
        pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20" },
        routes: [{ provider: "bench-upstream", upstream_model: "bench", retries: 0 }],
      },
    ],
  };
  const applied = await fetch(`${server.url}/admin/v1/catalog`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(catalog),
  });
  if (applied.status !== 200) throw new Error(`PUT /admin/v1/catalog answered ${applied.status}: ${await applied.text()}`);
  await applied.arrayBuffer();

  const messages = [{ role: "user", content: "hello" }];
  const auth = { authorization: `Bearer ${apiKey}` };
  const directUrl = `${upstreamUrl}/v1/chat/completions`;
  const gatewayUrl = `${server.url}/v1/chat/completions`;
  const directPlain = completionProbe("direct", post(directUrl, {}, { model: "bench", messages }));
  const gatewayPlain = completionProbe("gateway", post(gatewayUrl, auth, { model: "bench-chat", messages }));
  const directStream = streamProbe("direct stream", post(directUrl, {}, { model: "bench", messages, stream: true }));
  const gatewayStream = streamProbe("gateway stream", post(gatewayUrl, auth, { model: "bench-chat", messages, stream: true }));
  const served = async () => ((await (await fetch(`${upstreamUrl}/_count`)).json()) as { served: number }).served;

  const cores = availableParallelism();
  console.log(`chat completions (OpenAI-compatible surface): ${SECONDS} s per run after ${WARMUP_MS} ms warm-up, ${cores} cores, bun ${Bun.version}`);
  console.log(`  (load generator, gateway and upstream are 3 processes sharing these ${cores} cores; added = gateway − direct)`);
  const row = (name: string, r: Run, s: Stat = r.stats[0]!) =>
    `  ${name} p50 ${fmt(s.p50, 3)} ms, p99 ${fmt(s.p99, 3)} ms, max ${fmt(s.max)} ms, ${fmtInt(r.rps)} req/s (${r.n} requests, ${r.wrong} wrong)`;
  /** Runs the gateway probe and checks it called the upstream exactly once per request. */
  const throughGateway = async (probe: Probe, concurrency: number) => {
    const before = await served();
    const g = await measure(probe, concurrency);
    const calls = (await served()) - before;
    const note = `  upstream calls for the gateway's ${g.sent} requests (warm-up included): ${calls}${calls === g.sent ? "" : "  <- NOT ONE EACH"}`;
    return { g, note };
  };
  const wrongLines = (...runs: Run[]) => runs.flatMap((r) => r.samples).map((s) => `  WRONG ANSWER: ${s}`);

  // 1. Non-streamed.
  const goals: string[] = [];
  const plain = new Map<number, { d: Run; g: Run }>();
  for (const concurrency of [1, HIGH]) {
    const d = await measure(directPlain, concurrency);
    const { g, note } = await throughGateway(gatewayPlain, concurrency);
    plain.set(concurrency, { d, g });
    wrongTotal += d.wrong + g.wrong;
    const [ds, gs] = [d.stats[0]!, g.stats[0]!];
    console.log(`non-streamed, concurrency ${concurrency}:`);
    console.log(row("direct: ", d));
    console.log(row("gateway:", g));
    console.log(`  added:   p50 ${signed(gs.p50 - ds.p50)} ms, p99 ${signed(gs.p99 - ds.p99)} ms`);
    console.log(`  ratio gateway/direct: p50 ${fmt(gs.p50 / ds.p50)}x, p99 ${fmt(gs.p99 / ds.p99)}x, throughput ${fmt(g.rps / d.rps)}x`);
    console.log(note);
    for (const line of wrongLines(d, g)) console.log(line);
    if (concurrency === 1) {
      const p50 = gs.p50 - ds.p50;
      const p99 = gs.p99 - ds.p99;
      goals.push(`goal: non-streamed added p50 under ${GOAL_ADDED_P50_MS} ms at concurrency 1 (${signed(p50)} ms) -> ${p50 < GOAL_ADDED_P50_MS ? "met" : "NOT met"}`);
      goals.push(`goal: non-streamed added p99 under ${GOAL_ADDED_P99_MS} ms at concurrency 1 (${signed(p99)} ms) -> ${p99 < GOAL_ADDED_P99_MS ? "met" : "NOT met"}`);
    }
  }

  // 2. Streamed, concurrency 1: [first byte, first content, end].
  {
    const d = await measure(directStream, 1);
    const { g, note } = await throughGateway(gatewayStream, 1);
    wrongTotal += d.wrong + g.wrong;
    const stat = (r: Run, i: number): Stat => r.stats[i] ?? { p50: NaN, p99: NaN, max: NaN };
    console.log(`streamed (stream: true), concurrency 1:`);
    const labels = ["first byte", "first content", "whole stream"];
    labels.forEach((label, i) => {
      const [ds, gs] = [stat(d, i), stat(g, i)];
      console.log(`  ${label}:`);
      console.log(row("  direct: ", d, ds));
      console.log(row("  gateway:", g, gs));
      console.log(`    added:   p50 ${signed(gs.p50 - ds.p50)} ms, p99 ${signed(gs.p99 - ds.p99)} ms`);
    });
    console.log(note);
    for (const line of wrongLines(d, g)) console.log(line);
    const added = stat(g, 0).p50 - stat(d, 0).p50;
    const added99 = stat(g, 0).p99 - stat(d, 0).p99;
    goals.push(`goal: streamed first byte delayed under ${GOAL_FIRST_BYTE_MS} ms at p50 (${signed(added)} ms; p99 ${signed(added99)} ms) -> ${added < GOAL_FIRST_BYTE_MS ? "met" : "NOT met"}`);
  }

  // 3. Throughput at HIGH.
  const high = plain.get(HIGH)!;
  console.log(`throughput at concurrency ${HIGH}, non-streamed, ${cores} cores shared by load generator, gateway and upstream:`);
  console.log(`  gateway ${fmtInt(high.g.rps)} req/s vs upstream alone ${fmtInt(high.d.rps)} req/s (${fmt(high.g.rps / high.d.rps)}x)`);
  for (const goal of goals) console.log(goal);
  if (wrongTotal > 0) {
    console.log(`!!! ${wrongTotal} WRONG ANSWERS: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
} finally {
  if (server) {
    server.proc.kill("SIGTERM");
    await server.exited;
  }
  upstream.kill("SIGTERM");
  await upstream.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
