#!/usr/bin/env bun
/**
 * Soak (not a test; run only when named: `npm run bench -- soak`): the mixed load of the crash
 * rounds (test/reliability/mixed-load.ts: every mode and dialect, idempotent retries, an
 * asynchronous upstream that calls back, cancels, uploads, batches, credits, webhooks with
 * retries) at a steady rate against the compiled binary on a fresh data directory, for
 * --minutes. Every --interval-seconds it prints the server's RSS, open files, database size,
 * the rows of each growing table and the latency percentiles of that interval. At the end: each
 * figure's last third against its first (the goal: flat, within 20 %; the database grows with
 * the work and is judged per execution), then every accepted execution must have ended and the
 * ledger must add up, as after the crash rounds.
 *   bun scripts/bench/soak.ts [--minutes 30] [--rate 50] [--workers 16] [--interval-seconds 60] [--binary dist/modelroute]
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { invariants } from "../../test/helpers/invariants";
import { startLoadRig } from "../../test/reliability/load-rig";
import { startMixedLoad } from "../../test/reliability/mixed-load";
import { ensureBinary, fmt, fmtInt, memoryOf, percentile } from "./lib";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    minutes: { type: "string", default: "30" },
    rate: { type: "string", default: "50" },
    workers: { type: "string", default: "16" },
    "interval-seconds": { type: "string", default: "60" },
    binary: { type: "string" },
    seed: { type: "string" },
  },
});
const MINUTES = Number(values.minutes);
const RATE = Number(values.rate);
const INTERVAL_MS = Number(values["interval-seconds"]) * 1000;
const SEED = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
const FLAT = 0.2;
/** The tables that grow with the work (retention later empties the content of most of them). */
const TABLES = ["executions", "ledger_entries", "events", "webhook_deliveries", "webhook_attempts", "files", "batch_lines", "jobs", "idempotency_keys"];

const binary = ensureBinary(values.binary);
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-soak-"));
const rig = await startLoadRig(dataDir, { binary, onPostgres: false }); // SQLite: the single node the figures are about
const db = new Database(join(dataDir, "modelroute.db"), { readonly: true });
const pid = rig.server.proc.pid;

