/**
 * The official `openai` and `@anthropic-ai/sdk` clients, unchanged but for their base URL and
 * key, against a real server whose models run on the built-in mock and on fake upstreams of the
 * other wire format: OpenAI client → Anthropic upstream and Anthropic client → OpenAI-compatible
 * upstream, streamed and not, tools round trip, usage with cache tokens, errors as each SDK's own
 * classes. Every call is an execution that moves the balance exactly.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { balanceOf, micros, startDialectUpstreams, type DialectUpstreams } from "../helpers/dialect-upstreams";
import type { FakeAnthropic } from "../helpers/fake-anthropic";
import type { FakeOpenAI } from "../helpers/fake-openai";
import type { TestServer } from "../helpers/server";

let server: TestServer;
let anthropicUpstream: FakeAnthropic;
let openaiUpstream: FakeOpenAI;
let upstreams: DialectUpstreams;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  upstreams = await startDialectUpstreams();
  ({ server, anthropic: anthropicUpstream, openai: openaiUpstream } = upstreams);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(() => upstreams.stop());

const balance = () => balanceOf(server);
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const weather = { type: "function" as const, function: { name: "weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };

describe("the openai client", () => {
  test("chat on the mock: the answer's id is an execution that moved the balance by its cost", async () => {
    const before = await balance();
    const completion = await openai.chat.completions.create({ model: "mock-chat", messages: [{ role: "user", content: "hello gateway" }] });
    expect(completion.id).toStartWith("exec_");
    expect(completion.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    const exec = await execution(completion.id);
    expect(exec.status).toBe("COMPLETED");
    expect(exec.metadata).toEqual({ dialect: "openai" });
    expect(exec.usage).toEqual({ input_tokens: completion.usage!.prompt_tokens, output_tokens: completion.usage!.completion_tokens });
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
  });

  test("chat.completions.stream() and finalChatCompletion() accept the stream; usage comes in one last chunk", async () => {
    const stream = openai.chat.completions.stream({ model: "mock-chat", messages: [{ role: "user", content: "stream please" }], stream_options: { include_usage: true } });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const final = await stream.finalChatCompletion();
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.at(-1)!.choices).toEqual([]);
    expect(chunks.filter((c) => c.usage).length).toBe(1);
    expect(final.choices[0]!.message.content).toBe(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""));
    expect((await execution(chunks[0]!.id)).status).toBe("COMPLETED");
  });

  test("an Anthropic upstream behind the openai client: tools round trip, not streamed", async () => {
    anthropicUpstream.next({ reply: { text: "Let me look.", toolUses: [{ id: "toolu_01", name: "weather", input: { city: "Paris" } }, { id: "toolu_02", name: "weather", input: { city: "Rome" } }] } });
    const first = await openai.chat.completions.create({ model: "claude-sonnet", messages: [{ role: "system", content: "Use tools." }, { role: "user", content: "Weather in Paris and Rome?" }], tools: [weather], tool_choice: "required" });
    const calls = first.choices[0]!.message.tool_calls!;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(calls.map((c) => [c.id, c.type, (c as { function: { name: string; arguments: string } }).function.name, JSON.parse((c as { function: { arguments: string } }).function.arguments)])).toEqual([
      ["toolu_01", "function", "weather", { city: "Paris" }],
      ["toolu_02", "function", "weather", { city: "Rome" }],
    ]);
    const sent = anthropicUpstream.requests.at(-1)!.body;
    expect(sent.system).toBe("Use tools.");
    expect(sent.tool_choice).toEqual({ type: "any" });
    expect(sent.tools[0]).toEqual({ name: "weather", description: "The weather in a city", input_schema: weather.function.parameters });

    anthropicUpstream.next({ reply: { text: "Sunny in both.", usage: { input_tokens: 30, output_tokens: 4, cache_read_input_tokens: 1000 } } });
    const second = await openai.chat.completions.create({
      model: "claude-sonnet",
      messages: [
        { role: "user", content: "Weather in Paris and Rome?" },
        first.choices[0]!.message,
        { role: "tool", tool_call_id: "toolu_01", content: "sunny" },
        { role: "tool", tool_call_id: "toolu_02", content: "sunny too" },
      ],
      tools: [weather],
    });
    expect(second.choices[0]!.message.content).toBe("Sunny in both.");
    // OpenAI's prompt_tokens includes the cached ones; Anthropic's input_tokens does not.
    expect(second.usage).toMatchObject({ prompt_tokens: 1030, completion_tokens: 4, prompt_tokens_details: { cached_tokens: 1000 } });
    const turns = anthropicUpstream.requests.at(-1)!.body.messages;
    expect(turns[1]).toMatchObject({ role: "assistant", content: [{ type: "text", text: "Let me look." }, { type: "tool_use", id: "toolu_01", input: { city: "Paris" } }, { type: "tool_use", id: "toolu_02" }] });
    expect(turns[2]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "sunny" }, { type: "tool_result", tool_use_id: "toolu_02", content: "sunny too" }] });
  });

  test("an Anthropic upstream behind the openai client, streamed: tool-call deltas the strict helper accepts", async () => {
    anthropicUpstream.next({ reply: { text: "Checking.", toolUses: [{ id: "toolu_03", name: "weather", input: { city: "Oslo" } }] } });
    const stream = openai.chat.completions.stream({ model: "claude-sonnet", messages: [{ role: "user", content: "Oslo?" }], tools: [weather], stream: true });
    const final = await stream.finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0] as { id: string; function: { name: string; arguments: string } };
    expect(final.choices[0]!.message.content).toBe("Checking.");
    expect(call.id).toBe("toolu_03");
    expect(JSON.parse(call.function.arguments)).toEqual({ city: "Oslo" });
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("embeddings, base64 (the SDK's default, decoded by it) and float, agree", async () => {
    const decoded = await openai.embeddings.create({ model: "mock-embed", input: ["a red fox", "a whale"] });
    const floats = await openai.embeddings.create({ model: "mock-embed", input: ["a red fox", "a whale"], encoding_format: "float" });
    expect(decoded.data.length).toBe(2);
    for (let i = 0; i < 2; i++) decoded.data[i]!.embedding.forEach((v, j) => expect(v).toBeCloseTo(floats.data[i]!.embedding[j]!, 5));
  });

  test("legacy completions, streamed and not, on a text-generation model", async () => {
    const completion = await openai.completions.create({ model: "demo-model", prompt: "write something", max_tokens: 20 });
    expect(completion.id).toStartWith("exec_");
    expect(completion.choices[0]!.text.length).toBeGreaterThan(0);
    const stream = await openai.completions.create({ model: "demo-model", prompt: "write something", max_tokens: 20, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
    expect(text).toBe(completion.choices[0]!.text); // the mock is deterministic
  });

  test("images: base64 by default, or links to the organization's files", async () => {
    const b64 = await openai.images.generate({ model: "mock-image", prompt: "a fox", size: "64x64" });
    expect(Buffer.from(b64.data![0]!.b64_json!, "base64").subarray(1, 4).toString()).toBe("PNG");
    const linked = await openai.images.generate({ model: "mock-image", prompt: "a fox", size: "64x64", n: 2, response_format: "url" });
    expect(linked.data!.length).toBe(2);
    const png = await fetch(linked.data![0]!.url!);
    expect(png.status).toBe(200);
    expect(png.headers.get("content-type")).toBe("image/png");
  });

  test("models: the list and one model, as the SDK reads them", async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toContain("claude-sonnet");
    expect((await openai.models.retrieve("gpt-mini")).owned_by).toBe("custom");
  });

  test("errors surface as the SDK's own classes", async () => {
    const err = (p: Promise<unknown>) => p.then(() => null, (e) => e);
    const bad = await err(openai.chat.completions.create({ model: "mock-chat", messages: [{ role: "user", content: "x" }], logit_bias: { "1": 5 } }));
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe("logit_bias");
    expect(await err(openai.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }))).toBeInstanceOf(OpenAI.NotFoundError);
    const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "sk_nope", maxRetries: 0 });
    expect(await err(stranger.chat.completions.create({ model: "mock-chat", messages: [{ role: "user", content: "x" }] }))).toBeInstanceOf(OpenAI.AuthenticationError);
    const broke = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.newOrgKey({ creditMicros: 0 }).key, maxRetries: 0 });
    const poor = await err(broke.chat.completions.create({ model: "mock-chat", messages: [{ role: "user", content: "x" }] }));
    expect(poor).toBeInstanceOf(OpenAI.APIError);
    expect(poor.status).toBe(402);
    openaiUpstream.next({ status: 503 });
    const down = await err(openai.chat.completions.create({ model: "gpt-mini", messages: [{ role: "user", content: "x" }] }));
    expect(down).toBeInstanceOf(OpenAI.InternalServerError);
    expect(down.status).toBe(503);
    expect(down.headers.get("x-should-retry")).toBe("false"); // the gateway already retried; the SDK must not
  });

  test("an Idempotency-Key makes a retried request one execution and one charge", async () => {
    const before = await balance();
    const body = { model: "mock-chat", messages: [{ role: "user" as const, content: "only once" }] };
    const a = await openai.chat.completions.create(body, { headers: { "Idempotency-Key": "chat-retry-1" } });
    const b = await openai.chat.completions.create(body, { headers: { "Idempotency-Key": "chat-retry-1" } });
    expect(b.id).toBe(a.id);
    expect(micros(before) - micros(await balance())).toBe(micros((await execution(a.id)).cost));
  });
});

describe("structured outputs across wire formats", () => {
  const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false };
  test("an OpenAI json_schema response_format reaches Anthropic as output_config.format", async () => {
    anthropicUpstream.next({ reply: { text: '{"city":"Paris"}' } });
    const completion = await openai.chat.completions.create({ model: "claude-sonnet", messages: [{ role: "user", content: "Where?" }], response_format: { type: "json_schema", json_schema: { name: "place", schema, strict: true } } });
    expect(JSON.parse(completion.choices[0]!.message.content!)).toEqual({ city: "Paris" });
    expect(anthropicUpstream.requests.at(-1)!.body.output_config).toEqual({ format: { type: "json_schema", schema } });
  });

  test("an Anthropic output_config.format reaches an OpenAI upstream as response_format json_schema", async () => {
    await anthropic.messages.create({ model: "gpt-mini", max_tokens: 50, messages: [{ role: "user", content: "Where?" }], output_config: { format: { type: "json_schema", schema } } });
    expect(openaiUpstream.requests.at(-1)!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema } });
  });
});

describe("limits in each SDK's classes", () => {
  test("402 and 429 before any upstream call, as the openai and anthropic clients' own errors", async () => {
    const err = (p: Promise<unknown>) => p.then(() => null, (e) => e);
    const calls = anthropicUpstream.requests.length;
    const broke = server.newOrgKey({ creditMicros: 0 }).key;
    const poor = await err(new Anthropic({ baseURL: server.url, apiKey: broke, maxRetries: 0 }).messages.create({ model: "claude-sonnet", max_tokens: 5, messages: [{ role: "user", content: "x" }] }));
    expect(poor).toBeInstanceOf(Anthropic.APIError);
    expect(poor.status).toBe(402);
    const created = await server.post("/v1/api-keys", { name: "one a minute", limits: { requests_per_minute: 1 } });
    expect(created.status).toBe(201);
    const slow = (await created.json()).key as string;
    const slowOpenai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: slow, maxRetries: 0 });
    const slowAnthropic = new Anthropic({ baseURL: server.url, apiKey: slow, maxRetries: 0 });
    await slowOpenai.chat.completions.create({ model: "mock-chat", messages: [{ role: "user", content: "first" }] });
    expect(await err(slowOpenai.chat.completions.create({ model: "claude-sonnet", messages: [{ role: "user", content: "second" }] }))).toBeInstanceOf(OpenAI.RateLimitError);
    expect(await err(slowAnthropic.messages.create({ model: "claude-sonnet", max_tokens: 5, messages: [{ role: "user", content: "third" }] }))).toBeInstanceOf(Anthropic.RateLimitError);
    expect(anthropicUpstream.requests.length).toBe(calls);
  });
});

describe("the anthropic client", () => {
  test("messages on an OpenAI-compatible upstream: tools round trip, usage in Anthropic's terms", async () => {
    openaiUpstream.next({ reply: { toolCalls: [{ id: "call_9", name: "weather", arguments: '{"city":"Lima"}' }], usage: { prompt_tokens: 500, completion_tokens: 7, cached_tokens: 400 } } });
    const message = await anthropic.messages.create({
      model: "gpt-mini",
      max_tokens: 200,
      system: "Use tools.",
      messages: [{ role: "user", content: "Weather in Lima?" }],
      tools: [{ name: "weather", description: "The weather in a city", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
      tool_choice: { type: "any" },
    });
    expect(message.id).toStartWith("exec_");
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content).toEqual([{ type: "tool_use", id: "call_9", name: "weather", input: { city: "Lima" } }] as never);
    expect(message.usage).toMatchObject({ input_tokens: 100, output_tokens: 7, cache_read_input_tokens: 400 });
    const sent = openaiUpstream.requests.at(-1)!.body;
    expect(sent.messages[0]).toEqual({ role: "system", content: "Use tools." });
    expect(sent.tool_choice).toBe("required");
    expect(sent.max_tokens).toBe(200);

    openaiUpstream.next({ reply: { text: "It is warm." } });
    const answer = await anthropic.messages.create({
      model: "gpt-mini",
      max_tokens: 200,
      messages: [
        { role: "user", content: "Weather in Lima?" },
        { role: "assistant", content: message.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_9", content: "warm" }] },
      ],
    });
    expect(answer.content).toMatchObject([{ type: "text", text: "It is warm." }]);
    const turns = openaiUpstream.requests.at(-1)!.body.messages;
    expect(turns[1]).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "call_9", type: "function", function: { name: "weather", arguments: '{"city":"Lima"}' } }] });
    expect(turns[2]).toEqual({ role: "tool", tool_call_id: "call_9", content: "warm" });
  });

  test("messages.stream() and finalMessage() on an OpenAI upstream: text and a tool call", async () => {
    openaiUpstream.next({ reply: { text: "On it.", toolCalls: [{ id: "call_s", name: "weather", arguments: '{"city":"Quito"}' }] } });
    const stream = anthropic.messages.stream({ model: "gpt-mini", max_tokens: 100, messages: [{ role: "user", content: "Quito?" }] });
    let text = "";
    stream.on("text", (t) => (text += t));
    const final = await stream.finalMessage();
    expect(text).toBe("On it.");
    expect(final.content).toMatchObject([{ type: "text", text: "On it." }, { type: "tool_use", id: "call_s", name: "weather", input: { city: "Quito" } }]);
    expect(final.stop_reason).toBe("tool_use");
    expect((await execution(final.id)).status).toBe("COMPLETED");
  });

  test("messages on an Anthropic upstream, streamed: message_start carries the real input count", async () => {
    anthropicUpstream.next({ reply: { thinking: "considering", text: "Done.", usage: { input_tokens: 42, output_tokens: 3 } } });
    const stream = anthropic.messages.stream({ model: "claude-sonnet", max_tokens: 2048, messages: [{ role: "user", content: "Go" }], thinking: { type: "enabled", budget_tokens: 1024 } } as never);
    let startInput = -1;
    stream.on("streamEvent", (e) => {
      if (e.type === "message_start") startInput = e.message.usage.input_tokens;
    });
    const final = await stream.finalMessage();
    expect(startInput).toBe(42);
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(final.usage.output_tokens).toBe(3);
  });

  test("count_tokens, models, and errors as the SDK's classes (529 when the model is overloaded)", async () => {
    const count = await anthropic.messages.countTokens({ model: "mock-chat", messages: [{ role: "user", content: "how many tokens is this" }] });
    expect(count.input_tokens).toBeGreaterThan(0);
    const models = await anthropic.models.list();
    expect(models.data.map((m) => m.id)).toContain("gpt-mini");
    const err = (p: Promise<unknown>) => p.then(() => null, (e) => e);
    expect(await err(anthropic.messages.create({ model: "mock-chat", messages: [{ role: "user", content: "x" }] } as never))).toBeInstanceOf(Anthropic.BadRequestError);
    expect(await err(anthropic.messages.create({ model: "nope", max_tokens: 5, messages: [{ role: "user", content: "x" }] }))).toBeInstanceOf(Anthropic.NotFoundError);
    const stranger = new Anthropic({ baseURL: server.url, apiKey: "sk_nope", maxRetries: 0 });
    expect(await err(stranger.messages.create({ model: "mock-chat", max_tokens: 5, messages: [{ role: "user", content: "x" }] }))).toBeInstanceOf(Anthropic.AuthenticationError);
    anthropicUpstream.next({ status: 529 });
    const overloaded = await err(anthropic.messages.create({ model: "claude-sonnet", max_tokens: 5, messages: [{ role: "user", content: "x" }] }));
    expect(overloaded).toBeInstanceOf(Anthropic.APIError);
    expect(overloaded.status).toBe(529);
    expect(overloaded.error.error.type).toBe("overloaded_error");
  });
});
