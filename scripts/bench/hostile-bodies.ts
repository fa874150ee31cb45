#!/usr/bin/env bun
/**
 * Does a flood of deeply nested JSON stall the server? Starts `modelroute serve` on a temp data
 * dir, then probes GET /healthz every 5 ms: first for a few seconds idle (the baseline), then
 * while a second process keeps 8 requests in flight, each a 200 KB body nested 100 000 levels
 * deep sent with a valid key (the rate limiter is off, so every body reaches the parser). Prints the probe's worst and p99 latency in both phases, their
 * ratio, the bodies answered per second (every answer checked: 400 INPUT_VALIDATION_ERROR) and
 * the server's peak RSS. Goals: worst probe under 50 ms, peak RSS under 150 MB.
 *   bun scripts/bench/hostile-bodies.ts [--seconds 5] [--concurrency 8]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnServer } from "../../test/helpers/process";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "8" },
    attack: { type: "string" }, // internal: `--attack URL` runs the attacking process
    key: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const DEPTH = 100_000;

/** 200 KB: `{"model":"mock-chat","input":[[[…]]]}` nested DEPTH levels. */
const hostileBody = () => `{"model":"mock-chat","input":${"[".repeat(DEPTH - 1)}${"]".repeat(DEPTH - 1)}}`;

if (values.attack) {
  // The attacking process: `concurrency` loops, each sending the next body once the last is answered.
  const body = hostileBody();
  const deadline = performance.now() + seconds * 1000;
  let answered = 0;
  let wrong = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      const res = await fetch(`${values.attack}/v1/executions`, {
        method: "POST",
        headers: { authorization: `Bearer ${values.key}`, "content-type": "application/json" },
        body,
      });
      const error = ((await res.json()) as { error?: { code?: string } }).error;
      if (res.status !== 400 || error?.code !== "INPUT_VALIDATION_ERROR") wrong++;
      answered++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  console.log(JSON.stringify({ answered, wrong }));
  process.exit(0);
}

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-hostile-"));

const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;

/** Probes /healthz every 5 ms until `until` resolves; returns the latencies in ms. */
async function probe(base: string, until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.then(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    const started = performance.now();
    const res = await fetch(`${base}/healthz`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    latencies.push(performance.now() - started);
    await Bun.sleep(5);
  }
  return latencies;
}

const summary = (ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  return { n: sorted.length, p50: sorted[Math.floor(sorted.length / 2)]!, p99: sorted[Math.floor(sorted.length * 0.99)]!, worst: sorted.at(-1)! };
};

const { proc: server, url: base } = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0" });
try {
  const { api_key: key } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  await Bun.sleep(500); // let start-up allocations settle

  const idle = summary(await probe(base, Bun.sleep(3_000)));
  const attacker = Bun.spawn(
    [process.execPath, import.meta.path, "--attack", base, "--key", key, "--seconds", String(seconds), "--concurrency", String(concurrency)],
    { stdout: "pipe", stderr: "inherit" },
  );
  const attackOutput = new Response(attacker.stdout).text();
  const underAttack = summary(await probe(base, attacker.exited));
  const { answered, wrong } = JSON.parse(await attackOutput) as { answered: number; wrong: number };
  const peak = peakRssMb(server.pid);

  const fmt = (s: ReturnType<typeof summary>) => `p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, worst ${s.worst.toFixed(2)} ms (${s.n} probes)`;
  console.log(`hostile bodies: ${concurrency} in flight, ${(hostileBody().length / 1024).toFixed(0)} KiB each, nested ${DEPTH} levels, ${seconds} s`);
  console.log(`  /healthz idle:          ${fmt(idle)}`);
  console.log(`  /healthz under attack:  ${fmt(underAttack)}`);
  console.log(`  worst-probe ratio (attack / idle): ${(underAttack.worst / idle.worst).toFixed(2)}x   goal: worst under 50 ms -> ${underAttack.worst < 50 ? "met" : "MISSED"}`);
  console.log(`  bodies answered: ${answered} (${(answered / seconds).toFixed(0)}/s), wrong answers: ${wrong}`);
  console.log(`  server peak RSS: ${peak.toFixed(1)} MB   goal: under 150 MB -> ${peak < 150 ? "met" : "MISSED"}`);
  if (wrong > 0) process.exitCode = 1;
} finally {
  server.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
