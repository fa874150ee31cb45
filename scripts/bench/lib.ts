/**
 * What the gateway benchmarks share (not a benchmark itself: run-all.ts skips it):
 *  - a closed-loop keep-alive load generator with warm-up, per-timing percentiles and a check of
 *    every answer (`measure`, `Probe`);
 *  - a minimal OpenAI-compatible upstream (Bun.serve in a child process, so it does not share an
 *    event loop with the load) that answers POST /v1/chat/completions at once: a fixed
 *    chat.completion, or with `"stream": true` an SSE stream (a role chunk, one content chunk
 *    "hi", a finish chunk with usage, `data: [DONE]`); GET /_count tells how many it served;
 *  - the gateway (`bun src/main.ts serve`, its own process, metering on) with a model `bench-chat`
 *    routed to that upstream through PUT /admin/v1/catalog (`startGateway`);
 *  - pinning where `taskset` exists: the gateway alone on CPU 0, the upstream and the load
 *    generator on CPU 1, so "the gateway's requests/s" is what one core gives (`--no-pin` turns it off).
 *
 *  - a bare pass-through proxy (Bun.serve forwarding every request to the upstream and its
 *    answer back, streamed, with no auth and no metering): the floor of any gateway on this stack,
 *    measured in the same run (`bareProxyUrl`), pinned like the gateway.
 *  - the bytes of an SQLite file by table and index (`bytesByObject`, SQLite's dbstat) and their
 *    growth (`growthByObject`), for storage.ts and scale.ts.
 *
 * Each part is exported on its own too (`startUpstream`, `startBareProxy`, `applyBenchCatalog`,
 * `measureThrough`, `streamProbe`, `ensureBinary`), for overhead.ts, which runs the compiled
 * binary and the peers instead of `bun src/main.ts`.
 *
 * Run as `bun scripts/bench/lib.ts --upstream PORT` it is the upstream process; with
 * `--bare-proxy PORT --to URL` it is the bare proxy.
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { freePort, spawnServer, type ServerProcess } from "../../test/helpers/process";

/** Unrecorded load before each measurement; BENCH_WARMUP_MS shortens it for the smoke tests of the benchmarks. */
export const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 500);

/** Where `npm run build` writes the compiled binary. */
export const DEFAULT_BINARY = resolve(import.meta.dir, "../../dist/modelroute");

/** `binary` as an absolute path, built first with scripts/build.ts when it is the default one and missing; exits if the build fails. */
export function ensureBinary(given = DEFAULT_BINARY): string {
  const binary = resolve(given);
  if (existsSync(binary)) return binary;
  if (binary !== DEFAULT_BINARY) throw new Error(`no binary at ${binary}`);
  console.log("dist/modelroute is missing; building it first");
  const build = Bun.spawnSync([process.execPath, resolve(import.meta.dir, "../build.ts")], { stdout: "inherit", stderr: "inherit" });
  if (build.exitCode !== 0) process.exit(build.exitCode || 1);
  return binary;
}

/**
 * The SQL condition of an execution not ended yet, for benchmarks that read the database file to
 * see their executions end: the term of ModelRoute's partial index `executions_open`, word for
 * word, so the poll uses it.
 */
export const OPEN_EXECUTION = "status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK')";

/** A process's resident memory now and at its peak, in MiB (from /proc; Linux). */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** Bytes of pages in use per table and index of the SQLite file at `path` (SQLite's dbstat; free pages are not counted: they are reused). */
export function bytesByObject(path: string): Map<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.query("SELECT name, sum(pgsize - unused) AS used FROM dbstat GROUP BY name").all() as { name: string; used: number }[];
    return new Map(rows.map((r) => [r.name, r.used]));
  } finally {
    db.close();
  }
}

