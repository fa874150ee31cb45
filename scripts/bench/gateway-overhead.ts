#!/usr/bin/env bun
/**
 * Gateway overhead, printed figures, not a test: how much time ModelRoute adds over calling an
 * OpenAI-compatible upstream directly. A minimal upstream (Bun.serve in a child process, so it
 * does not share an event loop with the load) answers POST /v1/chat/completions at once with a
 * fixed chat.completion; the gateway (`bun src/main.ts serve`, its own process) gets a model
 * `bench-chat` routed to it through PUT /admin/v1/catalog. Then, at concurrency 1 and
 * --concurrency-high, closed-loop keep-alive workers measure for --seconds each (after 0.5 s of
 * warm-up): direct calls to the upstream, and SYNC executions (`Prefer: wait=30`) through the
 * gateway, every answer checked (200, COMPLETED, the upstream's text). Prints p50/p99 and req/s
 * of both, the added latency (gateway − direct) and the gateway/direct ratios.
 * Goal: the gateway adds under 5 ms at p50 at concurrency 1.
 *
 *   bun scripts/bench/gateway-overhead.ts [--seconds 3] [--concurrency-high 64]
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
const GOAL_ADDED_P50_MS = 5;

if (values.upstream) {
  // The upstream process: a fixed chat.completion, answered at once; GET /_count tells how many it served.
  const answer = JSON.stringify({
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: "bench",
    choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  });
  let served = 0;
  Bun.serve({
    hostname: "127.0.0.1",
    port: Number(values.upstream),
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === "POST" && path === "/v1/chat/completions") {
        served++;
        return new Response(answer, { headers: { "content-type": "application/json" } });
      }
      if (path === "/_count") return Response.json({ served });
      return new Response("not found", { status: 404 });
    },
  });
  await new Promise(() => {}); // served until killed
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });

type Check = (res: Response) => Promise<string | null>; // null when the answer is right, else what was wrong
type Run = { n: number; sent: number; p50: number; p99: number; max: number; rps: number; wrong: number; samples: string[] };

/** `concurrency` closed-loop workers, each sending its next request once the last one answered. */
async function load(url: string, init: RequestInit, check: Check, concurrency: number, ms: number, record: boolean): Promise<Run> {
  const times: number[] = [];
  const samples: string[] = [];
  let wrong = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        let problem: string | null;
        try {
          problem = await check(await fetch(url, init));
        } catch (error) {
          problem = `fetch failed: ${(error as Error).message}`;
        }
        const took = performance.now() - t0;
        sent++;
        if (!record) continue;
        times.push(took);
        if (problem !== null) {
          wrong++;
          if (samples.length < 5) samples.push(problem);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  times.sort((a, b) => a - b);
  const at = (p: number) => (times.length ? percentile(times, p) : NaN);
  return { n: times.length, sent, p50: at(50), p99: at(99), max: at(100), rps: times.length / seconds, wrong, samples };
}

async function measure(url: string, init: RequestInit, check: Check, concurrency: number): Promise<Run> {
  const warm = await load(url, init, check, concurrency, WARMUP_MS, false);
  const run = await load(url, init, check, concurrency, SECONDS * 1000, true);
  return { ...run, sent: warm.sent + run.sent };
}

const directCheck: Check = async (res) => {
  const body = (await res.json().catch(() => null)) as { choices?: { message?: { content?: string } }[] } | null;
  if (res.status !== 200 || body?.choices?.[0]?.message?.content !== "hi") return `direct: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`;
  return null;
};

const gatewayCheck: Check = async (res) => {
  const text = await res.text();
  let body: { status?: string; output?: { text?: string }; error?: unknown } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (res.status !== 200 || body?.status !== "COMPLETED") return `gateway: HTTP ${res.status} status ${body?.status ?? "?"} error ${JSON.stringify(body?.error ?? text.slice(0, 300))}`;
  if (body.output?.text !== "hi") return `gateway: COMPLETED but output.text is ${JSON.stringify(body.output?.text)}`;
  return null;
};

const upstreamPort = await freePort();
const upstream = Bun.spawn([process.execPath, import.meta.path, "--upstream", String(upstreamPort)], { stdout: "inherit", stderr: "inherit" });
const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-overhead-"));
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

  const direct: [string, RequestInit] = [
    `${upstreamUrl}/v1/chat/completions`,
    { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "bench", messages: [{ role: "user", content: "hello" }] }) },
  ];
  const gateway: [string, RequestInit] = [
    `${server.url}/v1/executions`,
    {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", prefer: "wait=30" },
      body: JSON.stringify({ model: "bench-chat", input: { messages: [{ role: "user", content: "hello" }] } }),
    },
  ];
  const served = async () => ((await (await fetch(`${upstreamUrl}/_count`)).json()) as { served: number }).served;

  console.log(`gateway overhead: ${SECONDS} s per run after ${WARMUP_MS} ms warm-up, ${availableParallelism()} cores, bun ${Bun.version}`);
  console.log(`  (load generator, gateway and upstream are 3 processes sharing these cores)`);
  let goal = "";
  for (const concurrency of [1, HIGH]) {
    const d = await measure(...direct, directCheck, concurrency);
    const before = await served();
    const g = await measure(...gateway, gatewayCheck, concurrency);
    const upstreamCalls = (await served()) - before;
    wrongTotal += d.wrong + g.wrong;
    const row = (name: string, r: Run) =>
      `  ${name} p50 ${fmt(r.p50)} ms, p99 ${fmt(r.p99)} ms, max ${fmt(r.max)} ms, ${fmt(r.rps)} req/s (${r.n} requests, ${r.wrong} wrong)`;
    console.log(`concurrency ${concurrency}:`);
    console.log(row("direct: ", d));
    console.log(row("gateway:", g));
    console.log(`  added:   p50 +${fmt(g.p50 - d.p50)} ms, p99 +${fmt(g.p99 - d.p99)} ms`);
    console.log(`  ratio gateway/direct: p50 ${fmt(g.p50 / d.p50)}x, throughput ${fmt(g.rps / d.rps)}x`);
    console.log(`  upstream calls for the gateway's ${g.sent} executions (warm-up included): ${upstreamCalls}${upstreamCalls === g.sent ? "" : "  <- NOT ONE EACH"}`);
    for (const s of [...d.samples, ...g.samples]) console.log(`  WRONG ANSWER: ${s}`);
    if (concurrency === 1) goal = `goal: added p50 under ${GOAL_ADDED_P50_MS} ms at concurrency 1 -> ${g.p50 - d.p50 < GOAL_ADDED_P50_MS ? "met" : "MISSED"}`;
  }
  console.log(goal);
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
