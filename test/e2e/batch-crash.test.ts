/**
 * A 10,000-line OpenAI batch survives a kill -9 of the server half way: after the restart it
 * completes, every line is in the output file exactly once, every line made exactly one
 * execution (none run twice, none lost), no hold is left open and the balance moved by exactly
 * the sum of the lines' charges.
 */
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invariants } from "../helpers/invariants";
import { spawnServer, type ServerProcess } from "../helpers/process";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-batch-crash-"));
let current: ServerProcess | undefined;
afterAll(() => {
  current?.proc.kill(9);
  rmSync(dataDir, { recursive: true, force: true });
});

const LINES = 10_000;

test("kill -9 half way through a 10,000-line batch: after restart it completes, no line charged twice, none lost", async () => {
  const env = { MODELROUTE_BATCH_CONCURRENCY: "8" };
  current = await spawnServer(dataDir, env);
  const { api_key: key } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const auth = { authorization: `Bearer ${key}` };
  const api = async (path: string, init: RequestInit = {}) => (await fetch(`${current!.url}${path}`, { ...init, headers: { ...auth, ...init.headers } })).json();
  const before = await api("/v1/balance");

  const text = Array.from({ length: LINES }, (_, i) =>
    JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "mock-chat", messages: [{ role: "user", content: `request number ${i}` }], max_tokens: 16 } }),
  ).join("\n");
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", new File([text], "big.jsonl"));
  const file = await api("/v1/files", { method: "POST", body: form });
  const created = await api("/v1/batches", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
  expect(created.status).toBe("validating");

  // Half way: some lines done, most still to run.
  let progress = created;
  for (let i = 0; i < 2000 && progress.request_counts.completed < LINES / 4; i++) {
    await Bun.sleep(10);
    progress = await api(`/v1/batches/${created.id}`);
  }
  expect(progress.status).toBe("in_progress");
  expect(progress.request_counts.completed).toBeLessThan(LINES / 2 + LINES / 4);
  current.proc.kill(9);
  await current.exited;

  current = await spawnServer(dataDir, env, current.port);
  let batch = progress;
  for (let i = 0; i < 4800 && batch.status !== "completed"; i++) {
    await Bun.sleep(50);
    batch = await api(`/v1/batches/${created.id}`);
  }
  expect(batch.status).toBe("completed");
  expect(batch.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 });

  const output = (await (await fetch(`${current.url}/v1/files/${batch.output_file_id}/content`, { headers: { ...auth, accept: "application/binary" } })).text()).trim().split("\n").map((l) => JSON.parse(l));
  expect(output.length).toBe(LINES);
  expect(new Set(output.map((l) => l.custom_id)).size).toBe(LINES);
  expect(output.every((l) => l.response.status_code === 200)).toBe(true);
  const executionIds = new Set(output.map((l) => l.response.body.id as string));
  expect(executionIds.size).toBe(LINES);

  const after = await api("/v1/balance");
  expect(after.held).toBe("0.000");
  current.proc.kill("SIGTERM");
  expect(await current.exited).toBe(0);

  // The database itself: one execution per line, each completed and charged once.
  const db = new Database(join(dataDir, "modelroute.db"), { readonly: true });
  const executions = db.query("SELECT id, status, cost_micros FROM executions WHERE json_extract(metadata, '$.batch_id') = ?").all(created.id) as { id: string; status: string; cost_micros: number }[];
  expect(executions.length).toBe(LINES);
  expect(new Set(executions.map((e) => e.id))).toEqual(executionIds);
  expect(executions.every((e) => e.status === "COMPLETED")).toBe(true);
  const orgId = (db.query("SELECT org_id FROM executions WHERE id = ?").get(executions[0]!.id) as { org_id: string }).org_id;
  invariants(db, orgId); // charged once: a second capture or release would break the balance sums
  const charged = executions.reduce((sum, e) => sum + e.cost_micros, 0);
  db.close();
  const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);
  expect(micros(before.available) - micros(after.available)).toBe(charged);
}, 300_000);