type Sample = { minute: number; rssMb: number; fds: number; dbMb: number; rows: Record<string, number>; jobsDue: number; ops: number; p50: number; p99: number; max: number };
const samples: Sample[] = [];
const databaseBytes = () => ["modelroute.db", "modelroute.db-wal"].map((f) => join(dataDir, f)).filter(existsSync).reduce((sum, f) => sum + statSync(f).size, 0);
const rowsNow = () => Object.fromEntries(TABLES.map((t) => [t, (db.query(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));

console.log(`soak: ${MINUTES} min at ${RATE} operations/s (${values.workers} clients), a sample every ${INTERVAL_MS / 1000} s, seed ${SEED}; binary ${binary}`);
console.log(`| minute | RSS MB | open files | database MB | executions | ledger entries | events | jobs (due) | ops | p50 ms | p99 ms | max ms |`);
console.log(`|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
const load = startMixedLoad(rig.target, { workers: Number(values.workers), seed: SEED, ratePerSecond: RATE });
const started = performance.now();
while (performance.now() - started < MINUTES * 60_000) {
  await Bun.sleep(Math.min(INTERVAL_MS, MINUTES * 60_000 - (performance.now() - started)));
  const times = load.takeLatencies().sort((a, b) => a - b);
  const sample: Sample = {
    minute: (performance.now() - started) / 60_000,
    rssMb: memoryOf(pid).rss,
    fds: readdirSync(`/proc/${pid}/fd`).length,
    dbMb: databaseBytes() / 1e6,
    rows: rowsNow(),
    jobsDue: (db.query("SELECT count(*) AS n FROM jobs WHERE run_at <= $now AND (locked_until IS NULL OR locked_until < $now)").get({ $now: Date.now() }) as { n: number }).n,
    ops: times.length,
    p50: times.length ? percentile(times, 50) : NaN,
    p99: times.length ? percentile(times, 99) : NaN,
    max: times.at(-1) ?? NaN,
  };
  samples.push(sample);
  const r = sample.rows;
  console.log(
    `| ${fmt(sample.minute, 1)} | ${fmt(sample.rssMb, 1)} | ${sample.fds} | ${fmt(sample.dbMb, 1)} | ${fmtInt(r.executions!)} | ${fmtInt(r.ledger_entries!)} | ${fmtInt(r.events!)} | ${fmtInt(r.jobs!)} (${sample.jobsDue}) | ${fmtInt(sample.ops)} | ${fmt(sample.p50)} | ${fmt(sample.p99)} | ${fmt(sample.max)} |`,
  );
}
await load.stop();
const jobKinds = db.query("SELECT kind, count(*) AS n, sum(run_at <= ?) AS due FROM jobs GROUP BY kind ORDER BY n DESC").all(Date.now());

// Flat: the mean of the last third against the first (the first sample is the warm-up's, left out when there are enough).
const steady = samples.length >= 4 ? samples.slice(1) : samples;
const third = Math.max(1, Math.floor(steady.length / 3));
const mean = (of: Sample[], f: (s: Sample) => number) => of.reduce((sum, s) => sum + f(s), 0) / of.length;
const change = (f: (s: Sample) => number) => mean(steady.slice(-third), f) / mean(steady.slice(0, third), f) - 1;
const bytesPerExecution = (s: Sample) => (s.dbMb * 1e6) / Math.max(1, s.rows.executions!);
const figures = {
  rss: change((s) => s.rssMb),
  fds: change((s) => s.fds),
  p99: change((s) => s.p99),
  bytesPerExecution: change(bytesPerExecution),
};
// Jobs due but not yet run are a backlog: near zero when the gateway keeps up, so compared in jobs, not percent.
const backlog = { first: mean(steady.slice(0, third), (s) => s.jobsDue), last: mean(steady.slice(-third), (s) => s.jobsDue) };
const backlogFlat = backlog.last <= backlog.first * (1 + FLAT) + 5;
const verdict = (x: number) => (x <= FLAT ? "flat" : "GROWING");
console.log(`\nlast third against the first (goal: within +${FLAT * 100} %):`);
console.log(`  RSS                       ${fmt(figures.rss * 100, 1)} %  ${verdict(figures.rss)}`);
console.log(`  open files                ${fmt(figures.fds * 100, 1)} %  ${verdict(figures.fds)}`);
console.log(`  p99 latency               ${fmt(figures.p99 * 100, 1)} %  ${verdict(figures.p99)}`);
console.log(`  database bytes/execution  ${fmt(figures.bytesPerExecution * 100, 1)} %  ${verdict(figures.bytesPerExecution)}`);
console.log(`  jobs due, not yet run     ${fmt(backlog.first, 1)} → ${fmt(backlog.last, 1)}  ${backlogFlat ? "flat" : "GROWING"}`);

// What the crash rounds check, after the load: every execution accepted ends, and the money adds up.
const accepted = load.accepted;
const ids = [...accepted.executions.keys()];
let open = ids.length;
for (let i = 0; i < 600 && open > 0; i++) {
  await Bun.sleep(100);
  const ended = new Set((db.query("SELECT id FROM executions WHERE status IN ('COMPLETED', 'FAILED', 'CANCELLED', 'EXPIRED')").all() as { id: string }[]).map((r) => r.id));
  open = ids.filter((id) => !ended.has(id)).length;
}
let ledger = "adds up";
try {
  const f = invariants(db, rig.target.orgId);
  if (f.heldMicros !== 0) ledger = `still holds ${f.heldMicros} µ$`;
} catch (error) {
  ledger = `BROKEN: ${(error as Error).message.slice(0, 500)}`;
}
console.log(`\naccepted ${fmtInt(ids.length)} executions, ${accepted.files.size} files, ${accepted.batches.size} batches, ${accepted.credits.size} credits; not ended: ${open}; ledger ${ledger}; problems: ${accepted.problems.length}`);
console.log(`jobs when the load stopped: ${JSON.stringify(jobKinds)}`);
for (const problem of accepted.problems.slice(0, 10)) console.log(`  WRONG ANSWER: ${problem}`);
const last = samples.at(-1);
console.log(
  JSON.stringify({
    bench: "soak",
    minutes: MINUTES,
    rate: RATE,
    samples: samples.length,
    rssMb: last && Number(last.rssMb.toFixed(1)),
    fds: last?.fds,
    dbMb: last && Number(last.dbMb.toFixed(1)),
    change: Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v.toFixed(3))])),
    jobsDue: backlog,
    accepted: ids.length,
    notEnded: open,
    ledger,
    problems: accepted.problems.length,
  }),
);

db.close();
await rig.stop();
rmSync(dataDir, { recursive: true, force: true });
if (open > 0 || ledger.startsWith("BROKEN") || accepted.problems.length > 0) process.exit(1);
