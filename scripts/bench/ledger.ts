/**
 * Ledger benchmark, printed figures, not a test: ASYNC executions/s, create through to
 * COMPLETED with the zero-latency mock, with the ledger on and off, in the same run against the
 * same server. "On" is `demo-model` (priced: a hold at create, a capture at the end, the
 * balance-alert read with each balance update); "off" is `demo-model-free`, the same model with
 * zero pricing, applied through the admin catalog API, whose executions hold nothing. Rounds
 * alternate on/off so warm-up and a growing database weigh on both alike. Goal: the ledger
 * costs at most 10 %.
 *
 * The server runs in its own process (bun src/main.ts) so it has a core to itself; the load
 * comes from this process over keep-alive HTTP on 127.0.0.1.
 *
 * The machine may be shared, so besides executions/s (wall clock) it prints the server's CPU
 * time per execution (from /proc, immune to other load), and the on/off ratio per round.
 *
 * Usage: bun scripts/bench/ledger.ts [--seconds 3] [--rounds 5] [--concurrency 64]
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnServer } from "../../test/helpers/process";

const { values } = parseArgs({
  options: { seconds: { type: "string", default: "3" }, rounds: { type: "string", default: "5" }, concurrency: { type: "string", default: "64" } },
});
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const PRICED = "demo-model";
const FREE = "demo-model-free";
const GOAL_PERCENT = 10;

/** User + system CPU seconds the server process has used so far (Linux /proc; clock ticks of 1/100 s). */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-ledger-"));
const server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0" });
const { api_key: key, admin_token: adminToken, org_id: orgId } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
const db = new Database(join(dataDir, "modelroute.db"), { readonly: true });

try {
  // The "off" model: demo-model with zero pricing, so its executions place no hold.
  const adminHeaders = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const catalog = (await (await fetch(`${server.url}/admin/v1/catalog`, { headers: adminHeaders })).json()) as { models: Record<string, unknown>[] };
  const priced = catalog.models.find((m) => m.slug === PRICED);
  catalog.models.push({ ...priced, slug: FREE, description: "demo-model at zero price (ledger benchmark)", pricing: { currency: "USD" } });
  const applied = await fetch(`${server.url}/admin/v1/catalog`, { method: "PUT", headers: adminHeaders, body: JSON.stringify(catalog) });
  if (!applied.ok) throw new Error(`applying the zero-priced model failed: ${applied.status} ${await applied.text()}`);

  const finished = () => (db.query("SELECT count(*) AS n FROM executions WHERE status IN ('COMPLETED','FAILED')").get() as { n: number }).n;
  const failed = () => (db.query("SELECT count(*) AS n FROM executions WHERE status = 'FAILED'").get() as { n: number }).n;

  /** ASYNC creates for SECONDS from CONCURRENCY clients, then waits until all of them finished. */
  async function round(model: string) {
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const body = JSON.stringify({ model, input: { text: "hello benchmark" } });
    const doneBefore = finished();
    const cpuBefore = cpuSeconds(server.proc.pid);
    let created = 0;
    let errors = 0;
    const started = performance.now();
    const deadline = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const res = await fetch(`${server.url}/v1/executions`, { method: "POST", headers, body });
          await res.arrayBuffer();
          if (res.status === 202) created++;
          else errors++;
        }
      }),
    );
    while (finished() - doneBefore < created) await Bun.sleep(5);
    const seconds = (performance.now() - started) / 1000;
    const cpuMicrosEach = ((cpuSeconds(server.proc.pid) - cpuBefore) * 1e6) / created;
    return { created, errors, perSecond: created / seconds, cpuMicrosEach };
  }

  console.log(`ledger benchmark: ${ROUNDS} rounds of ${SECONDS}s per variant, ${CONCURRENCY} concurrent clients, bun ${Bun.version}`);
  await round(FREE); // warm-up: JIT, statement caches, page cache
  const on: number[] = [];
  const off: number[] = [];
  const ratios: number[] = [];
  const cpuOn: number[] = [];
  const cpuOff: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = await round(PRICED);
    const b = await round(FREE);
    on.push(a.perSecond);
    off.push(b.perSecond);
    ratios.push(a.perSecond / b.perSecond);
    cpuOn.push(a.cpuMicrosEach);
    cpuOff.push(b.cpuMicrosEach);
    console.log(
      `  round ${i + 1}: ledger on ${fmt(a.perSecond)}/s (${a.created} created, ${a.errors} errors, ${fmt(a.cpuMicrosEach)} µs CPU each) · ` +
        `off ${fmt(b.perSecond)}/s (${b.created} created, ${b.errors} errors, ${fmt(b.cpuMicrosEach)} µs CPU each) · ratio ${(a.perSecond / b.perSecond).toFixed(3)}`,
    );
  }
  if (failed() > 0) throw new Error(`${failed()} executions FAILED; the figures are not comparable`);
  const held = db.query("SELECT held_micros AS held FROM balances WHERE org_id = ?").get(orgId) as { held: number };
  if (held.held !== 0) throw new Error(`the balance still holds ${held.held} micro-USD after every execution finished`);
  const ratio = median(ratios);
  const cpuRatio = median(cpuOff) / median(cpuOn);
  console.log(`executions/s, create → COMPLETED (median): ledger on ${fmt(median(on))}/s, ledger off ${fmt(median(off))}/s`);
  console.log(`server CPU per execution (median): ledger on ${fmt(median(cpuOn))} µs, ledger off ${fmt(median(cpuOff))} µs`);
  console.log(`ratio on/off, executions/s (median of rounds): ${ratio.toFixed(3)} → the ledger costs ${((1 - ratio) * 100).toFixed(1)} %`);
  console.log(`ratio on/off, by server CPU per execution: ${cpuRatio.toFixed(3)} → ${((1 - cpuRatio) * 100).toFixed(1)} %`);
  console.log(`goal: the ledger costs at most ${GOAL_PERCENT} % (by server CPU per execution, immune to other load) -> ${1 - cpuRatio <= GOAL_PERCENT / 100 ? "met" : "NOT met"}`);
  console.log(JSON.stringify({ bench: "ledger", on_per_second: median(on), off_per_second: median(off), cpu_micros_on: median(cpuOn), cpu_micros_off: median(cpuOff), ratio_per_second: ratio, ratio_cpu: cpuRatio }));
} finally {
  db.close();
  server.proc.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