/** What each table and index grew by from `before` to `after` (bytesByObject), largest first, the unchanged left out. */
export function growthByObject(before: Map<string, number>, after: Map<string, number>): { name: string; bytes: number }[] {
  const growth = [...after.entries()].map(([name, bytes]) => ({ name, bytes: bytes - (before.get(name) ?? 0) })).filter((r) => r.bytes !== 0);
  return growth.sort((a, b) => b.bytes - a.bytes);
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
export const fmt = (n: number, digits = 2) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const fmtInt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
export const signed = (n: number, digits = 3) => `${n >= 0 ? "+" : ""}${fmt(n, digits)}`;

/** `--seconds`, `--concurrency-high` and `--no-pin`. */
export function benchArgs() {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: {
      seconds: { type: "string", default: "3" },
      "concurrency-high": { type: "string", default: "64" },
      "no-pin": { type: "boolean", default: false },
    },
  });
  return { seconds: Number(values.seconds), high: Number(values["concurrency-high"]), pin: !values["no-pin"] };
}

/** One request: its timings in ms (the first is the one the figures are about), and null when the answer is right, else what was wrong. */
export type Attempt = { ms: number[]; problem: string | null };
export type Probe = () => Promise<Attempt>;
export type Stat = { p50: number; p99: number; max: number };
export type Run = { n: number; sent: number; stats: Stat[]; rps: number; wrong: number; samples: string[] };

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

/** WARMUP_MS of unrecorded load, then `seconds` recorded; `sent` counts both. */
export async function measure(probe: Probe, concurrency: number, seconds: number): Promise<Run> {
  const warm = await load(probe, concurrency, WARMUP_MS, false);
  const run = await load(probe, concurrency, seconds * 1000, true);
  return { ...run, sent: warm.sent + run.sent };
}

export const post = (url: string, headers: Record<string, string>, body: unknown): [string, RequestInit] => [
  url,
  { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) },
];

/** `init`, given up on after `timeoutMs` when set (benchmarks of processes that may stall must stay bounded). */
const bounded = (init: RequestInit, timeoutMs?: number): RequestInit => (timeoutMs === undefined ? init : { ...init, signal: AbortSignal.timeout(timeoutMs) });

/** A call timed to the end of its body; `check` says what is wrong with the answer, or null. */
export const checkedProbe =
  ([url, init]: [string, RequestInit], check: (status: number, text: string) => string | null, timeoutMs?: number): Probe =>
  async () => {
    const t0 = performance.now();
    const res = await fetch(url, bounded(init, timeoutMs));
    const text = await res.text();
    return { ms: [performance.now() - t0], problem: check(res.status, text) };
  };

export const parsed = <T>(text: string): T | null => {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null; // not JSON: the check reports it
  }
};

/** A non-streamed chat completion: 200 and `choices[0].message.content === "hi"`. */
export const completionProbe = (who: string, request: [string, RequestInit], timeoutMs?: number): Probe =>
  checkedProbe(
    request,
    (status, text) => {
      const body = parsed<{ choices?: { message?: { content?: string } }[] }>(text);
      return status === 200 && body?.choices?.[0]?.message?.content === "hi" ? null : `${who}: HTTP ${status} ${text.slice(0, 300)}`;
    },
    timeoutMs,
  );

/**
 * A streamed call, timed to the first chunk of the body, to the first content ("hi") and to the
 * end: 200, text/event-stream, a first chunk with role assistant, content "hi" in all, a
 * finish_reason "stop" and `data: [DONE]` last.
 */
export const streamProbe =
  (who: string, [url, init]: [string, RequestInit], timeoutMs?: number): Probe =>
  async () => {
    const t0 = performance.now();
    const res = await fetch(url, bounded(init, timeoutMs));
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

export const row = (name: string, r: Run, s: Stat = r.stats[0]!) =>
  `  ${name} p50 ${fmt(s.p50, 3)} ms, p99 ${fmt(s.p99, 3)} ms, max ${fmt(s.max)} ms, ${fmtInt(r.rps)} req/s (${r.n} requests, ${r.wrong} wrong)`;

export const wrongLines = (...runs: Run[]) => runs.flatMap((r) => r.samples).map((s) => `  WRONG ANSWER: ${s}`);

/** The upstream process: answers at once, streamed when asked; GET /_count tells how many it served. */
async function runUpstream(port: number) {
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
    port,
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

/** The bare pass-through proxy process: what Bun itself costs to receive, forward and answer a request. */
async function runBareProxy(port: number, upstreamUrl: string) {
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const url = new URL(req.url);
      const upstream = await fetch(upstreamUrl + url.pathname + url.search, { method: req.method, headers: { "content-type": req.headers.get("content-type") ?? "application/json" }, body: req.body ? await req.arrayBuffer() : undefined });
      return new Response(upstream.body, { status: upstream.status, headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" } });
    },
  });
  await new Promise(() => {}); // served until killed
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { upstream: { type: "string" }, "bare-proxy": { type: "string" }, to: { type: "string" } } });
  if (values["bare-proxy"] && values.to) await runBareProxy(Number(values["bare-proxy"]), values.to);
  else if (values.upstream) await runUpstream(Number(values.upstream));
  else throw new Error("usage: bun scripts/bench/lib.ts --upstream PORT | --bare-proxy PORT --to URL (the benchmarks start them themselves)");
}

