#!/usr/bin/env bun
/**
 * ModelRoute side by side with its peers, printed figures, not a test (`npm run bench -- overhead`).
 * The same OpenAI-compatible upstream (lib.ts's, instant) is called directly, through the bare
 * Bun.serve pass-through proxy (lib.ts's), through the COMPILED binary (dist/modelroute, built
 * first when missing; a fresh data directory, metering on), through Portkey
 * (`@portkey-ai/gateway`) and through OmniRoute (`omniroute`). The peers are installed outside
 * the repo by scripts/bench/install-peers.sh (default /tmp/peers); one that is not there is
 * reported as skipped, with the command that installs it, and the run goes on.
 *
 * For each of --reps repetitions, each target in turn, alone: started (timed from spawn to its
 * first right chat completion), warmed up, then measured for --seconds each with closed-loop
 * keep-alive workers: non-streamed chat at concurrency 1 and --concurrency-high, streamed chat at
 * both (time to the first chunk of the body, and to its end); then its peak RSS (VmHWM of its
 * whole process tree) is read and it is stopped. Where taskset exists the target runs on CPU 0,
 * the upstream and the load generator on CPU 1. Every answer is checked (status, content "hi";
 * streams: role, content, finish reason, `[DONE]`), and so is that the upstream was called once
 * per request. Only 127.0.0.1 is ever called; every request gives up after 30 s, each start after
 * 120 s, and the run stops launching after --max-minutes.
 *
 * Prints markdown tables (medians over the repetitions), the goals with met / NOT met, one line
 * `OVERHEAD_JSON {...}` with every figure of every repetition, and writes the latency chart (SVG)
 * to --svg. Goals: at concurrency 64, at least 10x Portkey's requests/s and at least 70 % of the
 * bare proxy's; at concurrency 1, added p50 under 0.15 ms and added p99 under 1 ms; a stream's
 * first byte delayed under 1 ms (p50, concurrency 1). Exit code 1 when direct, the bare proxy or
 * ModelRoute gave a wrong answer or could not be measured (a peer's failure is a result, shown).
 *
 *   bun scripts/bench/overhead.ts [--seconds 5] [--reps 2] [--concurrency-high 64] [--no-pin]
 *     [--peers-dir /tmp/peers] [--binary dist/modelroute] [--svg docs/benchmarks-overhead.svg]
 *     [--targets direct,bare,modelroute,portkey,omniroute] [--max-minutes 25]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { canPin, completionProbe, ensureBinary, fmt, fmtInt, measure, measureThrough, median, pinLoadToCpu1, post, signed, startUpstream, streamProbe, type Probe, type Run } from "./lib";
import { latencyChart, type ChartPanel } from "./overhead/chart";
import { cpuMsOf, logTail, peakRssMb, processTree, stopTree } from "./overhead/processes";
import { TARGETS, type Launch, type RunContext, type Target } from "./overhead/targets";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "2" },
    "concurrency-high": { type: "string", default: "64" },
    "no-pin": { type: "boolean", default: false },
    "peers-dir": { type: "string", default: process.env.PEERS_DIR ?? "/tmp/peers" },
    binary: { type: "string" },
    svg: { type: "string", default: resolve(import.meta.dir, "../../docs/benchmarks-overhead.svg") },
    targets: { type: "string", default: TARGETS.map((t) => t.name.split(" ")[0]).join(",") },
    "max-minutes": { type: "string", default: "25" },
  },
});
const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const HIGH = Number(values["concurrency-high"]);
const PIN = !values["no-pin"];
const WARMUP_SECONDS = Math.min(1, SECONDS);
const REQUEST_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 120_000;
const deadline = performance.now() + Number(values["max-minutes"]) * 60_000;
const CONCURRENCIES = [1, HIGH];
const GOALS = { portkeyTimes: 10, bareShare: 0.7, addedP50Ms: 0.15, addedP99Ms: 1, firstByteMs: 1 };
/** Measured by the repo itself: a wrong answer or a failure there fails the run. */
const OWN = new Set(["direct", "bare proxy", "modelroute"]);

