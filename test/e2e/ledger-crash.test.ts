/**
 * kill -9 with open holds, then restart: every hold ends captured or released exactly once, and
 * the balance adds up (checked on the SQLite file itself).
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invariants } from "../helpers/invariants";
import { spawnServer, type ServerProcess } from "../helpers/process";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-ledger-crash-"));
let current: ServerProcess | undefined;
let db: Database | undefined;
afterAll(() => {
  current?.proc.kill(9);
  db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const TERMINAL = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];

test("kill -9 with open holds: after restart every hold is resolved exactly once and the ledger adds up", async () => {
  const env = { MODELROUTE_WORKER_CONCURRENCY: "2", MODELROUTE_RATE_LIMIT_RPM: "0" };
  current = await spawnServer(dataDir, env);
  const { api_key: key, org_id: orgId } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const bodies = [
    ...Array.from({ length: 4 }, (_, i) => ({ model: "mock-image", input: { prompt: `crash ${i}`, width: 64, height: 64, mock_latency_ms: 400 } })),
    ...Array.from({ length: 4 }, (_, i) => ({ model: "demo-model", input: { text: `crash ${i}`, mock_latency_ms: 400 } })),
    { model: "demo-model", input: { text: "fails", mock_error: "CONTENT_MODERATION_REJECTED", mock_latency_ms: 400 } },
  ];
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await fetch(`${current.url}/v1/executions`, { method: "POST", headers, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    ids.push((await res.json()).id);
  }
  const statusOf = async (id: string) => (await (await fetch(`${current!.url}/v1/executions/${id}`, { headers })).json()).status as string;
  for (let i = 0; i < 200 && !(await Promise.all(ids.map(statusOf))).includes("PROCESSING"); i++) await Bun.sleep(10);
  const balanceBefore = await (await fetch(`${current.url}/v1/balance`, { headers })).json();
  expect(balanceBefore.held).not.toBe("0.000");

  current.proc.kill(9);
  await current.exited;
  db = new Database(join(dataDir, "modelroute.db"));
  expect(invariants(db, orgId).openHolds).toBe(ids.length);

  current = await spawnServer(dataDir, env, current.port);
  const statuses = new Map<string, string>();
  for (let round = 0; round < 300 && statuses.size < ids.length; round++) {
    for (const id of ids) {
      const status = statuses.has(id) ? null : await statusOf(id);
      if (status && TERMINAL.includes(status)) statuses.set(id, status);
    }
    if (statuses.size < ids.length) await Bun.sleep(50);
  }
  expect(statuses.size).toBe(ids.length);
  const after = invariants(db, orgId);
  expect(after).toMatchObject({ heldMicros: 0, openHolds: 0 });
  const transactions = await (await fetch(`${current.url}/v1/balance/transactions?limit=100`, { headers })).json();
  expect(transactions.data.filter((t: { execution_id: string | null }) => t.execution_id && ids.includes(t.execution_id)).length).toBe(ids.length);
  const balance = await (await fetch(`${current.url}/v1/balance`, { headers })).json();
  expect(balance.held).toBe("0.000");
  current.proc.kill("SIGTERM");
  expect(await current.exited).toBe(0);
}, 60_000);