export const canPin = (pin: boolean) => pin && availableParallelism() >= 2 && Bun.which("taskset") !== null;
/** `cmd` prefixed with `taskset -c CPU` when pinning is possible. */
export const onCpu = (pin: boolean, cpu: number, cmd: string[]) => (canPin(pin) ? ["taskset", "-c", String(cpu), ...cmd] : cmd);
/** Moves this process (the load generator) to CPU 1, beside the upstream, leaving CPU 0 to what is measured. */
export const pinLoadToCpu1 = (pin: boolean) => {
  if (canPin(pin)) Bun.spawnSync(["taskset", "-a", "-cp", "1", String(process.pid)], { stdout: "ignore" });
};

/** A server started by timedStart: `startMs` is spawn → its first 200 on /healthz. */
export type TimedStart = { proc: Bun.Subprocess; url: string; startMs: number };

/**
 * Spawns `program serve` on `dataDir` and polls /healthz every 1 ms; resolves at the first 200.
 * The cold-start figure of startup.ts and scale.ts (a coarser poll would round it up).
 */
export async function timedStart(program: string[], dataDir: string, opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<TimedStart> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn([...program, "serve", "--data-dir", dataDir, "--port", String(port), "--log-level", "warn"], {
    cwd: opts.cwd,
    env: opts.env ?? { PATH: "/usr/bin:/bin", NODE_ENV: "production" },
    stdout: "ignore",
    stderr: "ignore",
  });
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`modelroute exited with ${proc.exitCode} before answering`);
    const ok = await fetch(`${url}/healthz`).then(
      (res) => res.status === 200,
      () => false, // connection refused: not listening yet
    );
    if (ok) return { proc, url, startMs: performance.now() - t0 };
    await Bun.sleep(1);
  }
}

/** SIGTERM, and the clean exit code 0 a timedStart server must give. */
export async function stopTimed(started: TimedStart) {
  started.proc.kill("SIGTERM");
  const code = await started.proc.exited;
  if (code !== 0) throw new Error(`modelroute exited with ${code} on SIGTERM`);
}

/** Polls `url` until it answers 2xx; throws when `proc` exits or after ~5 s. */
async function awaitUp(what: string, url: string, proc: Bun.Subprocess) {
  for (let i = 0; ; i++) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    if (i === 200 || proc.exitCode !== null) throw new Error(`the ${what} process did not start`);
    await Bun.sleep(25);
  }
}

export type Upstream = { url: string; proc: Bun.Subprocess; /** How many chat completions it has answered so far. */ served(): Promise<number> };

