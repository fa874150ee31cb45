/**
 * OpenRouter's chat completions through the `openai` client with base URL `/api/v1`: the
 * `models` fallback list, `provider` preferences (refused before any hold when nothing
 * qualifies), `usage.cost`, processing comments and an error after content as OpenRouter sends it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let primary: FakeOpenAI;
let secondary: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  primary = await startFakeOpenAI();
  secondary = await startFakeOpenAI();
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [
      { id: "alpha", kind: "openai", base_url: primary.url },
      { id: "beta", kind: "openai", base_url: secondary.url },
    ],
    models: [
      { slug: "cheap", task: "chat", pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20" }, routes: [{ provider: "alpha", upstream_model: "a", retries: 0 }, { provider: "beta", upstream_model: "b", retries: 0 }] },
      { slug: "pricey", task: "chat", pricing: { input_per_1m_tokens: "10.00", output_per_1m_tokens: "30.00" }, routes: [{ provider: "beta", upstream_model: "p", retries: 0 }] },
    ],
  });
  expect(applied.status).toBe(200);
  client = new OpenAI({ baseURL: `${server.url}/api/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await primary.stop();
  await secondary.stop();
});

const ask = [{ role: "user" as const, content: "hello" }];
const held = async () => (await (await server.get("/v1/balance")).json()).held;

test("usage.cost is the execution's charge; the id is a generation", async () => {
  primary.next({ reply: { text: "hi", usage: { prompt_tokens: 1000, completion_tokens: 500 } } });
  const completion = await client.chat.completions.create({ model: "cheap", messages: ask });
  const usage = completion.usage as unknown as { cost: number; is_byok: boolean };
  expect(usage.cost).toBeCloseTo(0.0002, 9); // 1000 × $0.10/M + 500 × $0.20/M
  expect(usage.is_byok).toBe(false);
  const generation = await (await server.get(`/api/v1/generation?id=${completion.id}`)).json();
  expect(generation.data.total_cost).toBeCloseTo(0.0002, 9);
});

test("models: a model that fails before answering gives way to the next", async () => {
  secondary.next({ status: 503 });
  primary.next({ reply: { text: "from cheap" } });
  const completion = await client.chat.completions.create({ model: "pricey", messages: ask, models: ["pricey", "cheap"] } as never);
  expect(completion.model).toBe("cheap");
  expect(completion.choices[0]!.message.content).toBe("from cheap");
});

test("provider: order and only choose the route; nothing qualifying is a 503 before anything is held", async () => {
  const before = { a: primary.requests.length, b: secondary.requests.length };
  await client.chat.completions.create({ model: "cheap", messages: ask, provider: { order: ["beta"] } } as never);
  expect(secondary.requests.length).toBe(before.b + 1);
  expect(primary.requests.length).toBe(before.a);
  await client.chat.completions.create({ model: "cheap", messages: ask, provider: { only: ["alpha"] } } as never);
  expect(primary.requests.length).toBe(before.a + 1);

  const refused = await client.chat.completions.create({ model: "cheap", messages: ask, provider: { only: ["nobody"] } } as never).then(() => null, (e) => e);
  expect(refused.status).toBe(503);
  expect(refused.error).toMatchObject({ code: 503 });
  const tooDear = await client.chat.completions.create({ model: "pricey", messages: ask, provider: { max_price: { prompt: 1 } } } as never).then(() => null, (e) => e);
  expect(tooDear.status).toBe(503);
  expect(await held()).toBe("0.000");
  expect(primary.requests.length + secondary.requests.length).toBe(before.a + before.b + 2);
});

test("streams: processing comments first, chunks the SDK accepts, usage with cost", async () => {
  primary.next({ reply: { text: "one two three", usage: { prompt_tokens: 3, completion_tokens: 3 } } });
  const res = await fetch(`${server.url}/api/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "cheap", messages: ask, stream: true, stream_options: { include_usage: true }, provider: { only: ["alpha"] } }),
  });
  const text = await res.text();
  expect(text.startsWith(": OPENROUTER PROCESSING\n\n")).toBe(true);
  const chunks = text.split("\n\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
  expect(chunks.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("one two three");
  expect(chunks.at(-1).usage.cost).toBeGreaterThan(0);
  expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

  primary.next({ reply: { text: "four five six" }, usage: undefined } as never);
  const stream = client.chat.completions.stream({ model: "cheap", messages: ask, provider: { only: ["alpha"] } } as never);
  expect((await stream.finalChatCompletion()).choices[0]!.message.content).toBe("four five six");
});

test("an error after content is a chunk with a top-level error and finish_reason error", async () => {
  primary.next({ cutAfterChunks: 2, reply: { text: "alpha beta gamma delta" } });
  const res = await fetch(`${server.url}/api/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "cheap", messages: ask, stream: true, provider: { only: ["alpha"] } }),
  });
  const chunks = (await res.text()).split("\n\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
  const last = chunks.at(-1);
  expect(last.error.code).toBeGreaterThanOrEqual(500);
  expect(last.choices[0].finish_reason).toBe("error");
  expect(chunks.slice(0, -1).map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("alpha beta");
});
