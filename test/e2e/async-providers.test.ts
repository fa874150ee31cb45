/**
 * Asynchronous upstreams behind the gateway: a fake Cog server and a fake Replicate API on
 * 127.0.0.1, each calling back on the execution's callback URL. Executions wait in
 * AWAITING_WEBHOOK and end exactly once, whatever the upstream does: a dropped create, busy,
 * duplicate and late callbacks, lost callbacks (Replicate is polled; Cog expires at the deadline),
 * bad signatures, cancels forwarded. Output files are copied before their links expire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeCog, type FakeCog } from "../helpers/fake-cog";
import { FAKE_REPLICATE_WEBHOOK_SECRET, startFakeReplicate, type FakeReplicate } from "../helpers/fake-replicate";
import { invariants } from "../helpers/invariants";
import { startTestServer, type TestServer } from "../helpers/server";

const TOKEN_ENV = "MODELROUTE_TEST_REPLICATE_TOKEN";
const SECRET_ENV = "MODELROUTE_TEST_REPLICATE_SECRET";
let server: TestServer;
let cog: FakeCog;
let replicate: FakeReplicate;

const admin = (method: string, path: string, body?: unknown) =>
  server.request(method, path, { key: null, body, headers: { authorization: `Bearer ${server.adminToken}` } });
const imageSchema = { type: "object", required: ["prompt"], properties: { prompt: { type: "string" }, ms: { type: "integer" }, fail: { type: "string" } } };

beforeAll(async () => {
  process.env[TOKEN_ENV] = "r8_test_token";
  process.env[SECRET_ENV] = FAKE_REPLICATE_WEBHOOK_SECRET;
  const run = (input: Record<string, unknown>) => ({ ms: Number(input.ms ?? 20), ...(input.fail ? { error: String(input.fail) } : {}) });
  cog = await startFakeCog({ concurrency: 4, run: (input) => ({ ...run(input), output: input.fail ? null : [`data:image/png;base64,${PNG_1X1}`] }) });
  replicate = await startFakeReplicate({ tokens: ["r8_test_token"], fileTtlMs: 400, run: (input, ctx) => ({ ...run(input), output: [ctx.file("out.png")] }) });
  server = await startTestServer();
  const applied = await admin("PUT", "/admin/v1/catalog", {
    providers: [
      { id: "gpu-box", kind: "cog", base_url: cog.url },
      { id: "replicate", kind: "replicate", base_url: replicate.apiUrl, api_key_env: TOKEN_ENV, webhook_secret_env: SECRET_ENV, config: { poll_interval_ms: 150 } },
    ],
    models: [
      { slug: "cog-image", task: "text-to-image", input_schema: imageSchema, pricing: { per_image: "0.010" }, routes: [{ provider: "gpu-box", upstream_model: "sdxl", total_ms: 1500 }] },
      { slug: "flux-schnell", task: "text-to-image", input_schema: imageSchema, pricing: { per_image: "0.003" }, routes: [{ provider: "replicate", upstream_model: "black-forest-labs/flux-schnell", total_ms: 10000 }] },
    ],
  });
  expect(applied.status).toBe(200);
});
afterAll(async () => {
  await server.stop();
  await cog.stop();
  await replicate.stop();
  delete process.env[TOKEN_ENV];
  delete process.env[SECRET_ENV];
});

const PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

async function create(model: string, input: Record<string, unknown>) {
  const res = await server.post("/v1/executions", { model, input });
  expect(res.status).toBe(202);
  return (await res.json()).id as string;
}

async function waitFor(id: string, statuses: string[], timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const execution = await (await server.get(`/v1/executions/${id}`)).json();
    if (statuses.includes(execution.status)) return execution;
    if (Date.now() > until) throw new Error(`${id} is still ${execution.status}`);
    await Bun.sleep(25);
  }
}

/** The balance transactions of one execution (exactly one when it settled once), with the org's ledger invariants checked. */
async function transactionsOf(id: string): Promise<string[]> {
  invariants(server.running.ctx.client, server.orgId);
  const list = await (await server.get("/v1/balance/transactions?limit=100")).json();
  return list.data.filter((t: { execution_id: string | null }) => t.execution_id === id).map((t: { type: string }) => t.type);
}

async function downloadPng(fileId: string) {
  const res = await server.get(`/v1/files/${fileId}/download`);
  expect(res.status).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  expect(new TextDecoder().decode(bytes.subarray(1, 4))).toBe("PNG");
}

