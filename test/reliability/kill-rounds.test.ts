/**
 * kill -9 at random moments under a mixed load (test/reliability/mixed-load.ts), restart on the
 * same data and port, N rounds (MODELROUTE_KILL_ROUNDS, 3 by default; MODELROUTE_KILL_SEED
 * replays a run). Then, with the load stopped: every execution an answer named exists and ends,
 * the ledger adds up with every hold resolved once, the credits are exactly the ones answered
 * (each Idempotency-Key applied once), an Idempotency-Key names one execution, every webhook due
 * arrived with one stable id, no job is left, every batch completed with one execution per line,
 * and every uploaded file reads back byte for byte. On the PostgreSQL pass the same runs there.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PgDatabase } from "../../src/db/postgres/database";
import { sha256Hex } from "../helpers/files";
import { invariants } from "../helpers/invariants";
import { requirePostgres, suiteOnPostgres } from "../helpers/postgres";
import { RIG_CREDIT_MICROS, startLoadRig, type LoadRig } from "./load-rig";
import { seeded } from "../helpers/seeded";
import { startMixedLoad } from "./mixed-load";

const ROUNDS = Number(process.env.MODELROUTE_KILL_ROUNDS ?? 3);
const SEED = Number(process.env.MODELROUTE_KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TERMINAL = new Set(["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"]);
/** Jobs that belong to one piece of work; the periodic ones (sweeps, purges, the dispatcher) stay. */
const WORK_JOBS = ["execution.run", "execution.poll", "execution.cancel-upstream", "webhook.deliver", "batch.validate", "batch.line", "batch.finalize", "batch.expire"];

