/**
 * The AIMP gateway-compatible surface on a real server: the REST API document's examples as
 * written (only the URL and key changed), media upload → run with the media_ref, index and
 * search, refused fields, scopes that never leak across organizations, wallet and usage equal
 * to /v1/balance and /v1/usage.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { renderPng } from "../../src/providers/mock/png";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const aimp = (method: string, path: string, key: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(server.url + path, {
    method,
    headers: { "X-API-Key": key, ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

/** The API document's curl, verbatim apart from the URL and key. */
async function curl(args: string[]) {
  const proc = Bun.spawn(["curl", "-s", "-w", "\n%{http_code}", ...args], { stdout: "pipe", env: { ...process.env, AIMP_GATEWAY_URL: server.url, AIMP_API_KEY: server.apiKey } });
  const out = await new Response(proc.stdout).text();
  const at = out.lastIndexOf("\n");
  return { status: Number(out.slice(at + 1)), body: JSON.parse(out.slice(0, at)) };
}

test("the documented execute example runs demo-model as written", async () => {
  const { status, body } = await curl([
    "-X", "POST", `${server.url}/api/runs`, "-H", `X-API-Key: ${server.apiKey}`, "-H", "Content-Type: application/json",
    "-d", '{\n    "model": "demo-model",\n    "mode": "execute",\n    "scope": "playground",\n    "input": {\n      "text": "Hello"\n    },\n    "params": {}\n  }',
  ]);
  expect(status).toBe(200);
  expect(body).toMatchObject({ object: "run", model: "demo-model", mode: "execute", scope: "playground", status: "COMPLETED" });
  expect(typeof body.output.text).toBe("string");
  expect(body.cost).toMatch(/^\d+\.\d{3,6}$/);
  const polled = await (await aimp("GET", `/api/runs/${body.id}`, server.apiKey)).json();
  expect(polled).toEqual(body);
  const execution = await (await server.get(`/v1/executions/${body.id}`)).json();
  expect(execution).toMatchObject({ id: body.id, status: "COMPLETED", cost: body.cost });
});

