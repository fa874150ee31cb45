/**
 * The exact response cache (docs/cache.md) through the official `openai` client against a fake
 * OpenAI upstream: a repeated deterministic request is a HIT with the same answer and no upstream
 * call, an execution of its own charged the model's cache price; a changed parameter is a MISS;
 * another organization never hits the first one's entry; a cached answer replays as a stream
 * through the SDK's stream helper; bypass headers; requests that are not deterministic or offer
 * tools are not cached unless asked; /v1/usage and /metrics count it; eviction keeps the bound.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let upstream: FakeOpenAI;
let client: OpenAI;

const micros = (usd: string) => Math.round(Number(usd) * 1e6);
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const calls = () => upstream.requests.filter((r) => r.path === "/v1/chat/completions").length;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [{ id: "box", kind: "openai", base_url: upstream.url }],
    models: [
      { slug: "gpt", task: "chat", max_output_tokens: 200, pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00", per_cache_hit: "0.000003" }, routes: [{ provider: "box", upstream_model: "gpt-4o-mini", retries: 0 }] },
      { slug: "gpt-always", task: "chat", max_output_tokens: 200, cache: { exact: "always", ttl_seconds: 60 }, pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" }, routes: [{ provider: "box", upstream_model: "gpt-4o-mini", retries: 0 }] },
      { slug: "gpt-never", task: "chat", max_output_tokens: 200, cache: { exact: "never" }, pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" }, routes: [{ provider: "box", upstream_model: "gpt-4o-mini", retries: 0 }] },
    ],
  });
  expect(applied.status).toBe(200);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await upstream.stop();
});

const ask = (text: string) => [{ role: "user" as const, content: text }];

/** A chat completion through the SDK, with the answer's X-ModelRoute-Cache header. */
async function chat(body: OpenAI.ChatCompletionCreateParamsNonStreaming, headers: Record<string, string> = {}, sdk = client) {
  const { data, response } = await sdk.chat.completions.create(body, { headers }).withResponse();
  return { completion: data, cache: response.headers.get("x-modelroute-cache") };
}