/** One measurement: p50/p99/max of its first timing (the whole answer; a stream's first byte), and for streams also to the first content and to the end. */
type Figures = { p50: number; p99: number; max: number; rps: number; n: number; wrong: number; calls: number; sent: number; cpuUsPerCall?: number; contentP50?: number; endP50?: number; endP99?: number };
type Rep = { rep: number; startupMs: number | null; peakRssMb: number | null; runs: Record<string, Figures>; problems: string[] };
type Outcome = { target: Target; status: "measured" | "skipped" | "failed"; reason?: string; reps: Rep[] };
const key = (mode: "chat" | "stream", concurrency: number) => `${mode} c=${concurrency}`;

const selected = new Set(values.targets.split(",").map((t) => t.trim()));
const targets = TARGETS.filter((t) => selected.has(t.name.split(" ")[0]!));
const binary = targets.some((t) => t.name === "modelroute") ? ensureBinary(values.binary) : (values.binary ?? "");

pinLoadToCpu1(PIN);
const upstream = await startUpstream(PIN);
const workDir = mkdtempSync(join(tmpdir(), "modelroute-bench-peers-"));
const ctx: RunContext = { pin: PIN, upstream, workDir, peersDir: resolve(values["peers-dir"]), binary: resolve(binary) };
const live = new Set<number>();
// A hard stop a little past the budget: whatever still runs is killed, nothing is left behind.
const watchdog = setTimeout(() => {
  console.error("overhead: time budget exceeded, stopping");
  for (const pid of live) for (const p of processTree(pid)) process.kill(p, "SIGKILL");
  upstream.proc.kill("SIGKILL");
  process.exit(1);
}, Number(values["max-minutes"]) * 60_000 + 180_000);

const chatBody = (model: string, stream: boolean) => ({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 16, stream });
/** Explicit `stream` and a matching Accept: OmniRoute streams a request without `stream` whose Accept is *\/*. */
const probes = (launch: Launch, who: string) => {
  const url = `${launch.url}/v1/chat/completions`;
  return {
    chat: completionProbe(who, post(url, { ...launch.headers, accept: "application/json" }, chatBody(launch.model, false)), REQUEST_TIMEOUT_MS),
    stream: streamProbe(`${who} stream`, post(url, { ...launch.headers, accept: "text/event-stream" }, chatBody(launch.model, true)), REQUEST_TIMEOUT_MS),
  };
};

/** Until the first right chat completion: the target's startup, from just before its spawn. */
async function awaitFirstAnswer(launch: Launch, who: string): Promise<number> {
  const until = performance.now() + START_TIMEOUT_MS;
  let setupDone = !launch.setup;
  let last = "";
  while (performance.now() < until) {
    if (launch.proc && launch.proc.exitCode !== null) throw new Error(`exited with ${launch.proc.exitCode} before answering: ${launch.logPath ? logTail(launch.logPath) : ""}`);
    if (!setupDone) setupDone = await launch.setup!();
    if (setupDone) {
      const probe = completionProbe(who, post(`${launch.url}/v1/chat/completions`, { ...launch.headers, accept: "application/json" }, chatBody(launch.model, false)), 5000);
      const attempt = await probe().catch((error: Error) => ({ problem: error.message }));
      if (attempt.problem === null) return performance.now() - launch.spawnedAt;
      last = attempt.problem;
    }
    await Bun.sleep(10);
  }
  throw new Error(`no right chat completion within ${START_TIMEOUT_MS / 1000} s (last: ${last.slice(0, 200)}); log: ${launch.logPath ? logTail(launch.logPath) : ""}`);
}

/** `cpuMs`: the CPU time the target's processes used over the measurement, warm-up included, as `sent` counts it. */
const figures = (g: Run, calls: number, cpuMs: number | null): Figures => {
  const s = g.stats[0] ?? { p50: NaN, p99: NaN, max: NaN };
  const [content, end] = [g.stats[1], g.stats[2]];
  return {
    p50: s.p50, p99: s.p99, max: s.max, rps: g.rps, n: g.n, wrong: g.wrong, calls, sent: g.sent,
    ...(cpuMs !== null && g.sent > 0 ? { cpuUsPerCall: (cpuMs * 1000) / g.sent } : {}),
    ...(content && end ? { contentP50: content.p50, endP50: end.p50, endP99: end.p99 } : {}),
  };
};