test("a key sent as a bearer token is refused with a 401 saying to use X-API-Key", async () => {
  const res = await fetch(`${server.url}/api/runs`, { method: "POST", headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" }, body: "{}" });
  expect(res.status).toBe(401);
  const { error } = await res.json();
  expect(error.code).toBe("UNAUTHORIZED");
  expect(error.message).toContain("X-API-Key");
  expect(error.request_id).toBe(res.headers.get("x-request-id"));
});

test("forbidden fields, bad scopes and a missing scope are 400s naming the field", async () => {
  const cases: [unknown, string, string][] = [
    [{ model: "demo-model", input: { text: "x" }, parameters: {} }, "parameters", "params"],
    [{ model: "demo-model", input: { text: "x" }, options: { hardware_tier: "gpu" } }, "options.hardware_tier", "hardware"],
    [{ model: "demo-model", input: { text: "x" }, namespace: "n" }, "namespace", "managed by the platform"],
    [{ model: "demo-model", input: { text: "x" }, params: { collection: "c" } }, "params.collection", "managed by the platform"],
    [{ model: "demo-model", input: { text: "x" }, options: { resources: [] } }, "options.resources", "managed by the platform"],
    [{ model: "demo-model", input: { text: "x" }, params: [] }, "params", "JSON object"],
    [{ model: "mock-embed", mode: "index", input: { text: "x" } }, "scope", "required"],
    [{ model: "mock-embed", mode: "search", scope: "-bad", input: { text: "x" } }, "scope", "letter or digit"],
    [{ model: "mock-embed", mode: "search", scope: "a".repeat(65), input: { text: "x" } }, "scope", "64"],
    [{ model: "mock-embed", mode: "search", scope: "a b", input: { text: "x" } }, "scope", "letters, digits"],
    [{ model: "demo-model", mode: "search", scope: "s", input: { text: "x" } }, "mode", "embedding"],
  ];
  for (const [body, field, says] of cases) {
    const res = await aimp("POST", "/api/runs", server.apiKey, body);
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(error.message).toContain(says);
  }
  const malformed = await aimp("POST", "/api/runs", server.apiKey, "{not json");
  expect(malformed.status).toBe(400);
  expect((await malformed.json()).error.code).toBe("INPUT_VALIDATION_ERROR");
  const valid = await aimp("POST", "/api/runs", server.apiKey, { model: "mock-embed", mode: "search", scope: "A1._-z", input: { text: "x" } });
  expect(valid.status).toBe(200);
});

test("index then search returns the items nearest first; re-indexing an id replaces it", async () => {
  const index = (id: string, text: string, metadata = {}) =>
    aimp("POST", "/api/runs", server.apiKey, { model: "mock-embed", mode: "index", scope: "docs", input: { id, text, metadata } }).then((r) => r.json());
  await index("fox", "the quick brown fox jumps", { kind: "animal" });
  await index("whale", "a blue whale sings in the ocean", { kind: "animal" });
  const car = await index("car", "an electric car charges overnight", { kind: "machine" });
  expect(car).toMatchObject({ status: "COMPLETED", mode: "index", output: { item_id: "car", scope: "docs", dimensions: 256, replaced: false } });
  const search = async (text: string, params: Record<string, unknown> = {}) =>
    (await (await aimp("POST", "/api/runs", server.apiKey, { model: "mock-embed", mode: "search", scope: "docs", input: { text }, params })).json()).output.results;
  const hits = await search("brown fox");
  expect(hits.map((h: { item_id: string }) => h.item_id)[0]).toBe("fox");
  expect(hits[0].score).toBeGreaterThan(hits[1].score);
  expect(hits[0]).toMatchObject({ metadata: { kind: "animal" }, input: { text: "the quick brown fox jumps" } });
  expect((await search("whale ocean", { top_k: 1 })).map((h: { item_id: string }) => h.item_id)).toEqual(["whale"]);
  expect((await search("fox", { filter: { kind: "machine" } })).map((h: { item_id: string }) => h.item_id)).toEqual(["car"]);
  const replaced = await index("fox", "a red car parked downtown");
  expect(replaced.output.replaced).toBe(true);
  const after = await search("a red car parked downtown", { top_k: 3 });
  expect(after[0]).toMatchObject({ item_id: "fox", input: { text: "a red car parked downtown" } });
  expect(after[0].score).toBeCloseTo(1, 5);
  const scopes = await (await aimp("GET", "/api/knowledge-bases?model=mock-embed", server.apiKey)).json();
  expect(scopes.data).toContainEqual(expect.objectContaining({ model: "mock-embed", scope: "docs", item_count: 3 }));
  const page = await (await aimp("GET", "/api/knowledge-bases/mock-embed/docs/items?limit=2", server.apiKey)).json();
  expect(page.data).toHaveLength(2);
  expect(page.has_more).toBe(true);
  const rest = await (await aimp("GET", `/api/knowledge-bases/mock-embed/docs/items?limit=2&starting_after=${page.data[1].id}`, server.apiKey)).json();
  expect(rest.data).toHaveLength(1);
  expect(rest.has_more).toBe(false);
});

test("an Idempotency-Key makes a retried run one execution, one charge and one indexed item", async () => {
  const { key } = server.newOrgKey({ creditMicros: 1_000_000 });
  const available = async () => (await (await fetch(`${server.url}/v1/balance`, { headers: { authorization: `Bearer ${key}` } })).json()).available;
  const before = await available();
  const body = { model: "mock-embed", mode: "index", scope: "retried", input: { id: "once", text: "indexed exactly once" } };
  const first = await aimp("POST", "/api/runs", key, body, { "Idempotency-Key": "run-1" });
  const again = await aimp("POST", "/api/runs", key, body, { "Idempotency-Key": "run-1" });
  const [a, b] = [await first.json(), await again.json()];
  expect(b.id).toBe(a.id);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  const listed = await (await fetch(`${server.url}/v1/executions?model=mock-embed&limit=100`, { headers: { authorization: `Bearer ${key}` } })).json();
  expect(listed.data.filter((e: { id: string }) => e.id === a.id)).toHaveLength(1);
  expect(listed.data).toHaveLength(1);
  const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);
  expect(micros(before) - micros(await available())).toBe(micros(a.cost ?? "0"));
  const items = await (await aimp("GET", "/api/knowledge-bases/mock-embed/retried/items", key)).json();
  expect(items.data).toHaveLength(1);
  const other = await aimp("POST", "/api/runs", key, { ...body, input: { id: "other", text: "a different body" } }, { "Idempotency-Key": "run-1" });
  expect(other.status).toBe(422);
});

test("org B cannot search, list or delete org A's scopes", async () => {
  const a = server.newOrgKey();
  const b = server.newOrgKey();
  const idx = await aimp("POST", "/api/runs", a.key, { model: "mock-embed", mode: "index", scope: "private", input: { id: "secret", text: "the launch code" } });
  expect(idx.status).toBe(200);
  const search = await (await aimp("POST", "/api/runs", b.key, { model: "mock-embed", mode: "search", scope: "private", input: { text: "the launch code" } })).json();
  expect(search.output.results).toEqual([]);
  expect((await (await aimp("GET", "/api/knowledge-bases", b.key)).json()).data).toEqual([]);
  expect((await aimp("GET", "/api/knowledge-bases/mock-embed/private/items", b.key)).status).toBe(404);
  expect((await aimp("GET", "/api/knowledge-bases/mock-embed/private/items/secret", b.key)).status).toBe(404);
  expect((await aimp("DELETE", "/api/knowledge-bases/mock-embed/private/items/secret", b.key)).status).toBe(404);
  expect((await aimp("DELETE", "/api/knowledge-bases/mock-embed/private", b.key)).status).toBe(404);
  // Another model or scope of the same org does not see it either.
  const otherScope = await (await aimp("POST", "/api/runs", a.key, { model: "mock-embed", mode: "search", scope: "other", input: { text: "the launch code" } })).json();
  expect(otherScope.output.results).toEqual([]);
  const otherModel = await (await aimp("POST", "/api/runs", a.key, { model: "mock-image-embed", mode: "search", scope: "private", input: { text: "the launch code" } })).json();
  expect(otherModel.output.results).toEqual([]);
  const own = await (await aimp("POST", "/api/runs", a.key, { model: "mock-embed", mode: "search", scope: "private", input: { text: "the launch code" } })).json();
  expect(own.output.results.map((h: { item_id: string }) => h.item_id)).toEqual(["secret"]);
  expect((await aimp("DELETE", "/api/knowledge-bases/mock-embed/private/items/secret", a.key)).status).toBe(200);
  expect((await aimp("GET", "/api/knowledge-bases/mock-embed/private/items", a.key)).status).toBe(404);
});

test("media upload, then a run with the media_ref; bytes that lie about their type are refused", async () => {
  const png = renderPng(64, 48, 7);
  const init = await (await aimp("POST", "/api/media/upload/init", server.apiKey, { filename: "image.png", content_type: "image/png", media_type: "image", size_bytes: png.length })).json();
  expect(init.upload_id).toMatch(/^studio_upload_/);
  expect((await fetch(init.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: png })).status).toBe(200);
  const done = await (await aimp("POST", "/api/media/upload/complete", server.apiKey, { upload_id: init.upload_id })).json();
  expect(done).toMatchObject({ media_type: "image", content_type: "image/png", size_bytes: png.length });
  const run = await (await aimp("POST", "/api/runs", server.apiKey, { model: "mock-vision", input: { image: { media_ref: done.media_ref } } })).json();
  expect(run.status).toBe("COMPLETED");
  expect(run.output.text).toContain("64x48");
  const indexed = await (await aimp("POST", "/api/runs", server.apiKey, { model: "mock-image-embed", mode: "index", scope: "photos", input: { media_ref: done.media_ref } })).json();
  expect(indexed).toMatchObject({ status: "COMPLETED" });
  const found = await (await aimp("POST", "/api/runs", server.apiKey, { model: "mock-image-embed", mode: "search", scope: "photos", input: { image: done.media_ref } })).json();
  expect(found.output.results[0].score).toBeCloseTo(1, 5);

  const wrong = await aimp("POST", "/api/media/upload/init", server.apiKey, { filename: "a.png", content_type: "image/png", media_type: "audio", size_bytes: 10 });
  expect(wrong.status).toBe(400);
  expect((await wrong.json()).error.details[0].field).toBe("media_type");
  const text = new TextEncoder().encode("not a png at all");
  const liar = await (await aimp("POST", "/api/media/upload/init", server.apiKey, { filename: "b.png", content_type: "image/png", media_type: "image", size_bytes: text.length })).json();
  await fetch(liar.upload_url, { method: "PUT", headers: { "content-type": "image/png" }, body: text });
  const refused = await aimp("POST", "/api/media/upload/complete", server.apiKey, { upload_id: liar.upload_id });
  expect(refused.status).toBe(400);
  expect((await refused.json()).error.code).toBe("FILE_FORMAT_UNSUPPORTED");
  expect((await aimp("POST", "/api/media/upload/complete", server.apiKey, { upload_id: "studio_upload_nope" })).status).toBe(404);
});