describe("exact cache", () => {
  test("a repeated deterministic request is a HIT with the same answer, an execution of its own at the cache price", async () => {
    upstream.next({ reply: { text: "Paris is the capital.", usage: { prompt_tokens: 30, completion_tokens: 5 } } });
    const body = { model: "gpt", messages: ask("What is the capital of France?"), temperature: 0 };
    const first = await chat(body);
    expect(first.cache).toBe("MISS");
    const upstreamCalls = calls();
    const second = await chat(body);
    expect(second.cache).toBe("HIT");
    expect(calls()).toBe(upstreamCalls);
    expect(second.completion.choices).toEqual(first.completion.choices);
    expect(second.completion.usage).toEqual(first.completion.usage);
    expect(second.completion.id).not.toBe(first.completion.id);

    const miss = await execution(first.completion.id);
    expect(miss).toMatchObject({ cached: false, cache: { status: "MISS" }, served_by: { model: "gpt" } });
    expect(micros(miss.cost)).toBe(30 + 5 * 2);
    const hit = await execution(second.completion.id);
    expect(hit).toMatchObject({ status: "COMPLETED", cached: true, cache: { status: "HIT", match: "exact", source_execution_id: first.completion.id }, served_by: { model: "gpt" } });
    expect(hit.cost).toBe("0.000003");
    expect(micros(hit.cache.saved)).toBe(micros(miss.cost) - 3);
    // The same question with its keys in another order, or another `user`, is the same request.
    const reordered = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ temperature: 0, messages: ask("What is the capital of France?"), user: "someone-else", model: "gpt" }),
    });
    expect(reordered.headers.get("x-modelroute-cache")).toBe("HIT");
  });

  test("a changed parameter is a MISS; a seed makes a request deterministic", async () => {
    const base = { model: "gpt", messages: ask("Name a colour."), temperature: 0 };
    expect((await chat(base)).cache).toBe("MISS");
    expect((await chat({ ...base, max_tokens: 7 })).cache).toBe("MISS");
    expect((await chat({ ...base, messages: ask("Name a color.") })).cache).toBe("MISS");
    expect((await chat({ ...base, max_tokens: 7 })).cache).toBe("HIT");
    const seeded = { model: "gpt", messages: ask("Pick a number."), seed: 42, temperature: 0.9 };
    expect((await chat(seeded)).cache).toBe("MISS");
    expect((await chat(seeded)).cache).toBe("HIT");
  });

  test("another organization never hits the first one's entry", async () => {
    const body = { model: "gpt", messages: ask("A secret of org A?"), temperature: 0 };
    upstream.next({ reply: { text: "org A's answer" } });
    expect((await chat(body)).cache).toBe("MISS");
    expect((await chat(body)).cache).toBe("HIT");
    const other = server.newOrgKey();
    const orgB = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: other.key, maxRetries: 0 });
    upstream.next({ reply: { text: "org B's answer" } });
    const b = await chat(body, {}, orgB);
    expect(b.cache).toBe("MISS");
    expect(b.completion.choices[0]!.message.content).toBe("org B's answer");
    expect((await chat(body, {}, orgB)).completion.choices[0]!.message.content).toBe("org B's answer");
    expect((await chat(body)).completion.choices[0]!.message.content).toBe("org A's answer");
  });

  test("a cached answer replays as a stream through the SDK's stream helper", async () => {
    const body = { model: "gpt", messages: ask("Stream me a haiku."), temperature: 0 };
    upstream.next({ reply: { text: "Quiet circuits hum", usage: { prompt_tokens: 4, completion_tokens: 3 } } });
    const first = await client.chat.completions.stream(body).finalChatCompletion();
    expect(first.choices[0]!.message.content).toBe("Quiet circuits hum");
    const upstreamCalls = calls();
    const replay = client.chat.completions.stream(body);
    const chunks: string[] = [];
    replay.on("content", (delta) => chunks.push(delta));
    const final = await replay.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("Quiet circuits hum");
    expect(chunks.join("")).toBe("Quiet circuits hum");
    expect(calls()).toBe(upstreamCalls);
    expect((await execution(final.id)).cached).toBe(true);
    // A stream of an answer first given whole is a HIT too, and says so in its headers.
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt", messages: ask("What is the capital of France?"), temperature: 0, stream: true }),
    });
    expect(raw.headers.get("x-modelroute-cache")).toBe("HIT");
    expect(await raw.text()).toContain("Paris is the capital.");
  });

  test("X-ModelRoute-Cache: bypass and Cache-Control: no-cache skip it; a bad value is a 400", async () => {
    const body = { model: "gpt", messages: ask("What is the capital of France?"), temperature: 0 };
    for (const headers of [{ "x-modelroute-cache": "bypass" }, { "cache-control": "no-cache" }, { "cache-control": "max-age=0, no-store" }]) {
      const upstreamCalls = calls();
      const answer = await chat(body, headers);
      expect(answer.cache).toBeNull();
      expect(calls()).toBe(upstreamCalls + 1);
      expect((await execution(answer.completion.id)).cache).toBeNull();
    }
    const refused = await chat(body, { "x-modelroute-cache": "maybe" }).then(() => null, (e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.error).toMatchObject({ param: "X-ModelRoute-Cache" });
  });

  test("not deterministic or offering tools: not cached unless asked; the model's setting decides otherwise", async () => {
    const loose = { model: "gpt", messages: ask("Tell me a joke.") };
    expect((await chat(loose)).cache).toBeNull();
    expect((await chat(loose, { "x-modelroute-cache": "use" })).cache).toBe("MISS");
    expect((await chat(loose, { "x-modelroute-cache": "use" })).cache).toBe("HIT");
    const tools = [{ type: "function" as const, function: { name: "send_email", parameters: { type: "object", properties: {} } } }];
    const withTools = { model: "gpt", messages: ask("Email Bob."), temperature: 0, tools };
    expect((await chat(withTools)).cache).toBeNull();
    expect((await chat(withTools)).cache).toBeNull();
    expect((await chat({ ...withTools, tool_choice: "none" as const })).cache).toBe("MISS");
    expect((await chat(withTools, { "x-modelroute-cache": "use" })).cache).toBe("MISS");
    // Per model: always caches the loose request, never refuses even a deterministic one.
    expect((await chat({ ...loose, model: "gpt-always" })).cache).toBe("MISS");
    expect((await chat({ ...loose, model: "gpt-always" })).cache).toBe("HIT");
    expect((await chat({ ...loose, model: "gpt-never", temperature: 0 })).cache).toBeNull();
    expect((await chat({ ...loose, model: "gpt-never", temperature: 0 }, { "x-modelroute-cache": "use" })).cache).toBeNull();
  });

  test("/v1/executions: a hit is COMPLETED at once in every mode, with the header", async () => {
    const input = { messages: ask("What is the capital of France?"), temperature: 0 };
    const sync = await server.post("/v1/executions", { model: "gpt", input, mode: "SYNC" });
    expect(sync.status).toBe(200);
    expect(sync.headers.get("x-modelroute-cache")).toBe("HIT");
    expect((await sync.json()).output.text).toBe("Paris is the capital.");
    const queued = await server.post("/v1/executions", { model: "gpt", input });
    expect(queued.status).toBe(200);
    expect(await queued.json()).toMatchObject({ status: "COMPLETED", cached: true });
    const streamed = await server.post("/v1/executions", { model: "gpt", input, mode: "STREAMING" });
    expect(streamed.headers.get("x-modelroute-cache")).toBe("HIT");
    const text = await streamed.text();
    expect(text).toContain("event: execution");
    // Its text comes as an output.delta, before the terminal status, as a live stream's would.
    const delta = text.indexOf('event: output.delta\ndata: {"text":"Paris is the capital."}');
    expect(delta).toBeGreaterThan(-1);
    expect(delta).toBeLessThan(text.indexOf('"status":"COMPLETED"'));
  });

  test("/v1/usage and /metrics count hits, misses and what the hits saved", async () => {
    const usage = (await (await server.get("/v1/usage?group_by=model")).json()).data as { group: string; cache_hits: number; cache_misses: number; cache_saved: string }[];
    const gpt = usage.find((g) => g.group === "gpt")!;
    expect(gpt.cache_hits).toBeGreaterThanOrEqual(8);
    expect(gpt.cache_misses).toBeGreaterThanOrEqual(8);
    expect(micros(gpt.cache_saved)).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const value = (name: string) => Number(metrics.split("\n").find((l) => l.startsWith(`${name} `))?.split(" ")[1]);
    expect(value("modelroute_cache_hits_total")).toBeGreaterThanOrEqual(gpt.cache_hits);
    expect(value("modelroute_cache_misses_total")).toBeGreaterThanOrEqual(gpt.cache_misses);
    // Counted for every organization (the test's second one too).
    expect(value("modelroute_cache_saved_usd_total")).toBeGreaterThanOrEqual(micros(gpt.cache_saved) / 1e6 - 1e-9);
  });
});