async function runOnce(target: Target, rep: number): Promise<Rep> {
  const launch = await target.launch(ctx, rep);
  if (launch.proc) live.add(launch.proc.pid);
  try {
    const startupMs = launch.proc ? await awaitFirstAnswer(launch, target.name) : null;
    const { chat, stream } = probes(launch, target.name);
    await measure(chat, 8, WARMUP_SECONDS); // JIT, connection pools: not recorded
    await measure(stream, 8, WARMUP_SECONDS);
    const runs: Record<string, Figures> = {};
    const problems: string[] = [];
    for (const [mode, probe] of [["chat", chat], ["stream", stream]] as [ "chat" | "stream", Probe][])
      for (const concurrency of CONCURRENCIES) {
        const cpuBefore = launch.proc ? cpuMsOf(launch.proc.pid) : null;
        const { g, calls } = await measureThrough(upstream.served, probe, concurrency, SECONDS);
        const cpuAfter = launch.proc ? cpuMsOf(launch.proc.pid) : null;
        runs[key(mode, concurrency)] = figures(g, calls, cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null);
        problems.push(...g.samples);
        if (calls !== g.sent) problems.push(`${key(mode, concurrency)}: ${calls} upstream calls for ${g.sent} requests`);
      }
    const peak = launch.proc ? peakRssMb(launch.proc.pid) : null;
    return { rep, startupMs, peakRssMb: peak, runs, problems };
  } finally {
    if (launch.proc) {
      await stopTree(launch.proc.pid);
      live.delete(launch.proc.pid);
    }
  }
}

const outcomes: Outcome[] = targets.map((target) => {
  const reason = target.missing(ctx);
  return reason ? { target, status: "skipped", reason, reps: [] } : { target, status: "measured", reps: [] };
});
const setting = canPin(PIN)
  ? `${availableParallelism()} cores; each target alone on CPU 0, the upstream and the load generator on CPU 1`
  : `${availableParallelism()} cores, not pinned: target, upstream and load generator share the cores`;
console.log(`overhead: ${SECONDS} s per measurement, ${REPS} repetitions, concurrency ${CONCURRENCIES.join(" and ")}; ${setting}`);

try {
  for (const outcome of outcomes) {
    if (outcome.status !== "measured" || !outcome.target.prepare) continue;
    try {
      console.log(`  preparing ${outcome.target.name}`);
      await outcome.target.prepare(ctx);
    } catch (error) {
      Object.assign(outcome, { status: "failed", reason: `preparing: ${(error as Error).message}` });
    }
  }
  for (let rep = 1; rep <= REPS; rep++)
    for (const outcome of outcomes) {
      if (outcome.status !== "measured") continue;
      if (performance.now() > deadline) {
        outcome.reason = `repetition ${rep} not run: --max-minutes reached`;
        continue;
      }
      try {
        const result = await runOnce(outcome.target, rep);
        outcome.reps.push(result);
        const c1 = result.runs[key("chat", 1)]!;
        console.log(`  ${outcome.target.name} rep ${rep}: startup ${result.startupMs === null ? "-" : `${fmt(result.startupMs, 0)} ms`}, chat c=1 p50 ${fmt(c1.p50, 3)} ms, c=${HIGH} ${fmtInt(result.runs[key("chat", HIGH)]!.rps)} req/s${result.problems.length ? `, ${result.problems.length} problems` : ""}`);
      } catch (error) {
        Object.assign(outcome, { status: "failed", reason: `rep ${rep}: ${(error as Error).message}` });
      }
    }
} finally {
  clearTimeout(watchdog);
  for (const pid of live) await stopTree(pid);
  upstream.proc.kill("SIGTERM");
  await upstream.proc.exited;
  rmSync(workDir, { recursive: true, force: true });
}

