/**
 * The OpenRouter-compatible account endpoints over raw HTTP, as code written for OpenRouter
 * calls them: the key's spend and limit, the organization's credits, a generation's record
 * (404 until it has ended), models in OpenRouter's shape, providers, errors in OpenRouter's shape.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const get = async (path: string, key = server.apiKey) => {
  const res = await server.get(`/api/v1${path}`, key);
  return { status: res.status, body: await res.json() };
};

test("key and credits follow the ledger exactly", async () => {
  const before = await get("/credits");
  expect(before.status).toBe(200);
  expect(before.body.data).toEqual({ total_credits: 10, total_usage: 0 });
  const execution = await (await server.post("/v1/executions", { model: "mock-image", mode: "SYNC", input: { prompt: "a fox" } })).json();
  expect(execution.status).toBe("COMPLETED");
  const after = (await get("/credits")).body.data;
  expect(after).toEqual({ total_credits: 10, total_usage: 0.04 });
  const key = (await get("/key")).body.data;
  expect(key).toMatchObject({ label: "bootstrap", usage: 0.04, usage_daily: 0.04, is_management_key: true, limit: null, limit_remaining: null, is_free_tier: false });
  expect(key.rate_limit.interval).toBe("1m");
});

test("credits need a management key; an inference key gets OpenRouter's 403 shape", async () => {
  const { key } = server.newOrgKey({ permission: "inference" });
  const res = await get("/credits", key);
  expect(res.status).toBe(403);
  expect(res.body).toEqual({ error: { code: 403, message: expect.any(String) } });
  expect((await get("/key", key)).body.data.is_management_key).toBe(false);
});

test("generation: the record of a finished execution; 404 while it runs or when unknown", async () => {
  const running = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "slow", mock_latency_ms: 500 } })).json();
  expect((await get(`/generation?id=${running.id}`)).status).toBe(404);
  const done = await (await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "hello there" } })).json();
  const record = (await get(`/generation?id=${done.id}`)).body.data;
  expect(record).toMatchObject({ id: done.id, model: "demo-model", streamed: false, cancelled: false, provider_name: "mock", finish_reason: "stop", tokens_prompt: done.usage.input_tokens, tokens_completion: done.usage.output_tokens, total_cost: Number(done.cost) });
  expect(record.latency).toBe(done.latency_ms);
  const unknown = await get("/generation?id=exec_00000000-0000-7000-8000-000000000000");
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe(404);
  const missing = await get("/generation");
  expect(missing.status).toBe(400);
  expect(missing.body.error.metadata).toEqual({ param: "id" });
});

test("models in OpenRouter's shape, filtered by output modality; count; providers", async () => {
  const text = (await get("/models")).body.data;
  const ids = text.map((m: { id: string }) => m.id);
  expect(ids).toContain("mock-chat");
  expect(ids).not.toContain("mock-image");
  const chat = text.find((m: { id: string }) => m.id === "mock-chat");
  expect(chat.pricing).toMatchObject({ prompt: "5e-7", completion: "0.0000015" });
  expect(chat.architecture.output_modalities).toEqual(["text"]);
  const all = (await get("/models?output_modalities=all")).body.data;
  expect(all.length).toBeGreaterThan(text.length);
  expect((await get("/models/count?output_modalities=all")).body.data.count).toBe(all.length);
  expect((await get("/providers")).body.data).toContainEqual(expect.objectContaining({ slug: "mock" }));
  const anonymous = await server.get("/api/v1/models", null);
  expect(anonymous.status).toBe(401);
  expect((await anonymous.json()).error.code).toBe(401);
});

test("keys: create with a spend limit, use it, see its usage, update, disable, delete; management keys only", async () => {
  const send = async (method: string, path: string, body?: unknown, key = server.apiKey) => {
    const res = await server.request(method, `/api/v1${path}`, { key, body });
    return { status: res.status, body: await res.json() };
  };
  const created = await send("POST", "/keys", { name: "ci runner", limit: 1, limit_reset: "daily" });
  expect(created.status).toBe(201);
  expect(created.body.key).toStartWith("sk_");
  expect(created.body.data).toMatchObject({ name: "ci runner", disabled: false, limit: 1, limit_remaining: 1, limit_reset: "daily", usage: 0 });
  const hash = created.body.data.hash;

  // The new key is an inference key: it runs models but manages nothing.
  const ran = await (await server.post("/v1/executions", { model: "mock-image", mode: "SYNC", input: { prompt: "x" } }, created.body.key)).json();
  expect(ran.status).toBe("COMPLETED");
  expect((await send("GET", "/keys", undefined, created.body.key)).status).toBe(403);
  const after = (await send("GET", `/keys/${hash}`)).body.data;
  expect(after).toMatchObject({ usage: 0.04, usage_daily: 0.04, limit_remaining: 0.96 });

  const listed = (await send("GET", "/keys")).body.data.map((k: { hash: string }) => k.hash);
  expect(listed).toContain(hash);
  expect((await send("PATCH", `/keys/${hash}`, { name: "renamed", limit: null })).body.data).toMatchObject({ name: "renamed", limit: null, limit_remaining: null });
  expect((await send("PATCH", `/keys/${hash}`, { disabled: true })).body.data.disabled).toBe(true);
  expect((await send("GET", "/keys")).body.data.map((k: { hash: string }) => k.hash)).not.toContain(hash);
  expect((await send("GET", "/keys?include_disabled=true")).body.data.map((k: { hash: string }) => k.hash)).toContain(hash);
  expect((await send("DELETE", `/keys/${hash}`)).body).toEqual({ deleted: true });
  expect((await send("POST", "/keys", { name: "x", limit: -1 })).body.error).toMatchObject({ code: 400, metadata: { param: "limit" } });
  expect((await send("POST", "/keys", { name: "x", colour: "red" })).body.error).toMatchObject({ code: 400, metadata: { param: "colour" } });
  expect((await send("GET", "/keys/key_00000000-0000-7000-8000-000000000000")).status).toBe(404);
});

test("activity: spend and tokens per day and model, management keys only", async () => {
  const before = (await get("/activity")).body.data;
  await server.post("/v1/executions", { model: "mock-image", mode: "SYNC", input: { prompt: "count me" } });
  const rows = (await get("/activity")).body.data;
  const today = new Date().toISOString().slice(0, 10);
  const row = rows.find((r: { date: string; model: string }) => r.date === today && r.model === "mock-image");
  const earlier = before.find((r: { date: string; model: string }) => r.date === today && r.model === "mock-image");
  expect(row.requests).toBe((earlier?.requests ?? 0) + 1);
  expect(row.usage).toBeCloseTo((earlier?.usage ?? 0) + 0.04, 6);
  expect(row.provider_name).toBe("mock");
  expect((await get(`/activity?date=${today}`)).body.data.every((r: { date: string }) => r.date === today)).toBe(true);
  expect((await get("/activity?date=2001-01-01")).status).toBe(400);
  expect((await get("/activity", server.newOrgKey({ permission: "inference" }).key)).status).toBe(403);
});
