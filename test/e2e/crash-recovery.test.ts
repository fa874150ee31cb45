import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, type ServerProcess } from "../helpers/process";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-crash-"));
let current: ServerProcess | undefined;
afterAll(() => {
  current?.proc.kill(9);
  rmSync(dataDir, { recursive: true, force: true });
});

test("kill -9 with executions in flight: after restart every one reaches a terminal state and no hold stays open", async () => {
  // Two workers: most executions are still PENDING, two are PROCESSING, when the process dies.
  const env = { MODELROUTE_WORKER_CONCURRENCY: "2" };
  current = await spawnServer(dataDir, env);
  const { api_key: key } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`${current.url}/v1/executions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "demo-model", input: { text: `crash ${i}`, mock_latency_ms: 1500 } }),
    });
    expect(res.status).toBe(202);
    ids.push((await res.json()).id);
  }
  await Bun.sleep(200);
  const before = await Promise.all(ids.map(async (id) => (await (await fetch(`${current!.url}/v1/executions/${id}`, { headers })).json()).status));
  expect(before).toContain("PROCESSING");
  expect(before).toContain("PENDING");

  current.proc.kill(9);
  await current.exited;

  current = await spawnServer(dataDir, env, current.port);
  const statuses = new Map<string, string>();
  for (let round = 0; round < 200 && statuses.size < ids.length; round++) {
    for (const id of ids) {
      if (statuses.has(id)) continue;
      const execution = await (await fetch(`${current.url}/v1/executions/${id}`, { headers })).json();
      if (["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(execution.status)) statuses.set(id, execution.status);
    }
    await Bun.sleep(100);
  }
  // The mock provider declares its calls idempotent, so interrupted runs are re-run to completion.
  expect([...statuses.values()]).toEqual(ids.map(() => "COMPLETED"));
  const balance = await (await fetch(`${current.url}/v1/balance`, { headers })).json();
  expect(balance.held).toBe("0.000");
  current.proc.kill("SIGTERM");
  expect(await current.exited).toBe(0);
}, 60_000);