test("marketplace lists the catalog with modes; wallet and usage equal /v1/balance and /v1/usage", async () => {
  const list = await (await aimp("GET", "/api/marketplace/models", server.apiKey)).json();
  const embed = list.data.find((m: { slug: string }) => m.slug === "mock-embed");
  expect(embed.modes).toEqual(["execute", "index", "search"]);
  const demo = await (await aimp("GET", "/api/marketplace/models/demo-model", server.apiKey)).json();
  expect(demo).toMatchObject({ slug: "demo-model", modes: ["execute"], task: "text-generation" });
  expect(demo.input_contract.required).toEqual(["text"]);
  expect((await aimp("GET", "/api/marketplace/models/nope", server.apiKey)).status).toBe(404);

  const wallet = await (await aimp("GET", "/api/billing/wallet", server.apiKey)).json();
  const balance = await (await server.get("/v1/balance")).json();
  expect(wallet).toMatchObject({ available: balance.available, held: balance.held, total: balance.total, currency: "USD" });
  const summary = await (await aimp("GET", "/api/billing/usage/summary", server.apiKey)).json();
  const byDay = await (await server.get("/v1/usage")).json();
  const byModel = await (await server.get("/v1/usage?group_by=model")).json();
  expect(summary.by_day).toEqual(byDay.data);
  expect(summary.by_model).toEqual(byModel.data);
  expect(summary.total.executions).toBe(byModel.data.reduce((n: number, r: { executions: number }) => n + r.executions, 0));
});

