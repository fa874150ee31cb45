/**
 * Every benchmark in scripts/bench runs, as a smoke test with tiny sizes, so none of them rots
 * between the runs that produce docs/benchmarks.md. Nothing here depends on a timing: only that
 * each one ends with exit code 0, checked every answer, and printed what it is for. The peer
 * gateways are never installed here: overhead.ts gets an empty peers directory and must report
 * them as skipped, with the command that installs them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const benchDir = join(root, "scripts", "bench");
const work = mkdtempSync(join(tmpdir(), "modelroute-bench-smoke-"));
const binary = join(work, "modelroute");

beforeAll(() => {
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts", "--skip-codegen", "--outfile", binary], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stdout}\n${build.stderr}`);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs one benchmark to its end; its whole output, and the exit code. */
async function bench(file: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([process.execPath, join(benchDir, file), ...args], { cwd: root, env: { ...process.env, BENCH_WARMUP_MS: "50", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: `${stdout}\n${stderr}` };
}

const expectRan = (run: { code: number; output: string }, ...markers: RegExp[]) => {
  if (run.code !== 0) throw new Error(`exit ${run.code}:\n${run.output.slice(-3000)}`);
  expect(run.output).not.toContain("WRONG ANSWER");
  for (const marker of markers) expect(run.output).toMatch(marker);
};

/** The tiny arguments each benchmark is smoke-tested with: a new benchmark needs its entry. */
const SMOKE: Record<string, () => Promise<void>> = {
  "chat-completions.ts": async () => expectRan(await bench("chat-completions.ts", ["--seconds", "0.2", "--concurrency-high", "4"]), /goal: at concurrency 4, at least 70 % of the bare proxy's requests\/s/),
  "gateway-overhead.ts": async () => expectRan(await bench("gateway-overhead.ts", ["--seconds", "0.2", "--concurrency-high", "4"]), /goal: added p50 under 5 ms/),
  "executions.ts": async () => {
    const run = await bench("executions.ts", ["--seconds", "0.3", "--reps", "1", "--concurrency", "4", "--binary", binary]);
    expectRan(run, /\| minimal \|/, /goal: create → COMPLETED at least 15,000\/s on one core.*: [\d,]+\/s -> (met|NOT met)/);
    const line = run.output.split("\n").find((l) => l.startsWith('{"bench":"executions"'));
    const report = JSON.parse(line!) as Record<"modelroute" | "minimal", { created: number; completed: number }>;
    for (const target of [report.modelroute, report.minimal]) {
      expect(target.completed).toBeGreaterThan(0);
      expect(target.completed).toBe(target.created);
    }
  },
  "ledger.ts": async () => expectRan(await bench("ledger.ts", ["--seconds", "0.3", "--rounds", "1", "--concurrency", "4"]), /ledger benchmark: 1 rounds/),
  "files-upload.ts": async () => expectRan(await bench("files-upload.ts", [], { BENCH_FILE_BYTES: String(3 * 1024 * 1024) }), /RSS/i),
  "hostile-bodies.ts": async () => expectRan(await bench("hostile-bodies.ts", ["--seconds", "0.5", "--concurrency", "2"]), /goal/i),
  "vector-search.ts": async () => expectRan(await bench("vector-search.ts", ["--items", "2000", "--dimensions", "16", "--queries", "20", "--api-items", "100"]), /recall@10/),
  "batches.ts": async () => expectRan(await bench("batches.ts", ["--seconds", "0.3", "--lines", "40", "--concurrency", "2"]), /p99 beside a batch \/ alone/),
  "cache.ts": async () => expectRan(await bench("cache.ts", ["--seconds", "0.2"]), /goal: a HIT under 0.2 ms p50 end to end/),
  "replicas.ts": async () => expectRan(await bench("replicas.ts", ["--seconds", "0.3", "--concurrency", "4"]), /\| PostgreSQL, 3 replicas \|/),
  "soak.ts": async () => expectRan(await bench("soak.ts", ["--minutes", "0.1", "--interval-seconds", "2", "--rate", "20", "--binary", binary]), /last third against the first/, /not ended: 0; ledger adds up; problems: 0/),
  "webhooks.ts": async () =>
    expectRan(
      // No retried round: its first retry waits 5 s by design (webhook retries have tests of their own).
      await bench("webhooks.ts", ["--executions", "40", "--retry-executions", "0", "--concurrency", "4", "--reps", "1", "--binary", binary]),
      /\| ModelRoute \| 40 \|/,
      /\| direct to the receiver \| 40 \|/,
      /^\{"bench":"webhooks",/m,
    ),
  "scale.ts": async () =>
    expectRan(await bench("scale.ts", ["--rows", "1000,2000", "--seconds", "0.2", "--binary", binary]), /goal: \/result flat from 1,000 to 2,000 rows/, /2,000 rows, bytes per execution: .*ledger invariants hold/),
  "memory.ts": async () => {
    const run = await bench("memory.ts", ["--executions", "300", "--concurrency", "4", "--idle-seconds", "0.3", "--binary", binary]);
    expectRan(run, /\| then after 0\.3 s of rest \|/, /goal: idle RSS under 70 MB/, /^\{"bench":"memory",/m);
    const report = JSON.parse(run.output.split("\n").find((l) => l.startsWith('{"bench":"memory"'))!) as { created: number; completed: number };
    expect(report.created).toBe(300);
    expect(report.completed).toBe(300);
  },
  "storage.ts": async () => expectRan(await bench("storage.ts", ["--executions", "200", "--concurrency", "4"]), /goal: at most 600 bytes of database per completed small execution/),
  // Through run-all, which must run only the benchmark named and pass it the options after the name.
  "startup.ts": async () => {
    const run = await bench("run-all.ts", ["startup", "--runs", "1", "--binary", binary]);
    expectRan(run, /=== startup\.ts ===/, /cold start to first 200 on \/healthz, 1 runs/, /resident memory/);
    expect(run.output.match(/^=== .* ===$/gm)).toEqual(["=== startup.ts ==="]);
  },
  "overhead.ts": async () => {
    const peers = join(work, "no-peers");
    mkdirSync(peers, { recursive: true });
    const svg = join(work, "overhead.svg");
    const run = await bench("overhead.ts", ["--seconds", "0.2", "--reps", "1", "--concurrency-high", "4", "--peers-dir", peers, "--binary", binary, "--svg", svg]);
    expectRan(run, /skipped: portkey: .*bash scripts\/bench\/install-peers\.sh portkey/, /skipped: omniroute: .*bash scripts\/bench\/install-peers\.sh omniroute/, /goal: at concurrency 4, at least 70 % of the bare proxy's requests\/s: [\d.]+ % -> (met|NOT met)/);
    const line = run.output.split("\n").find((l) => l.startsWith("OVERHEAD_JSON "));
    const report = JSON.parse(line!.slice("OVERHEAD_JSON ".length)) as { targets: { name: string; status: string; reps: { runs: Record<string, { n: number; calls: number; sent: number }> }[] }[] };
    expect(report.targets.map((t) => [t.name, t.status])).toEqual([
      ["direct", "measured"],
      ["bare proxy", "measured"],
      ["modelroute", "measured"],
      ["portkey", "skipped"],
      ["omniroute", "skipped"],
    ]);
    const modelroute = report.targets.find((t) => t.name === "modelroute")!.reps[0]!.runs;
    expect(Object.keys(modelroute)).toEqual(["chat c=1", "chat c=4", "stream c=1", "stream c=4"]);
    for (const r of Object.values(modelroute)) {
      expect(r.n).toBeGreaterThan(0);
      expect(r.calls).toBe(r.sent);
    }
    const chart = readFileSync(svg, "utf8");
    expect(chart).toStartWith("<svg ");
    expect(chart).toContain("modelroute");
  },
};

test("every benchmark has a smoke entry", () => {
  const benches = readdirSync(benchDir).filter((f) => f.endsWith(".ts") && f !== "lib.ts" && f !== "run-all.ts");
  expect(benches.sort()).toEqual(Object.keys(SMOKE).sort());
});

for (const [file, run] of Object.entries(SMOKE)) test(`${file} runs with tiny sizes`, run, 120_000);

test("run-all refuses a benchmark that does not exist", () => {
  const proc = Bun.spawnSync([process.execPath, join(benchDir, "run-all.ts"), "no-such-bench"], { cwd: root, stdout: "pipe", stderr: "pipe" });
  expect(proc.exitCode).toBe(2);
  expect(proc.stderr.toString()).toContain("no such benchmark: no-such-bench");
});