// ---- medians over the repetitions ----
const med = (o: Outcome, pick: (r: Rep) => number | null | undefined) => median(o.reps.map(pick).filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
const fig = (o: Outcome, mode: "chat" | "stream", c: number, field: keyof Figures) => med(o, (r) => r.runs[key(mode, c)]?.[field]);
const byName = (name: string) => outcomes.find((o) => o.target.name === name && o.reps.length > 0);
const direct = byName("direct");
const bare = byName("bare proxy");
const mr = byName("modelroute");
const portkey = byName("portkey");

const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? fmtInt(n) : fmt(n, n >= 10 ? 1 : 3)) : "–");
const rps = (n: number) => (Number.isFinite(n) ? fmtInt(n) : "–");
const measured = outcomes.filter((o) => o.reps.length > 0);
console.log(`\nmedians over ${REPS} repetitions; latency in ms; req/s = right answers per second; stream first byte = first chunk of the body\n`);
console.log(`| target | chat p50 c=1 | chat p99 c=1 | req/s c=1 | chat p50 c=${HIGH} | chat p99 c=${HIGH} | req/s c=${HIGH} | stream first byte p50 c=1 | p99 c=1 | stream first byte p50 c=${HIGH} | stream req/s c=${HIGH} | peak RSS (MB) | startup (ms) |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const o of outcomes) {
  if (o.reps.length === 0) {
    console.log(`| ${o.target.name} | ${o.status}: ${o.reason} |`);
    continue;
  }
  const cells = [fig(o, "chat", 1, "p50"), fig(o, "chat", 1, "p99")].map(ms).concat(rps(fig(o, "chat", 1, "rps")), ms(fig(o, "chat", HIGH, "p50")), ms(fig(o, "chat", HIGH, "p99")), rps(fig(o, "chat", HIGH, "rps")));
  cells.push(ms(fig(o, "stream", 1, "p50")), ms(fig(o, "stream", 1, "p99")), ms(fig(o, "stream", HIGH, "p50")), rps(fig(o, "stream", HIGH, "rps")));
  const rss = med(o, (r) => r.peakRssMb);
  cells.push(Number.isFinite(rss) ? fmt(rss, 0) : "–", ms(med(o, (r) => r.startupMs)));
  console.log(`| ${o.target.name} | ${cells.join(" | ")} |`);
}

if (direct) {
  console.log(`\nadded over direct (target − direct, medians), and requests/s at concurrency ${HIGH} as a share of the bare proxy's and of direct's\n`);
  console.log(`| target | added p50 c=1 | added p99 c=1 | stream first byte added p50 c=1 | req/s c=${HIGH} / bare proxy | req/s c=${HIGH} / direct | CPU µs per call c=1 | CPU µs per call c=${HIGH} | CPU per call c=${HIGH} / bare proxy |`);
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  for (const o of measured.filter((o) => o !== direct)) {
    const share = (of: Outcome | undefined) => (of ? `${fmt((100 * fig(o, "chat", HIGH, "rps")) / fig(of, "chat", HIGH, "rps"), 1)} %` : "–");
    const cpu = (c: number) => fig(o, "chat", c, "cpuUsPerCall");
    const cpuShare = bare ? cpu(HIGH) / fig(bare, "chat", HIGH, "cpuUsPerCall") : NaN;
    const cells = [cpu(1), cpu(HIGH)].map((v) => (Number.isFinite(v) ? fmt(v, 0) : "–")).concat(Number.isFinite(cpuShare) ? `${fmt(cpuShare, 2)}×` : "–");
    console.log(`| ${o.target.name} | ${signed(fig(o, "chat", 1, "p50") - fig(direct, "chat", 1, "p50"))} | ${signed(fig(o, "chat", 1, "p99") - fig(direct, "chat", 1, "p99"))} | ${signed(fig(o, "stream", 1, "p50") - fig(direct, "stream", 1, "p50"))} | ${share(bare)} | ${share(direct)} | ${cells.join(" | ")} |`);
  }
  console.log(`\nCPU µs per call: user + system time of the target's processes (every thread, /proc) over a measurement and its warm-up, divided by the requests sent; it moves less than wall-clock figures on a shared machine.`);
}

// ---- goals ----
type Goal = { goal: string; value: string; met: boolean | null };
const goals: Goal[] = [];
const goal = (text: string, value: number | null, met: (v: number) => boolean, show: (v: number) => string, why = "not measured") =>
  goals.push(value === null || !Number.isFinite(value) ? { goal: text, value: why, met: null } : { goal: text, value: show(value), met: met(value) });
