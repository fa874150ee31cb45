/**
 * OpenRouter's legacy completions (the `openai` client with base URL `/api/v1`) and Anthropic's
 * messages as OpenRouter serves them (the `@anthropic-ai/sdk` client with base URL `/api`):
 * `usage.cost`, the `models` fallback and `provider` preferences, streams, errors each SDK parses
 * into its own classes. Every call is an execution that moves the balance by its cost.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { balanceOf, micros, startDialectUpstreams, type DialectUpstreams } from "../helpers/dialect-upstreams";
import type { TestServer } from "../helpers/server";

let up: DialectUpstreams;
let server: TestServer;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  up = await startDialectUpstreams();
  server = up.server;
  // A second model on each upstream, for the fallback list.
  const applied = await server.applyCatalog({
    providers: [],
    models: [{ slug: "acme/writer", task: "chat", owned_by: "acme", pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" }, routes: [{ provider: "oai-box", upstream_model: "gpt-4o", retries: 0 }] }],
  });
  expect(applied.status).toBe(200);
  openai = new OpenAI({ baseURL: `${server.url}/api/v1`, apiKey: server.apiKey, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: `${server.url}/api`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(() => up.stop());

const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const held = async () => (await (await server.get("/v1/balance")).json()).held as string;
const err = (p: Promise<unknown>) => p.then(() => null, (e) => e);
const costOf = (u: unknown) => (u as { cost: number }).cost;

describe("completions", () => {
  test("a prompt on a chat model: usage.cost is the execution's charge and moved the balance", async () => {
    const before = await balanceOf(server);
    up.openai.next({ reply: { text: "Gateways hum softly", usage: { prompt_tokens: 1000, completion_tokens: 1000 } } });
    const completion = await openai.completions.create({ model: "gpt-mini", prompt: "Write a haiku", max_tokens: 2000 });
    expect(completion.object).toBe("text_completion");
    expect(completion.choices[0]!.text).toBe("Gateways hum softly");
    expect(costOf(completion.usage)).toBeCloseTo(0.00075, 9); // 1000 × $0.15/M + 1000 × $0.60/M
    const exec = await execution(completion.id);
    expect(exec).toMatchObject({ status: "COMPLETED", model: "gpt-mini", metadata: { dialect: "openrouter" } });
    expect(micros(exec.cost)).toBe(Math.round(costOf(completion.usage) * 1e6));
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
    expect(up.openai.requests.at(-1)!.body.messages).toEqual([{ role: "user", content: "Write a haiku" }]);
    const generation = (await (await server.get(`/api/v1/generation?id=${completion.id}`)).json()).data;
    expect(generation).toMatchObject({ id: completion.id, api_type: "openrouter", streamed: false });
  });

  test("a text-generation model, streamed through the SDK with the usage and its cost last", async () => {
    const before = await balanceOf(server);
    const stream = await openai.completions.create({ model: "demo-model", prompt: "Tell me a story", stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("").length).toBeGreaterThan(0);
    expect(chunks.filter((c) => c.usage).length).toBe(1);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    const exec = await execution(chunks[0]!.id);
    expect(exec.status).toBe("COMPLETED");
    expect(Math.round(costOf(last.usage) * 1e6)).toBe(micros(exec.cost));
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
  });

  test("the stream opens with processing comments; a model that fails first gives way to the next", async () => {
    const before = await balanceOf(server);
    up.openai.next({ status: 503 }, { reply: { text: "from the backup" } });
    const res = await fetch(`${server.url}/api/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "acme/writer", models: ["acme/writer", "gpt-mini"], prompt: "Hello", stream: true }),
    });
    const text = await res.text();
    expect(text.startsWith(": OPENROUTER PROCESSING\n\n")).toBe(true);
    const chunks = text.split("\n\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe("from the backup");
    expect(chunks[0].model).toBe("gpt-mini");
    expect(chunks.at(-1).choices[0].finish_reason).toBe("stop");
    expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);
    // One execution for the request, naming the model that served it, charged at that model's price.
    const exec = await execution(chunks[0].id);
    expect(exec).toMatchObject({ status: "COMPLETED", model: "acme/writer", served_by: { model: "gpt-mini" } });
    const listed = (await (await server.get("/v1/executions?limit=1")).json()).data;
    expect(listed[0].id).toBe(exec.id);
    expect(micros(exec.cost)).toBe(Math.ceil((exec.usage.input_tokens * 0.15 + exec.usage.output_tokens * 0.6)));
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
  });

  test("provider preferences nothing meets: 503 before any hold or upstream call; refusals name their param", async () => {
    const calls = up.openai.requests.length;
    const refused = await err(openai.completions.create({ model: "gpt-mini", prompt: "x", provider: { only: ["nobody"] } } as never));
    expect(refused).toBeInstanceOf(OpenAI.InternalServerError);
    expect(refused.status).toBe(503);
    expect(refused.error).toMatchObject({ code: 503 });
    expect(up.openai.requests.length).toBe(calls);
    expect(await held()).toBe("0.000");
    const echo = await err(openai.completions.create({ model: "gpt-mini", prompt: "x", echo: true }));
    expect(echo).toBeInstanceOf(OpenAI.BadRequestError);
    expect(echo.error).toMatchObject({ code: 400, metadata: { param: "echo" } });
    expect(await err(openai.completions.create({ model: "nope", prompt: "x" }))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await err(openai.completions.create({ model: "mock-embed", prompt: "x" }))).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe("messages", () => {
  test("messages.create on an OpenAI upstream and an Anthropic one: usage.cost, ids are executions", async () => {
    for (const model of ["gpt-mini", "claude-sonnet"]) {
      const before = await balanceOf(server);
      const message = await anthropic.messages.create({ model, max_tokens: 64, system: "Be brief.", messages: [{ role: "user", content: "Say hello" }] });
      expect(message.type).toBe("message");
      expect(message.content[0]!.type).toBe("text");
      const exec = await execution(message.id);
      expect(exec).toMatchObject({ status: "COMPLETED", model, metadata: { dialect: "openrouter" } });
      expect(Math.round(costOf(message.usage) * 1e6)).toBe(micros(exec.cost));
      expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
    }
    expect(up.anthropic.requests.at(-1)!.body.system).toBe("Be brief.");
  });

  test("messages.stream() and finalMessage(); message_delta carries the cost", async () => {
    up.anthropic.next({ reply: { text: "Streaming along.", usage: { input_tokens: 12, output_tokens: 3 } } });
    const before = await balanceOf(server);
    const stream = anthropic.messages.stream({ model: "claude-sonnet", max_tokens: 64, messages: [{ role: "user", content: "Stream" }] });
    const events: string[] = [];
    let delta: Record<string, any> | null = null;
    stream.on("streamEvent", (event) => {
      events.push(event.type);
      if (event.type === "message_delta") delta = event;
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ type: "text", text: "Streaming along." });
    expect(final.usage.input_tokens).toBe(12);
    expect(events[0]).toBe("message_start");
    expect(events.at(-1)).toBe("message_stop");
    const exec = await execution(final.id);
    expect(exec.mode).toBe("STREAMING");
    expect(Math.round(delta!.usage.cost * 1e6)).toBe(micros(exec.cost));
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
  });

  test("models: an overloaded model gives way to the next, streamed or not; provider preferences apply", async () => {
    up.anthropic.next({ status: 529 });
    const answered = await anthropic.messages.create({ model: "claude-sonnet", max_tokens: 32, messages: [{ role: "user", content: "hi" }], models: ["claude-sonnet", "gpt-mini"] } as never);
    expect(answered.model).toBe("gpt-mini");
    up.anthropic.next({ status: 529 });
    const streamed = await anthropic.messages.stream({ model: "claude-sonnet", max_tokens: 32, messages: [{ role: "user", content: "hi" }], models: ["claude-sonnet", "gpt-mini"] } as never).finalMessage();
    expect(streamed.model).toBe("gpt-mini");
    const calls = up.anthropic.requests.length + up.openai.requests.length;
    const refused = await err(anthropic.messages.create({ model: "claude-sonnet", max_tokens: 32, messages: [{ role: "user", content: "hi" }], provider: { ignore: ["claude-box"] } } as never));
    expect(refused).toBeInstanceOf(Anthropic.InternalServerError);
    expect(refused.error).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    expect(up.anthropic.requests.length + up.openai.requests.length).toBe(calls);
    expect(await held()).toBe("0.000");
  });

  test("errors in Anthropic's shape, as the SDK's own classes", async () => {
    const notFound = await err(anthropic.messages.create({ model: "nope", max_tokens: 5, messages: [{ role: "user", content: "x" }] }));
    expect(notFound).toBeInstanceOf(Anthropic.NotFoundError);
    expect(notFound.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(notFound.requestID).toBeTruthy();
    const noMax = await err(anthropic.messages.create({ model: "gpt-mini", messages: [{ role: "user", content: "x" }] } as never));
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMax.error.error.message).toContain("max_tokens");
    const refused = await err(anthropic.messages.create({ model: "gpt-mini", max_tokens: 5, messages: [{ role: "user", content: "x" }], output_config: { effort: "low" } } as never));
    expect(refused).toBeInstanceOf(Anthropic.BadRequestError);
    const badKey = new Anthropic({ baseURL: `${server.url}/api`, apiKey: "sk_not_a_key", maxRetries: 0 });
    expect(await err(badKey.messages.create({ model: "gpt-mini", max_tokens: 5, messages: [{ role: "user", content: "x" }] }))).toBeInstanceOf(Anthropic.AuthenticationError);
    const poor = new Anthropic({ baseURL: `${server.url}/api`, apiKey: server.newOrgKey({ creditMicros: 1 }).key, maxRetries: 0 });
    const unpaid = await err(poor.messages.create({ model: "claude-sonnet", max_tokens: 1000, messages: [{ role: "user", content: "x" }] }));
    expect(unpaid.status).toBe(402);
    expect(unpaid.error).toMatchObject({ type: "error", error: { type: "billing_error" } });
    up.anthropic.next({ status: 529 });
    const overloaded = await err(anthropic.messages.create({ model: "claude-sonnet", max_tokens: 5, messages: [{ role: "user", content: "x" }] }));
    expect(overloaded.status).toBe(529);
    // The rest of the OpenRouter surface keeps OpenRouter's shape.
    const other = await server.get("/api/v1/models/nobody/nothing/endpoints");
    expect((await other.json()).error.code).toBe(404);
  });
});