describe("per key", () => {
  test("a key set to always caches what is not deterministic; a key set to never neither reads nor writes; a PATCH changes it", async () => {
    const created = await (await server.post("/v1/api-keys", { name: "cache always", response_cache: "always" })).json();
    expect(created.response_cache).toBe("always");
    const always = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: created.key, maxRetries: 0 });
    const body = { model: "gpt", messages: ask("Write a haiku about the sea."), temperature: 0.9 };
    upstream.next({ reply: { text: "Waves fold into foam." } });
    expect((await chat(body, {}, always)).cache).toBe("MISS");
    const before = calls();
    const hit = await chat(body, {}, always);
    expect(hit.cache).toBe("HIT");
    expect(hit.completion.choices[0]!.message.content).toBe("Waves fold into foam.");
    expect(calls()).toBe(before);
    // The default key does not cache a request that is not deterministic: no header, an upstream call.
    expect((await chat(body)).cache).toBeNull();
    expect(calls()).toBe(before + 1);

    const patched = await (await server.request("PATCH", `/v1/api-keys/${created.id}`, { body: { response_cache: "never" } })).json();
    expect(patched.response_cache).toBe("never");
    const deterministic = { model: "gpt", messages: ask("What is two plus two?"), temperature: 0 };
    expect((await chat(deterministic)).cache).toBe("MISS"); // stored by the default key
    const callsNow = calls();
    const never = await chat(deterministic, {}, always);
    expect(never.cache).toBeNull(); // the same org's entry is not read by a key set to never
    expect(calls()).toBe(callsNow + 1);
    const refused = await server.post("/v1/api-keys", { name: "bad", response_cache: "sometimes" });
    expect(refused.status).toBe(400);
  });
});

describe("size bound", () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ env: { MODELROUTE_CACHE_MAX_KB: "4" } });
  });
  afterAll(() => small.stop());

  const ask1 = (i: number, key?: string) =>
    small.post("/v1/executions", { model: "mock-chat", input: { messages: ask(`question number ${i} ${"padding ".repeat(40)}`), temperature: 0, max_tokens: 60 }, mode: "SYNC" }, key);

  test("eviction keeps the cache under its bound, least recently used first", async () => {
    for (let i = 0; i < 12; i++) expect((await ask1(i)).headers.get("x-modelroute-cache")).toBe("MISS");
    const db = small.running.ctx.client;
    const total = () => (db.query("SELECT coalesce(sum(size_bytes), 0) AS n, count(*) AS c FROM response_cache").get() as { n: number; c: number });
    expect(total().n).toBeLessThanOrEqual(4 * 1024);
    expect(total().c).toBeGreaterThan(1);
    expect(total().c).toBeLessThan(12);
    // The newest answers stay; the oldest went.
    expect((await ask1(11)).headers.get("x-modelroute-cache")).toBe("HIT");
    expect((await ask1(0)).headers.get("x-modelroute-cache")).toBe("MISS");
    // A hit makes an entry the most recently used: it outlives newer ones that were not used.
    const kept = total().c;
    expect((await ask1(11)).headers.get("x-modelroute-cache")).toBe("HIT");
    for (let i = 100; i < 100 + kept - 2; i++) await ask1(i);
    expect((await ask1(11)).headers.get("x-modelroute-cache")).toBe("HIT");
    expect(total().n).toBeLessThanOrEqual(4 * 1024);
  });
});