const mrRps = mr ? fig(mr, "chat", HIGH, "rps") : NaN;
goal(`at concurrency ${HIGH}, at least ${GOALS.portkeyTimes}x Portkey's requests/s`, mr && portkey ? mrRps / fig(portkey, "chat", HIGH, "rps") : null, (v) => v >= GOALS.portkeyTimes, (v) => `${fmt(v, 1)}x`, portkey ? "not measured" : "Portkey not measured");
goal(`at concurrency ${HIGH}, at least ${GOALS.bareShare * 100} % of the bare proxy's requests/s`, mr && bare ? mrRps / fig(bare, "chat", HIGH, "rps") : null, (v) => v >= GOALS.bareShare, (v) => `${fmt(100 * v, 1)} %`);
const added = (field: "p50" | "p99", mode: "chat" | "stream" = "chat") => (mr && direct ? fig(mr, mode, 1, field) - fig(direct, mode, 1, field) : null);
goal(`at concurrency 1, added p50 under ${GOALS.addedP50Ms} ms`, added("p50"), (v) => v < GOALS.addedP50Ms, (v) => `${signed(v)} ms`);
goal(`at concurrency 1, added p99 under ${GOALS.addedP99Ms} ms`, added("p99"), (v) => v < GOALS.addedP99Ms, (v) => `${signed(v)} ms`);
goal(`stream first byte added under ${GOALS.firstByteMs} ms (p50, concurrency 1)`, added("p50", "stream"), (v) => v < GOALS.firstByteMs, (v) => `${signed(v)} ms`);
console.log("");
for (const g of goals) console.log(`goal: ${g.goal}: ${g.value} -> ${g.met === null ? "not measured" : g.met ? "met" : "NOT met"}`);

console.log("\ntargets:");
for (const o of outcomes) console.log(`  ${o.target.name}: ${o.target.about}${o.status === "measured" ? "" : ` [${o.status}: ${o.reason}]`}`);
for (const o of outcomes.filter((o) => o.status === "skipped")) console.log(`skipped: ${o.target.name}: ${o.reason}`);
for (const o of outcomes.filter((o) => o.status === "failed")) console.log(`FAILED: ${o.target.name}: ${o.reason}`);
for (const o of measured) for (const r of o.reps) for (const p of r.problems.slice(0, 5)) console.log(`  PROBLEM (${o.target.name}, rep ${r.rep}): ${p}`);

// ---- machine, JSON line, chart ----
const cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown";
const nodeVersion = (bin: string) => {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
};
const machine = { cpu, cores: availableParallelism(), memory_gb: Math.round(totalmem() / 2 ** 30), kernel: release(), bun: Bun.version, node: Bun.which("node") ? nodeVersion("node") : null, pinned: canPin(PIN) };
const date = new Date().toISOString();
console.log(
  `OVERHEAD_JSON ${JSON.stringify({
    date,
    machine,
    seconds: SECONDS,
    reps: REPS,
    concurrency: CONCURRENCIES,
    targets: outcomes.map((o) => ({ name: o.target.name, status: o.status, reason: o.reason ?? null, reps: o.reps })),
    goals,
  })}`,
);

const panel = (title: string, mode: "chat" | "stream", c: number): ChartPanel => ({
  title,
  rows: outcomes.map((o) => ({ target: o.target.name, p50: fig(o, mode, c, "p50"), p99: fig(o, mode, c, "p99"), note: o.reps.length ? undefined : o.status })),
});
const svg = latencyChart(
  "Chat completions: latency per target (lower is better)",
  `${date.slice(0, 10)}; ${cpu}; ${setting}; median of ${REPS} repetitions of ${SECONDS} s`,
  [
    panel("Non-streamed, concurrency 1", "chat", 1),
    panel(`Non-streamed, concurrency ${HIGH}`, "chat", HIGH),
    panel("Streamed, time to the first byte, concurrency 1", "stream", 1),
    panel(`Streamed, time to the first byte, concurrency ${HIGH}`, "stream", HIGH),
  ],
);
writeFileSync(values.svg, svg);
console.log(`chart: ${values.svg}`);

const ownBroken = outcomes.filter((o) => OWN.has(o.target.name) && (o.status === "failed" || o.reps.some((r) => r.problems.length > 0)));
if (ownBroken.length > 0) {
  console.log(`!!! ${ownBroken.map((o) => o.target.name).join(", ")}: wrong answers or not measured: the figures above are not valid !!!`);
  process.exitCode = 1;
}
