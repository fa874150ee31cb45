/** Timeouts, queue expiry, retention and shutdown: the engine's edges, over real HTTP. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as Catalog from "../../src/modules/catalog/service";
import { DEFAULT_MODELS } from "../../src/modules/catalog/default-catalog";
import { purgeExecutions } from "../../src/modules/executions/jobs";
import { startTestServer, type TestServer } from "../helpers/server";
import { startReceiver, verify } from "../helpers/webhook-receiver";

let server: TestServer;
beforeAll(async () => {
  // One worker: a slow execution keeps the next one queued long enough to expire.
  server = await startTestServer({ env: { MODELROUTE_WORKER_CONCURRENCY: "1", MODELROUTE_QUEUE_TTL_MS: "1000", MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  const demo = DEFAULT_MODELS.find((m) => m.slug === "demo-model")!;
  const { db } = server.running.ctx;
  db.transaction((tx) =>
    Catalog.applyCatalog(tx, { providers: [], models: [{ ...demo, slug: "demo-short-timeout", routes: [{ ...demo.routes[0]!, timeoutMs: 200 }] }] }, Date.now()),
  );
  Catalog.invalidateCatalog(db);
});
afterAll(() => server.stop());

async function waitTerminal(id: string) {
  for (let i = 0; i < 200; i++) {
    const execution = await (await server.get(`/v1/executions/${id}`)).json();
    if (["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(execution.status)) return execution;
    await Bun.sleep(50);
  }
  throw new Error("never finished");
}

test("a provider call over its route timeout ends FAILED with GENERATION_TIMEOUT and costs nothing", async () => {
  const res = await server.post("/v1/executions", { model: "demo-short-timeout", mode: "SYNC", input: { text: "slow", mock_latency_ms: 2000 } });
  const execution = await res.json();
  expect(execution.status).toBe("FAILED");
  expect(execution.error.code).toBe("GENERATION_TIMEOUT");
  expect(execution.cost).toBe("0.000");
});

test("an execution still queued after its time to live ends EXPIRED with its hold released, and its webhook_url hears execution.expired", async () => {
  const rx = startReceiver();
  try {
    const blocker = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "block", mock_latency_ms: 2500 } })).json();
    const queued = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "queued" }, webhook_url: `${rx.url}/done` })).json();
    const expired = await waitTerminal(queued.id);
    expect(expired.status).toBe("EXPIRED");
    expect(expired.started_at).toBeNull();
    const result = await (await server.get(`/v1/executions/${queued.id}/result`)).json();
    expect(result).toMatchObject({ status: "EXPIRED", output: null, cost: "0.000", error: { code: "GENERATION_TIMEOUT" } });
    const [hit] = await rx.waitFor(1);
    expect(hit!.json).toMatchObject({ type: "execution.expired", data: { id: queued.id, status: "EXPIRED", cost: "0.000" } });
    const { secret } = await (await server.get("/v1/webhooks/signing-secret")).json();
    expect(verify(hit!, secret)).toEqual({ seed: true, standard: true });
    expect((await waitTerminal(blocker.id)).status).toBe("COMPLETED");
    expect((await (await server.get("/v1/balance")).json()).held).toBe("0.000");
  } finally {
    rx.stop();
  }
});

test("retention purges input and output of executions finished long ago, and keeps the record", async () => {
  const done = await (await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "keep me briefly" } })).json();
  expect(done.status).toBe("COMPLETED");
  const { ctx } = server.running;
  const later = { ...ctx, clock: { now: () => Date.now() + 31 * 86_400_000 } };
  await purgeExecutions(later, { id: 0, kind: "execution.purge", payload: {}, attempt: 1, maxAttempts: 1, signal: new AbortController().signal });
  const purged = await (await server.get(`/v1/executions/${done.id}`)).json();
  expect(purged).toMatchObject({ id: done.id, status: "COMPLETED", input: null, output: null, cost: done.cost });
});

test("an execution cancelled as its run starts never calls the provider: the only worker is free for the next one at once", async () => {
  // Creates and cancels in parallel, so cancels land in the same write batch as the PROCESSING step.
  const createAndCancel = async () => {
    const created = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "never mind", mock_latency_ms: 10_000 } })).json();
    expect((await server.post(`/v1/executions/${created.id}/cancel`, {})).status).toBe(200);
  };
  await Promise.all(Array.from({ length: 10 }, createAndCancel));
  const next = await (await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "my turn" } })).json();
  expect(next.status).toBe("COMPLETED");
});
