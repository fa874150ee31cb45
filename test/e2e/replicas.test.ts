/**
 * Three replicas (real server processes) on one PostgreSQL and one S3-compatible server
 * (docs/scale-out.md): a balance that pays for exactly K holds accepts exactly K of N concurrent
 * creates spread over the replicas; an execution created on one is streamed from another and
 * cancelled from a third; files uploaded through one are read through another; a replica with
 * local file storage is refused; sessions PostgreSQL terminates are made again; and after kill -9
 * of a replica in the middle of a load, every accepted execution ends once, its jobs taken over
 * after the lease, its webhook delivered at least once with one stable id, with the ledger's
 * invariants holding and no hold left open.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PgDatabase } from "../../src/db/postgres/database";
import { invariants } from "../helpers/invariants";
import { freshDatabase, requirePostgres } from "../helpers/postgres";
import { runCli, spawnServer, type ServerProcess } from "../helpers/process";
import { s3Env, startS3rver, type S3Server } from "../helpers/s3";
import { startReceiver } from "../helpers/webhook-receiver";

const available = requirePostgres();
const HOLDS = 5;
const HOLD_MICROS = 40_000; // mock-image's maximum cost

let s3: S3Server;
let url: string;
let replicas: ServerProcess[] = [];
let apiKey: string;
let adminToken: string;
let orgId: string;

const env = () => ({
  ...s3Env(s3),
  MODELROUTE_DATABASE_URL: url,
  MODELROUTE_JOB_LEASE_MS: "1500",
  MODELROUTE_BOOTSTRAP_CREDIT: ((HOLDS * HOLD_MICROS) / 1e6).toFixed(3),
  MODELROUTE_RATE_LIMIT_RPM: "0",
  MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true",
  MODELROUTE_WEBHOOK_RETRY_SCHEDULE: "200,400,800,1600",
});

const post = (replica: ServerProcess, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(replica.url + path, { method: "POST", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
const get = (replica: ServerProcess, path: string) => fetch(replica.url + path, { headers: { authorization: `Bearer ${apiKey}` } });
/** POST /admin/v1/orgs/{id}/credits with the operator token, through the replica given. */
const addCredit = (replica: ServerProcess, amount: string) =>
  fetch(`${replica.url}/admin/v1/orgs/${orgId}/credits`, { method: "POST", headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" }, body: JSON.stringify({ amount }) });
const image = (extra: Record<string, unknown> = {}) => ({ model: "mock-image", mode: "ASYNC", input: { prompt: "a lighthouse", ...extra } });

async function terminal(replica: ServerProcess, id: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const row = await (await get(replica, `/v1/executions/${id}`)).json();
    if (["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(row.status)) return row;
    if (Date.now() > until) throw new Error(`${id} still ${row.status}`);
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  if (!available) return;
  s3 = await startS3rver("modelroute-replicas");
  url = await freshDatabase();
  const first = mkdtempSync(join(tmpdir(), "modelroute-replica-"));
  replicas.push(await spawnServer(first, env()));
  const bootstrap = await Bun.file(join(first, "bootstrap.json")).json();
  apiKey = bootstrap.api_key;
  orgId = bootstrap.org_id;
  adminToken = bootstrap.admin_token;
  for (let i = 0; i < 2; i++) replicas.push(await spawnServer(mkdtempSync(join(tmpdir(), "modelroute-replica-")), env()));
}, 60_000);

afterAll(async () => {
  for (const r of replicas) r.proc.kill(9);
  await s3?.stop();
});

describe.skipIf(!available)("replicas on one PostgreSQL", () => {
  test("a replica with local file storage is refused while others run, with the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "modelroute-replica-"));
    await expect(spawnServer(dir, { ...env(), MODELROUTE_STORAGE: "local" })).rejects.toThrow(/other replicas are running on this database/);
  });

  test("backup and restore refuse on PostgreSQL and name pg_dump", async () => {
    const run = await runCli(["backup", join(tmpdir(), `never-${Date.now()}.db`)], mkdtempSync(join(tmpdir(), "modelroute-replica-")), { MODELROUTE_DATABASE_URL: url });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("pg_dump");
  });

  test(`N concurrent creates spread over the replicas against a balance for exactly ${HOLDS} holds accept exactly ${HOLDS}`, async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => post(replicas[i % 3]!, "/v1/executions", image({ mock_latency_ms: 1500 }))));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 202).length).toBe(HOLDS);
    expect(statuses.filter((s) => s === 402).length).toBe(30 - HOLDS);
    const accepted = await Promise.all(answers.filter((a) => a.status === 202).map((a) => a.json()));
    for (const e of accepted) expect((await terminal(replicas[1]!, e.id)).status).toBe("COMPLETED");
    const db = new PgDatabase(url);
    try {
      const figures = invariants(db as never, orgId);
      expect(figures.openHolds).toBe(0);
      expect(figures.capturesMicros).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  }, 60_000);

  test("a key's requests-per-minute limit is one count across the replicas", async () => {
    const created = await (await post(replicas[0]!, "/v1/api-keys", { name: "rpm", limits: { requests_per_minute: 6 } })).json();
    // A window boundary between the requests would reset the count: start early in a minute.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await Bun.sleep(60_000 - intoMinute + 100);
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push((await fetch(`${replicas[i % 3]!.url}/v1/balance`, { headers: { authorization: `Bearer ${created.key}` } })).status);
    expect(answers.filter((s) => s === 200).length).toBe(6);
    expect(answers.filter((s) => s === 429).length).toBe(6);
  }, 30_000);

  test("a file uploaded through one replica is read and downloaded through another", async () => {
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7 + 3) & 0xff);
    const init = await (await post(replicas[0]!, "/v1/files/upload", { filename: "clip.mp4", content_type: "video/mp4", size_bytes: bytes.byteLength })).json();
    expect((await fetch(init.upload_url, { method: "PUT", body: bytes, headers: { "content-type": "video/mp4" } })).status).toBe(200);
    const meta = await (await get(replicas[1]!, `/v1/files/${init.file_id}`)).json();
    expect(meta).toMatchObject({ id: init.file_id, status: "uploaded", size_bytes: bytes.byteLength });
    const downloaded = new Uint8Array(await (await get(replicas[2]!, `/v1/files/${init.file_id}/download`)).arrayBuffer());
    expect(Buffer.compare(Buffer.from(downloaded), Buffer.from(bytes))).toBe(0);
  });

  test("created on one replica, streamed from a second, cancelled from a third", async () => {
    // Credit for what follows, through the operator API of another replica.
    expect((await addCredit(replicas[2]!, "1.000")).status).toBe(201);
    const created = await (await post(replicas[0]!, "/v1/executions", { model: "mock-chat", mode: "ASYNC", input: { messages: [{ role: "user", content: "hi" }], mock_latency_ms: 3000 } })).json();
    expect(created.id).toBeDefined();
    const events = await fetch(`${replicas[1]!.url}/v1/executions/${created.id}/events`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    const seen: string[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen.push(decoder.decode(value));
      }
    })();
    await Bun.sleep(500);
    const cancelled = await post(replicas[2]!, `/v1/executions/${created.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    expect((await cancelled.json()).status).toBe("CANCELLED");
    await Promise.race([reading, Bun.sleep(5000)]);
    const text = seen.join("");
    expect(text).toContain("event: status");
    expect(text).toContain('"CANCELLED"');
  }, 30_000);

  test("sessions terminated by PostgreSQL are made again: requests, notifications and the replicas lock go on", async () => {
    const admin = new PgDatabase(url);
    try {
      const killed = admin.query("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").get() as { n: number };
      expect(killed.n).toBeGreaterThanOrEqual(6); // two sessions per replica
      await Bun.sleep(100);
      for (const replica of replicas) expect((await get(replica, "/v1/balance")).status).toBe(200);
      // Notifications again: a cancel from one replica reaches the run on another.
      const created = await (await post(replicas[0]!, "/v1/executions", { model: "mock-chat", mode: "ASYNC", input: { messages: [{ role: "user", content: "again" }], mock_latency_ms: 3000 } })).json();
      await Bun.sleep(300);
      const started = performance.now();
      const cancelled = await post(replicas[1]!, `/v1/executions/${created.id}/cancel`, {});
      expect((await cancelled.json()).status).toBe("CANCELLED");
      expect(performance.now() - started).toBeLessThan(2000); // the hand-off, not the 5 s fallback
      // The lock again: a local-storage replica is still refused.
      await expect(spawnServer(mkdtempSync(join(tmpdir(), "modelroute-replica-")), { ...env(), MODELROUTE_STORAGE: "local" })).rejects.toThrow(/other replicas are running/);
    } finally {
      admin.close();
    }
  }, 30_000);

  test("kill -9 of a replica in the middle of a load: every accepted execution ends once, taken over after the lease, its webhook delivered", async () => {
    const rx = startReceiver();
    expect((await addCredit(replicas[0]!, "2.000")).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 4 === 3
          ? post(replicas[i % 3]!, "/v1/executions", { model: "mock-chat", mode: "ASYNC", input: { messages: [{ role: "user", content: `n${i}` }], mock_latency_ms: 1200 }, webhook_url: `${rx.url}/done` })
          : post(replicas[i % 3]!, "/v1/executions", { ...image({ mock_latency_ms: 1200, seed: i }), webhook_url: `${rx.url}/done` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const accepted = await Promise.all(answers.map((a) => a.json()));
    await Bun.sleep(300);
    replicas[1]!.proc.kill(9);
    await replicas[1]!.exited;
    // The killed replica's runs are claimed again once their lease (1.5 s here) lapses.
    const ended = await Promise.all(accepted.map((e) => terminal(replicas[0]!, e.id, 30_000)));
    expect(ended.map((e) => e.status)).toEqual(ended.map(() => "COMPLETED"));
    // At least once each, with a stable event id: a repeat carries the id of the first.
    const ids = new Set(accepted.map((e) => e.id));
    await rx.waitFor(ids.size, undefined, 20_000).catch(() => null);
    const byExecution = new Map<string, Set<string>>();
    for (const hit of rx.received) {
      if (!ids.has(hit.json.data.id)) continue;
      if (!byExecution.has(hit.json.data.id)) byExecution.set(hit.json.data.id, new Set());
      byExecution.get(hit.json.data.id)!.add(hit.headers.get("webhook-id")!);
    }
    rx.stop();
    expect([...ids].filter((id) => !byExecution.has(id))).toEqual([]);
    expect([...byExecution.values()].every((eventIds) => eventIds.size === 1)).toBe(true);
    const db = new PgDatabase(url);
    try {
      expect(invariants(db as never, orgId).openHolds).toBe(0);
      // Finished jobs are deleted with the next write batch, a dead replica's after their lease: none stays.
      const runJobs = () => (db.query("SELECT count(*) AS n FROM jobs WHERE kind = 'execution.run'").get() as { n: number }).n;
      for (let i = 0; i < 50 && runJobs() > 0; i++) await Bun.sleep(100);
      expect(runJobs()).toBe(0);
    } finally {
      db.close();
    }
  }, 60_000);
});