describe("cog", () => {
  test("a job is created with PUT /predictions/{execution id}, waits for the callback, and its data: URI output becomes a file", async () => {
    const id = await create("cog-image", { prompt: "a fox", ms: 200 });
    const waiting = await waitFor(id, ["AWAITING_WEBHOOK", "COMPLETED"]);
    expect(waiting.status).toBe("AWAITING_WEBHOOK");
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("COMPLETED");
    expect(done.cost).toBe("0.010");
    expect(done.usage.images).toBe(1);
    await downloadPng(done.output.images[0].file_id);
    const put = cog.requests.find((r) => r.method === "PUT" && r.path === `/predictions/${id}`)!;
    expect(put.headers.prefer).toBe("respond-async");
    expect(put.body.webhook).toContain("/v1/providers/callbacks/");
    expect(put.body.webhook).not.toContain(id); // the token is not the execution id
    expect(put.body.webhook_events_filter).toEqual(["start", "completed"]);
    expect(await transactionsOf(id)).toEqual(["capture"]);
  });

  test("a create whose connection drops after Cog accepted it is retried with the same id: one prediction", async () => {
    const started = cog.started;
    cog.next({ dropAfterAccept: true });
    const id = await create("cog-image", { prompt: "dropped" });
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("COMPLETED");
    expect(cog.started).toBe(started + 1);
    expect(cog.requests.filter((r) => r.path === `/predictions/${id}`).length).toBe(2);
  });

  test("duplicate and late callbacks change nothing: one transition, one settlement", async () => {
    cog.next({ webhookDuplicates: 3, lateWebhook: true });
    const id = await create("cog-image", { prompt: "twice" });
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("COMPLETED");
    await Bun.sleep(300); // let the extra callbacks arrive
    expect(cog.webhooks.filter((w) => w.predictionId === id && w.status === 200).length).toBeGreaterThanOrEqual(4);
    const after = await (await server.get(`/v1/executions/${id}`)).json();
    expect(after).toEqual(done);
    expect(await transactionsOf(id)).toEqual(["capture"]);
  });

  test("busy (409) is back-pressure: retried, and not held against the route", async () => {
    cog.next({ status: 409, body: { detail: "Already running a prediction" } });
    const id = await create("cog-image", { prompt: "busy" });
    expect((await waitFor(id, ["COMPLETED", "FAILED"])).status).toBe("COMPLETED");
    const route = (await (await admin("GET", "/admin/v1/routes")).json()).data.find((r: { model: string }) => r.model === "cog-image");
    expect(route.health.failures).toBe(0);
  });

  test("a prediction that fails ends FAILED, with nothing charged", async () => {
    const id = await create("cog-image", { prompt: "x", fail: "CUDA out of memory" });
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("FAILED");
    expect(done.error.code).toBe("GENERATION_FAILED");
    expect(done.error.message).toContain("CUDA out of memory");
    expect(done.cost).toBe("0.000");
  });

  test("a lost callback ends EXPIRED at the deadline, the hold released", async () => {
    cog.next({ loseWebhooks: true });
    const id = await create("cog-image", { prompt: "lost" });
    const done = await waitFor(id, ["EXPIRED", "COMPLETED", "FAILED"], 12_000);
    expect(done.status).toBe("EXPIRED");
    expect(done.cost).toBe("0.000");
    expect(await transactionsOf(id)).toEqual(["release"]);
  }, 15_000);

  test("a cancel is forwarded to Cog", async () => {
    const id = await create("cog-image", { prompt: "long", ms: 1000 });
    await waitFor(id, ["AWAITING_WEBHOOK"]);
    const cancelled = await (await server.post(`/v1/executions/${id}/cancel`, {})).json();
    expect(cancelled.status).toBe("CANCELLED");
    for (let i = 0; i < 100 && !cog.requests.some((r) => r.path === `/predictions/${id}/cancel`); i++) await Bun.sleep(20);
    expect(cog.requests.some((r) => r.method === "POST" && r.path === `/predictions/${id}/cancel`)).toBe(true);
    expect((await (await server.get(`/v1/executions/${id}`)).json()).status).toBe("CANCELLED");
  });
});

describe("replicate", () => {
  test("a signed callback completes it; the output file is copied before its link expires", async () => {
    const id = await create("flux-schnell", { prompt: "a fox", ms: 100 });
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("COMPLETED");
    expect(done.cost).toBe("0.003");
    const create_ = replicate.requests.find((r) => r.method === "POST" && r.path === "/v1/models/black-forest-labs/flux-schnell/predictions")!;
    expect(create_.headers.authorization).toBe("Bearer r8_test_token");
    expect(create_.body.input).toEqual({ prompt: "a fox", ms: 100 });
    await Bun.sleep(500); // Replicate's link has expired by now; the gateway's file has not
    await downloadPng(done.output.images[0].file_id);
  });

  test("a callback with a bad signature is refused; the poll finishes the job", async () => {
    replicate.next({ badSignature: true });
    const id = await create("flux-schnell", { prompt: "forged", ms: 50 });
    const done = await waitFor(id, ["COMPLETED", "FAILED"]);
    expect(done.status).toBe("COMPLETED");
    const refused = replicate.webhooks.filter((w) => w.body.id && w.status === 401);
    expect(refused.length).toBeGreaterThan(0);
    expect(replicate.requests.some((r) => r.method === "GET" && r.path.startsWith("/v1/predictions/"))).toBe(true);
  });

  test("lost callbacks: the poll finishes the job", async () => {
    replicate.next({ loseWebhooks: true });
    const id = await create("flux-schnell", { prompt: "quiet", ms: 50 });
    expect((await waitFor(id, ["COMPLETED", "FAILED"])).status).toBe("COMPLETED");
  });

  test("an unknown callback token is a 404 envelope; a body that is not JSON a 400", async () => {
    const res = await fetch(`${server.url}/v1/providers/callbacks/not-a-token`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe("NOT_FOUND");
  });
});