/** lib.ts's upstream in a child process, on CPU 1 beside the load generator when pinning. */
export async function startUpstream(pin: boolean): Promise<Upstream> {
  const port = await freePort();
  const proc = Bun.spawn(onCpu(pin, 1, [process.execPath, import.meta.path, "--upstream", String(port)]), { stdout: "inherit", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  try {
    await awaitUp("upstream", `${url}/_count`, proc);
  } catch (error) {
    proc.kill("SIGTERM");
    throw error;
  }
  const served = async () => ((await (await fetch(`${url}/_count`)).json()) as { served: number }).served;
  return { url, proc, served };
}

/** The bare pass-through proxy process in front of `upstreamUrl`, on CPU 0 when pinning; resolves once it forwards. */
export async function startBareProxy(pin: boolean, upstreamUrl: string, port?: number) {
  const chosen = port ?? (await freePort());
  const proc = Bun.spawn(onCpu(pin, 0, [process.execPath, import.meta.path, "--bare-proxy", String(chosen), "--to", upstreamUrl]), { stdout: "inherit", stderr: "inherit" });
  const url = `http://127.0.0.1:${chosen}`;
  try {
    await awaitUp("bare proxy", `${url}/_count`, proc);
  } catch (error) {
    proc.kill("SIGTERM");
    throw error;
  }
  return { url, proc };
}

/** Routes the model `bench-chat` to `upstreamUrl` (an openai-kind provider, no retries, priced so the ledger holds and settles). */
export async function applyBenchCatalog(serverUrl: string, adminToken: string, upstreamUrl: string) {
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
  const applied = await fetch(`${serverUrl}/admin/v1/catalog`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify(catalog),
  });
  if (applied.status !== 200) throw new Error(`PUT /admin/v1/catalog answered ${applied.status}: ${await applied.text()}`);
  await applied.arrayBuffer();
}

/** `measure`, and a note saying whether the upstream was called exactly once per request sent (warm-up included). */
export async function measureThrough(served: () => Promise<number>, probe: Probe, concurrency: number, seconds: number): Promise<{ g: Run; note: string; calls: number }> {
  const before = await served();
  const g = await measure(probe, concurrency, seconds);
  const calls = (await served()) - before;
  return { g, calls, note: `  upstream calls for the gateway's ${g.sent} requests (warm-up included): ${calls}${calls === g.sent ? "" : "  <- NOT ONE EACH"}` };
}

export type Gateway = {
  upstreamUrl: string;
  /** The bare pass-through proxy in front of the same upstream (no auth, no metering). */
  bareProxyUrl: string;
  server: ServerProcess;
  apiKey: string;
  /** How many chat completions the upstream has answered so far. */
  served(): Promise<number>;
  /** Runs the gateway probe and checks it called the upstream exactly once per request. */
  throughGateway(probe: Probe, concurrency: number, seconds: number): Promise<{ g: Run; note: string }>;
  /** What the run is (cores, pinning, bun), for the first lines of the output. */
  setting: string;
  close(): Promise<void>;
};

/**
 * Starts the upstream and the gateway on a fresh data directory (rate limit off, a large
 * bootstrap credit so the ledger holds and settles every call), and routes `bench-chat` to the upstream.
 */
export async function startGateway(name: string, pin: boolean): Promise<Gateway> {
  const pinned = canPin(pin);
  // This process (the load) joins the upstream on CPU 1; the gateway gets CPU 0 to itself.
  pinLoadToCpu1(pin);
  const upstream = await startUpstream(pin);
  const upstreamUrl = upstream.url;
  let bareProxy: Bun.Subprocess | null = null;
  const dataDir = mkdtempSync(join(tmpdir(), `modelroute-bench-${name}-`));
  let server: ServerProcess | null = null;
  const close = async () => {
    if (server) {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
    upstream.proc.kill("SIGTERM");
    bareProxy?.kill("SIGTERM");
    await Promise.all([upstream.proc.exited, bareProxy?.exited]);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const bare = await startBareProxy(pin, upstreamUrl);
    bareProxy = bare.proc;
    const bareProxyUrl = bare.url;
    server = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_BOOTSTRAP_CREDIT: "1000000" });
    if (pinned) Bun.spawnSync(["taskset", "-a", "-cp", "0", String(server.proc.pid)], { stdout: "ignore" });
    const { api_key: apiKey, admin_token: adminToken } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
    await applyBenchCatalog(server.url, adminToken, upstreamUrl);
    const served = upstream.served;
    const cores = availableParallelism();
    const setting = pinned
      ? `${cores} cores, bun ${Bun.version}; gateway (and the bare proxy, measured apart) pinned to CPU 0, upstream and load generator to CPU 1`
      : `${cores} cores, bun ${Bun.version}; load generator, gateway and upstream are 3 processes sharing the cores (not pinned)`;
    return {
      upstreamUrl,
      bareProxyUrl,
      server,
      apiKey,
      served,
      setting,
      close,
      async throughGateway(probe, concurrency, seconds) {
        const { g, note } = await measureThrough(served, probe, concurrency, seconds);
        return { g, note };
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}