const onPostgres = suiteOnPostgres();
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-kill-rounds-"));
let rig: LoadRig | undefined;
let db: Database | PgDatabase | undefined;
afterAll(async () => {
  rig?.server.proc.kill(9);
  await rig?.stop();
  db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function until<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value).slice(0, 2000)}`);
    await Bun.sleep(100);
  }
}

test.skipIf(onPostgres && !requirePostgres())(`kill -9 under mixed load, ${ROUNDS} rounds: nothing accepted is lost, nothing is done twice`, async () => {
  console.log(`kill rounds: ${ROUNDS}, seed ${SEED} (MODELROUTE_KILL_SEED=${SEED} replays the mix)`);
  const random = seeded(SEED ^ 0x5eed);
  rig = await startLoadRig(dataDir);
  const { target, receiver: rx, replicate } = rig;
  const orgId = target.orgId;

  const load = startMixedLoad(target, { workers: 8, seed: SEED });
  for (let round = 1; round <= ROUNDS; round++) {
    await Bun.sleep(400 + Math.floor(random() * 800));
    rig.server.proc.kill(9);
    await rig.server.exited;
    await rig.restart();
  }
  await Bun.sleep(300);
  await load.stop();
  const { accepted } = load;
  console.log(`accepted: ${accepted.executions.size} executions, ${accepted.credits.size} credits, ${accepted.files.size} files, ${accepted.batches.size} batches, ${accepted.cancels} cancels; answered ${JSON.stringify(accepted.answered)}`);
  expect(accepted.problems).toEqual([]);
  expect(accepted.pendingCredits.size).toBe(0);
  expect(accepted.executions.size).toBeGreaterThan(20);

  db = rig.databaseUrl ? new PgDatabase(rig.databaseUrl) : new Database(join(dataDir, "modelroute.db"), { readonly: true });
  const checks = db as Database; // PgDatabase has bun:sqlite's interface (src/db/postgres/database.ts)
  const ids = [...accepted.executions.keys()];
  const statusOf = () => new Map((checks.query("SELECT id, status FROM executions WHERE org_id = ?").all(orgId) as { id: string; status: string }[]).map((r) => [r.id, r.status]));

  // Every execution an answer named exists, and every one ends.
  const statuses = await until("every execution to end", statusOf, (s) => [...s.values()].every((status) => TERMINAL.has(status)) && ids.every((id) => s.has(id)), 45_000);
  expect(ids.filter((id) => !statuses.has(id))).toEqual([]);

  // No work left behind.
  const placeholders = WORK_JOBS.map(() => "?").join(", ");
  await until("the work jobs to drain", () => checks.query(`SELECT kind, count(*) AS n FROM jobs WHERE kind IN (${placeholders}) GROUP BY kind`).all(...WORK_JOBS), (rows) => rows.length === 0);

  // Money: every hold resolved once; the credits are the bootstrap's and the ones answered, once each.
  const figures = invariants(checks, orgId);
  expect(figures).toMatchObject({ heldMicros: 0, openHolds: 0 });
  const answeredCredits = [...accepted.credits.values()].reduce((a, b) => a + b, 0);
  expect(figures.creditsMicros).toBe(RIG_CREDIT_MICROS + answeredCredits);

  // An Idempotency-Key names one execution, however often it was sent.
  for (const [key, named] of accepted.idempotentCreates) expect({ key, named: [...named] }).toEqual({ key, named: [...named].slice(0, 1) });

  // Webhooks: each one due arrived at least once, every attempt with the same id.
  const dueWebhooks = ids.filter((id) => accepted.executions.get(id)!.webhook);
  const byExecution = new Map<string, Set<string>>();
  const collect = () => {
    byExecution.clear();
    for (const r of rx.received.filter((r) => r.json?.data?.id && r.json.type !== "execution.started")) {
      const ids = byExecution.get(r.json.data.id) ?? new Set<string>();
      ids.add(r.headers.get("webhook-id")!);
      byExecution.set(r.json.data.id, ids);
    }
    return dueWebhooks.filter((id) => !byExecution.has(id));
  };
  expect(await until("every due webhook", collect, (missing) => missing.length === 0)).toEqual([]);
  for (const [execution, webhookIds] of byExecution) expect({ execution, ids: webhookIds.size }).toEqual({ execution, ids: 1 });
  const counts: Record<string, number> = {};
  for (const status of statuses.values()) counts[status] = (counts[status] ?? 0) + 1;
  const attempts = new Map<string, number>();
  for (const r of rx.received) attempts.set(r.headers.get("webhook-id")!, (attempts.get(r.headers.get("webhook-id")!) ?? 0) + 1);
  console.log(
    `ended: ${JSON.stringify(counts)}; webhooks: ${dueWebhooks.length} due, ${rx.received.length} requests, ${[...attempts.values()].filter((n) => n > 1).length} events sent more than once; ` +
      `upstream predictions: ${replicate.predictions.size}, its callbacks: ${replicate.webhooks.length}`,
  );

  // Batches: each one completed, one execution per line, every line once in its output.
  const auth = { authorization: `Bearer ${target.apiKey}` };
  const url = target.url();
  const api = async (path: string) => (await fetch(`${url}${path}`, { headers: auth })).json();
  for (const [batchId, lines] of accepted.batches) {
    const batch = await until(`batch ${batchId}`, () => api(`/v1/batches/${batchId}`), (b) => ["completed", "failed", "expired", "cancelled"].includes(b.status));
    expect({ batchId, status: batch.status, counts: batch.request_counts }).toEqual({ batchId, status: "completed", counts: { total: lines, completed: lines, failed: 0 } });
    const output = (await (await fetch(`${url}/v1/files/${batch.output_file_id}/content`, { headers: auth })).text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(new Set(output.map((l) => l.custom_id)).size).toBe(lines);
    const rows = checks.query("SELECT execution_id FROM batch_lines WHERE batch_id = ?").all(batchId) as { execution_id: string }[];
    expect(new Set(rows.map((r) => r.execution_id)).size).toBe(lines);
    const made = checks.query("SELECT count(*) AS n FROM executions WHERE org_id = ? AND metadata LIKE ?").get(orgId, `%${batchId}%`) as { n: number };
    expect(made.n).toBe(lines);
  }

  // Files read back byte for byte.
  for (const [fileId, sha256] of accepted.files) {
    const res = await fetch(`${url}/v1/files/${fileId}/content`, { headers: auth });
    expect({ fileId, status: res.status, sha256: sha256Hex(new Uint8Array(await res.arrayBuffer())) }).toEqual({ fileId, status: 200, sha256 });
  }

  rig.server.proc.kill("SIGTERM");
  expect(await rig.server.exited).toBe(0);
}, 150_000);