test("the OpenRouter surface keeps its own error shape beside /api", async () => {
  const res = await fetch(`${server.url}/api/v1/key`);
  expect(res.status).toBe(401);
  expect(typeof (await res.json()).error.code).toBe("number");
});

test("indexed vectors survive a restart, exactly and through the graph", async () => {
  const env = { MODELROUTE_RATE_LIMIT_RPM: "1000000" }; // thousands of index runs in a few seconds
  const first = await startTestServer({ keepDataDir: true, env });
  const post = (s: TestServer, body: unknown) =>
    fetch(`${s.url}/api/runs`, { method: "POST", headers: { "X-API-Key": s.apiKey, "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json());
  // Over 4,096 items the scope moves from the exact scan to the HNSW graph.
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
  const bulk = Array.from({ length: 4200 }, (_, i) => ({ model: "mock-embed", mode: "index", scope: "big", input: { id: `n${i}`, text: `${words[i % 8]} ${words[(i >> 3) % 8]} item${i}` } }));
  for (let i = 0; i < bulk.length; i += 100) await Promise.all(bulk.slice(i, i + 100).map((b) => post(first, b)));
  await post(first, { model: "mock-embed", mode: "index", scope: "small", input: { id: "kept", text: "kept across restarts" } });
  const before = await post(first, { model: "mock-embed", mode: "search", scope: "big", input: { text: "delta hotel item123" }, params: { top_k: 3 } });
  await first.stop();
  const second = await startTestServer({ dataDir: first.dataDir, env });
  try {
    const small = await post(second, { model: "mock-embed", mode: "search", scope: "small", input: { text: "kept across restarts" } });
    expect(small.output.results[0]).toMatchObject({ item_id: "kept", score: 1 });
    const after = await post(second, { model: "mock-embed", mode: "search", scope: "big", input: { text: "delta hotel item123" }, params: { top_k: 3 } });
    // The hashed bag of words can tie another item with n123 (item2747 shares its bucket), so ties may come in either order.
    const byId = (results: { item_id: string }[]) => [...results].sort((a, b) => a.item_id.localeCompare(b.item_id));
    expect(after.output.results.map((r: { item_id: string }) => r.item_id)).toContain("n123");
    expect(byId(after.output.results)).toEqual(byId(before.output.results));
  } finally {
    await second.stop();
  }
}, 60_000);
