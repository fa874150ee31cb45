/**
 * Model aliases with fallbacks (docs/catalog.md "Aliases", docs/routing.md "Aliases and fallback
 * models"): the first model's upstream answers 503, the second answers; one execution names the
 * model that served and is charged at its price, through the official `openai` client and
 * `/v1/executions`; an open circuit is skipped without a call; the catalog refuses an alias that
 * collides with a slug, names an unknown model or mixes tasks; GET /v1/models lists aliases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let down: FakeOpenAI;
let up: FakeOpenAI;
let client: OpenAI;

const admin = (body: unknown) => server.applyCatalog(body);
const micros = (usd: string) => Math.round(Number(usd) * 1e6);
const balance = async () => (await (await server.get("/v1/balance")).json()) as { available: string; held: string };
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();

beforeAll(async () => {
  down = await startFakeOpenAI();
  up = await startFakeOpenAI();
  server = await startTestServer();
  const applied = await admin({
    providers: [
      { id: "down-box", kind: "openai", base_url: down.url, config: { breaker: { consecutive_failures: 8, cooldown_ms: 60000 } } },
      { id: "up-box", kind: "openai", base_url: up.url },
    ],
    models: [
      { slug: "llama", task: "chat", pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20" }, max_output_tokens: 100, routes: [{ provider: "down-box", upstream_model: "llama3", retries: 0 }] },
      { slug: "mini", task: "chat", pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" }, max_output_tokens: 100, routes: [{ provider: "up-box", upstream_model: "gpt-4o-mini", retries: 0 }] },
    ],
    aliases: { fast: ["llama", "mini"] },
  });
  expect(applied.status).toBe(200);
  expect((await applied.json()).aliases).toEqual(["fast"]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await down.stop();
  await up.stop();
});

const ask = [{ role: "user" as const, content: "hello there" }];

describe("fallback", () => {
  test("the first model's 503 gives way to the second: one execution naming it, charged at its price", async () => {
    const before = await balance();
    down.next({ status: 503 });
    up.next({ reply: { text: "from mini", usage: { prompt_tokens: 40, completion_tokens: 10 } } });
    const completion = await client.chat.completions.create({ model: "fast", messages: ask });
    expect(completion.choices[0]!.message.content).toBe("from mini");
    expect(completion.model).toBe("fast");
    expect(down.requests.at(-1)!.body.model).toBe("llama3");
    expect(up.requests.at(-1)!.body.model).toBe("gpt-4o-mini");

    const exec = await execution(completion.id);
    expect(exec).toMatchObject({ status: "COMPLETED", model: "fast", served_by: { model: "mini" } });
    expect(exec.served_by.route_id).toStartWith("route_");
    expect(micros(exec.cost)).toBe(40 * 1 + 10 * 2); // mini's $1.00 and $2.00 per 1M tokens, not llama's
    const after = await balance();
    expect(micros(before.available) - micros(after.available)).toBe(micros(exec.cost));
    expect(after.held).toBe("0.000");
    // Listed once, under the alias; usage counts it for the model that answered.
    const listed = (await (await server.get("/v1/executions?model=fast&limit=5")).json()).data;
    expect(listed.filter((e: { id: string }) => e.id === completion.id)).toHaveLength(1);
    const usage = (await (await server.get("/v1/usage?group_by=model")).json()).data;
    expect(usage.map((g: { group: string }) => g.group)).toContain("mini");
    expect(usage.map((g: { group: string }) => g.group)).not.toContain("fast");
  });

  test("the hold covers the dearest model of the alias", async () => {
    down.next({ delayMs: 300, status: 503 });
    up.next({ reply: { text: "late" } });
    const pending = client.chat.completions.create({ model: "fast", messages: ask, max_tokens: 50 });
    await Bun.sleep(100);
    // While it runs: what the dearer model (mini) could cost for this prompt and 50 output tokens.
    const held = micros((await balance()).held);
    await pending;
    const dearest = micros((await (await server.get("/v1/models/mini")).json()).pricing.output_per_1m_tokens) * 50 / 1e6;
    expect(held).toBeGreaterThanOrEqual(Math.ceil(dearest));
    const cheapest = micros((await (await server.get("/v1/models/llama")).json()).pricing.output_per_1m_tokens) * 50 / 1e6;
    expect(held).toBeGreaterThan(Math.ceil(cheapest) + 5);
  });

  test("through /v1/executions, streamed through the SDK's stream helper, and with every model failing", async () => {
    down.next({ status: 503 });
    up.next({ reply: { text: "sync answer" } });
    const res = await server.post("/v1/executions", { model: "fast", input: { messages: ask }, mode: "SYNC" });
    expect(res.status).toBe(200);
    const exec = await res.json();
    expect(exec).toMatchObject({ status: "COMPLETED", model: "fast", served_by: { model: "mini" }, output: { text: "sync answer" } });

    down.next({ status: 503 });
    up.next({ reply: { text: "streamed from mini" } });
    const stream = client.chat.completions.stream({ model: "fast", messages: ask });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("streamed from mini");
    expect((await execution(final.id)).served_by.model).toBe("mini");

    down.next({ status: 503 });
    up.next({ status: 503 });
    const failed = await client.chat.completions.create({ model: "fast", messages: ask }).then(() => null, (e) => e);
    expect(failed).toBeInstanceOf(OpenAI.APIError);
    expect(failed.status).toBe(503);
    expect((await balance()).held).toBe("0.000");
  });

  test("a bad request is the caller's: the next model is not asked", async () => {
    down.next({ status: 400 });
    const calls = up.requests.length;
    const err = await client.chat.completions.create({ model: "fast", messages: ask }).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(up.requests.length).toBe(calls);
  });

  test("a model whose circuit is open is skipped without a call", async () => {
    // 8 failures in a row open down-box's breaker (consecutive_failures: 8); the tests above made some.
    let open = false;
    for (let i = 0; i < 8 && !open; i++) {
      const before = down.requests.length;
      down.next({ status: 503 });
      await client.chat.completions.create({ model: "fast", messages: ask });
      open = down.requests.length === before;
    }
    expect(open).toBe(true);
    const calls = down.requests.length;
    const completion = await client.chat.completions.create({ model: "fast", messages: ask });
    expect(down.requests.length).toBe(calls);
    expect((await execution(completion.id)).served_by.model).toBe("mini");
  });

});

describe("catalog", () => {
  test("GET /v1/models lists the alias with its models; GET /v1/models/{alias} shows it", async () => {
    const list = (await (await server.get("/v1/models")).json()).data as { id: string; alias_of?: string[]; task: string }[];
    const alias = list.find((m) => m.id === "fast")!;
    expect(alias).toMatchObject({ alias_of: ["llama", "mini"], task: "chat" });
    expect(list.find((m) => m.id === "mini")!.alias_of).toBeUndefined();
    expect((await (await server.get("/v1/models/fast")).json()).alias_of).toEqual(["llama", "mini"]);
    const exported = await (await server.request("GET", "/admin/v1/catalog", { key: null, headers: { authorization: `Bearer ${server.adminToken}` } })).json();
    expect(exported.aliases).toEqual({ fast: ["llama", "mini"] });
    // The surfaces whose lists have no alias field list it as a model of its own name.
    const tags = (await (await server.get("/api/tags")).json()).models as { name: string }[];
    expect(tags.map((t) => t.name)).toContain("fast:latest"); // Ollama names carry a tag
    const gemini = (await (await server.get("/v1beta/models?pageSize=1000")).json()).models as { name: string; supportedGenerationMethods: string[] }[];
    expect(gemini.find((m) => m.name === "models/fast")?.supportedGenerationMethods).toContain("generateContent");
  });

  test("an alias may not take a slug, name an unknown model or an alias, or mix tasks; a model may not take an alias's name", async () => {
    const refused = async (body: unknown) => {
      const res = await admin(body);
      expect(res.status).toBe(400);
      return ((await res.json()).error.details as { field: string; message: string }[]).map((d) => d.field);
    };
    expect(await refused({ aliases: { mini: ["llama"] } })).toEqual(['aliases["mini"]']);
    expect(await refused({ aliases: { quick: ["llama", "nope"] } })).toEqual(['aliases["quick"][1]']);
    expect(await refused({ aliases: { quick: ["fast"] } })).toEqual(['aliases["quick"][0]']);
    expect(await refused({ aliases: { quick: ["mini", "mock-embed"] } })).toEqual(['aliases["quick"][1]']);
    expect(await refused({ models: [{ slug: "fast", task: "chat", pricing: {}, routes: [{ provider: "up-box", upstream_model: "x" }] }] })).toEqual(["models[0].slug"]);
    // An empty list removes an alias.
    expect((await admin({ aliases: { gone: ["mini"] } })).status).toBe(200);
    expect((await server.get("/v1/models/gone")).status).toBe(200);
    expect((await admin({ aliases: { gone: [] } })).status).toBe(200);
    expect((await server.get("/v1/models/gone")).status).toBe(404);
  });
});
