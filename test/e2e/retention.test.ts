import { afterAll, beforeAll, expect, test } from "bun:test";
import { purgeWebhookHistory } from "../../src/modules/webhooks/jobs";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let receiver: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  receiver = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  server = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  await server.stop();
  receiver.stop(true);
});

const count = (sql: string) => {
  return (server.running.ctx.client.query(sql).get() as { n: number }).n;
};

test("retention deletes old outbox events and finished deliveries with their attempts, not recent ones", async () => {
  const done = await (
    await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", webhook_url: `http://127.0.0.1:${receiver.port}/hook`, input: { text: "x" } })
  ).json();
  expect(done.status).toBe("COMPLETED");
  for (let i = 0; i < 100 && count("SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'succeeded'") === 0; i++) await Bun.sleep(20);
  expect(count("SELECT count(*) AS n FROM webhook_attempts")).toBeGreaterThan(0);
  const job = { id: 0, kind: "webhooks.purge" as const, payload: {}, attempt: 1, maxAttempts: 1, signal: new AbortController().signal };

  await purgeWebhookHistory(server.running.ctx, job); // today: nothing is old enough
  expect(count("SELECT count(*) AS n FROM events")).toBeGreaterThan(0);

  const later = { ...server.running.ctx, clock: { now: () => Date.now() + 31 * 86_400_000 } };
  await purgeWebhookHistory(later, job);
  expect(count(`SELECT count(*) AS n FROM events WHERE execution_id = '${done.id}'`)).toBe(0);
  expect(count("SELECT count(*) AS n FROM webhook_deliveries")).toBe(0);
  expect(count("SELECT count(*) AS n FROM webhook_attempts")).toBe(0);
});

test("retention drops what other surfaces keep of a purged execution: an AIMP run's request and result, a stored response's instructions", async () => {
  const aimp = (body: unknown) =>
    fetch(`${server.url}/api/runs`, { method: "POST", headers: { "X-API-Key": server.apiKey, "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  const indexed = await aimp({ model: "mock-embed", mode: "index", scope: "notes", input: { id: "note-1", text: "a private note", metadata: { owner: "ada" } } });
  expect(indexed.status).toBe("COMPLETED");
  const found = await aimp({ model: "mock-embed", mode: "search", scope: "notes", input: { text: "private" } });
  expect(found.status).toBe("COMPLETED");
  const response = await (await server.post("/v1/responses", { model: "mock-chat", instructions: "Keep this secret.", input: "hello" })).json();
  const runOf = (id: string) => {
    return server.running.ctx.client.query("SELECT request, result FROM aimp_runs WHERE execution_id = ?").get(id) as { request: string | null; result: string | null };
  };
  expect(runOf(found.id).result).toContain("results");
  expect(count(`SELECT count(*) AS n FROM stored_responses WHERE execution_id = '${response.id}' AND instructions IS NOT NULL`)).toBe(1);

  const { purgeExecutions } = await import("../../src/modules/executions/jobs");
  const later = { ...server.running.ctx, clock: { now: () => Date.now() + 91 * 86_400_000 } };
  await purgeExecutions(later, { id: 0, kind: "execution.purge", payload: {}, attempt: 1, maxAttempts: 1, signal: new AbortController().signal });

  for (const id of [indexed.id, found.id]) expect(runOf(id)).toEqual({ request: null, result: null });
  expect(count(`SELECT count(*) AS n FROM stored_responses WHERE execution_id = '${response.id}' AND instructions IS NULL AND echo = '{}'`)).toBe(1);
  // A purged run is still shown, as completed with nothing left to show; it is not re-settled as a failure.
  const polled = await (await fetch(`${server.url}/api/runs/${found.id}`, { headers: { "X-API-Key": server.apiKey } })).json();
  expect(polled).toMatchObject({ status: "COMPLETED", output: null });
});
