/**
 * OpenAI's Responses API through the official `openai` client, unchanged but for its base URL
 * and key: create, stream() / finalResponse() (whose accumulator checks the event sequence
 * strictly), function tools round trip against an Anthropic upstream, previous_response_id,
 * store: false, background responses with cancel, retrieve, delete, input items, errors as the
 * SDK's classes. Every response is an execution that moves the balance exactly.
 */
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

beforeAll(async () => {
  upstreams = await startDialectUpstreams();
  ({ server, anthropic: anthropicUpstream, openai: openaiUpstream } = upstreams);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(() => upstreams.stop());

const balance = () => balanceOf(server);
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const weather = { type: "function" as const, name: "weather", description: "The weather in a city", strict: false, parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

describe("responses.create", () => {
  test("on the mock: output_text, usage, the id an execution that moved the balance by its cost", async () => {
    const before = await balance();
    const response = await openai.responses.create({ model: "mock-chat", instructions: "Be brief.", input: "hello responses" });
    expect(response.id).toStartWith("exec_");
    expect(response.object).toBe("response");
    expect(response.status).toBe("completed");
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.output[0]).toMatchObject({ type: "message", role: "assistant", status: "completed" });
    expect(response.instructions).toBe("Be brief.");
    const exec = await execution(response.id);
    expect(exec.status).toBe("COMPLETED");
    expect(exec.usage).toEqual({ input_tokens: response.usage!.input_tokens, output_tokens: response.usage!.output_tokens });
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
  });

  test("an Anthropic upstream: instructions as system, function tools round trip through function_call_output", async () => {
    anthropicUpstream.next({ reply: { text: "Let me look.", toolUses: [{ id: "toolu_11", name: "weather", input: { city: "Paris" } }, { id: "toolu_12", name: "weather", input: { city: "Rome" } }] } });
    const first = await openai.responses.create({ model: "claude-sonnet", instructions: "Use tools.", input: [{ role: "user", content: "Weather in Paris and Rome?" }], tools: [weather], tool_choice: "required" });
    const calls = first.output.filter((item) => item.type === "function_call");
    expect(calls.map((c) => [c.call_id, c.name, JSON.parse(c.arguments)])).toEqual([
      ["toolu_11", "weather", { city: "Paris" }],
      ["toolu_12", "weather", { city: "Rome" }],
    ]);
    expect(first.output_text).toBe("Let me look.");
    const sent = anthropicUpstream.requests.at(-1)!.body;
    expect(sent.system).toBe("Use tools.");
    expect(sent.tool_choice).toEqual({ type: "any" });
    expect(sent.tools[0]).toEqual({ name: "weather", description: "The weather in a city", input_schema: weather.parameters });

    anthropicUpstream.next({ reply: { text: "Sunny in both." } });
    const second = await openai.responses.create({
      model: "claude-sonnet",
      input: [
        { role: "user", content: "Weather in Paris and Rome?" },
        ...first.output,
        { type: "function_call_output", call_id: "toolu_11", output: "sunny" },
        { type: "function_call_output", call_id: "toolu_12", output: "sunny too" },
      ],
      tools: [weather],
    });
    expect(second.output_text).toBe("Sunny in both.");
    const turns = anthropicUpstream.requests.at(-1)!.body.messages;
    expect(turns[1]).toMatchObject({ role: "assistant", content: [{ type: "text", text: "Let me look." }, { type: "tool_use", id: "toolu_11", input: { city: "Paris" } }, { type: "tool_use", id: "toolu_12" }] });
    expect(turns[2]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_11", content: "sunny" }, { type: "tool_result", tool_use_id: "toolu_12", content: "sunny too" }] });
  });

  test("previous_response_id continues the stored conversation; instructions do not carry over", async () => {
    const first = await openai.responses.create({ model: "gpt-mini", instructions: "Answer in French.", input: "My name is Ada." });
    await openai.responses.create({ model: "gpt-mini", previous_response_id: first.id, input: "What is my name?" });
    const sent = openaiUpstream.requests.at(-1)!.body;
    expect(sent.messages).toEqual([
      { role: "user", content: "My name is Ada." },
      { role: "assistant", content: first.output_text },
      { role: "user", content: "What is my name?" },
    ]);
  });

  test("store: false is answered but can be neither retrieved nor continued", async () => {
    const response = await openai.responses.create({ model: "mock-chat", input: "forget me", store: false });
    expect(response.store).toBe(false);
    expect((await execution(response.id)).status).toBe("COMPLETED");
    expect(await openai.responses.retrieve(response.id).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    const error = await openai.responses.create({ model: "mock-chat", input: "again", previous_response_id: response.id }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("previous_response_id");
  });

  test("retrieve, input_items and delete", async () => {
    const response = await openai.responses.create({ model: "mock-chat", instructions: "Be brief.", input: [{ role: "user", content: [{ type: "input_text", text: "list me" }] }] });
    const retrieved = await openai.responses.retrieve(response.id);
    expect(retrieved.output).toEqual(response.output);
    expect(retrieved.usage).toEqual(response.usage);
    const items = await openai.responses.inputItems.list(response.id);
    expect(items.data).toMatchObject([{ type: "message", role: "user", content: [{ type: "input_text", text: "list me" }] }]);
    await openai.responses.delete(response.id);
    expect(await openai.responses.retrieve(response.id).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await execution(response.id)).status).toBe("COMPLETED"); // the record of the charge stays
  });

  test("a stored response retrieved as a stream: the SDK's responses.stream({response_id}) accumulates the same response; starting_after resumes", async () => {
    const queued = await openai.responses.create({ model: "mock-chat", input: "stream me later", background: true });
    // Still running or already done: the retrieved stream waits for the end either way.
    const stream = openai.responses.stream({ response_id: queued.id });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    const stored = await openai.responses.retrieve(queued.id);
    expect(final.status).toBe("completed");
    expect(final.output_text).toBe(stored.output_text);
    expect(final.output.map((item) => [item.id, item.type])).toEqual(stored.output.map((item) => [item.id, item.type])); // the SDK adds its own `parsed` fields
    expect(final.usage).toEqual(stored.usage);
    expect(types[0]).toBe("response.created");
    expect(types.at(-1)).toBe("response.completed");
    expect(types).toContain("response.output_text.delta");
    const resumed = await openai.responses.retrieve(queued.id, { stream: true, starting_after: 2 });
    const sequences: number[] = [];
    for await (const event of resumed) sequences.push(event.sequence_number);
    expect(sequences[0]).toBe(3);
    expect(sequences.length).toBe(types.length - 3);
    const bad = await openai.responses.retrieve(queued.id, { starting_after: -5 } as never).catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.param).toBe("starting_after");
  });

  test("background: queued at once, then completed when polled; cancel of a finished one is a conflict", async () => {
    const queued = await openai.responses.create({ model: "mock-chat", input: "in the background", background: true });
    expect(["queued", "in_progress", "completed"]).toContain(queued.status);
    let polled = await openai.responses.retrieve(queued.id);
    for (let i = 0; i < 100 && polled.status !== "completed"; i++) {
      await Bun.sleep(20);
      polled = await openai.responses.retrieve(queued.id);
    }
    expect(polled.status).toBe("completed");
    expect(polled.output_text.length).toBeGreaterThan(0);
    expect(await openai.responses.cancel(queued.id).catch((e) => e)).toBeInstanceOf(OpenAI.ConflictError);
  });

  test("a slow background response is cancelled and charged nothing it did not produce", async () => {
    openaiUpstream.next({ delayMs: 2_000 });
    const before = await balance();
    const queued = await openai.responses.create({ model: "gpt-mini", input: "slow", background: true });
    for (let i = 0; i < 50 && (await execution(queued.id)).status === "PENDING"; i++) await Bun.sleep(20);
    const cancelled = await openai.responses.cancel(queued.id);
    expect(cancelled.status).toBe("cancelled");
    const exec = await execution(queued.id);
    expect(exec.status).toBe("CANCELLED");
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost ?? "0"));
  });

  test("errors are the SDK's own classes with OpenAI's param", async () => {
    const unknown = await openai.responses.create({ model: "no-such-model", input: "x" }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    const hosted = await openai.responses.create({ model: "mock-chat", input: "x", tools: [{ type: "web_search" }] }).catch((e) => e);
    expect(hosted).toBeInstanceOf(OpenAI.BadRequestError);
    expect(hosted.param).toBe("tools[0].type");
    const extra = await openai.responses.create({ model: "mock-chat", input: "x", frobnicate: 1 } as never).catch((e) => e);
    expect(extra).toBeInstanceOf(OpenAI.BadRequestError);
    expect(extra.message).toContain("frobnicate");
    const badItem = await openai.responses.create({ model: "mock-chat", input: [{ type: "item_reference", id: "x" }] }).catch((e) => e);
    expect(badItem.param).toBe("input[0].type");
    anthropicUpstream.next({ status: 529, errorBody: { type: "error", error: { type: "overloaded_error", message: "Overloaded" } } });
    const overloaded = await openai.responses.create({ model: "claude-sonnet", input: "x" }).catch((e) => e);
    expect(overloaded).toBeInstanceOf(OpenAI.APIError);
    expect(overloaded.status).toBeGreaterThanOrEqual(500);
    expect(overloaded.headers.get("x-should-retry")).toBe("false");
  });
});

describe("responses on the edges", () => {
  test("an Idempotency-Key makes a retried create one upstream call, one charge and one stored response", async () => {
    const calls = anthropicUpstream.requests.length;
    const before = await balance();
    const options = { headers: { "Idempotency-Key": "responses-retry-1" } };
    const first = await openai.responses.create({ model: "claude-sonnet", input: "only once" }, options);
    const again = await openai.responses.create({ model: "claude-sonnet", input: "only once" }, options);
    expect(again.id).toBe(first.id);
    expect(again.output_text).toBe(first.output_text);
    expect(anthropicUpstream.requests.length).toBe(calls + 1);
    expect(micros(before) - micros(await balance())).toBe(micros((await execution(first.id)).cost));
  });

  test("cut by max_output_tokens: status incomplete with its reason", async () => {
    anthropicUpstream.next({ reply: { text: "cut short", stopReason: "max_tokens" } });
    const response = await openai.responses.create({ model: "claude-sonnet", input: "long answer", max_output_tokens: 16 });
    expect(response.status).toBe("incomplete");
    expect(response.incomplete_details).toEqual({ reason: "max_output_tokens" });
    expect(response.max_output_tokens).toBe(16);
    expect(anthropicUpstream.requests.at(-1)!.body.max_tokens).toBe(16);
  });

  test("the OpenRouter surface serves the same API under /api/v1, with OpenRouter's error shape", async () => {
    const openrouter = new OpenAI({ baseURL: `${server.url}/api/v1`, apiKey: server.apiKey, maxRetries: 0 });
    const response = await openrouter.responses.create({ model: "mock-chat", input: "via openrouter" });
    expect(response.status).toBe("completed");
    expect((await execution(response.id)).metadata).toEqual({ dialect: "openrouter" });
    const missing = await server.get("/api/v1/responses/exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07");
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toMatchObject({ code: 404 });
  });
});

describe("responses.stream", () => {
  test("the event sequence the SDK's accumulator accepts; finalResponse equals the stored response", async () => {
    const stream = openai.responses.stream({ model: "mock-chat", input: "stream a response" });
    const events: { type: string; sequence_number: number }[] = [];
    let text = "";
    for await (const event of stream) {
      events.push(event);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    const final = await stream.finalResponse();
    expect(events[0]!.type).toBe("response.created");
    expect(events[1]!.type).toBe("response.in_progress");
    expect(events.at(-1)!.type).toBe("response.completed");
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.map((e) => e.type)).toContain("response.output_item.added");
    expect(final.output_text).toBe(text);
    expect(final.status).toBe("completed");
    const stored = await openai.responses.retrieve(final.id);
    expect(final.output).toMatchObject(stored.output); // the SDK adds `parsed` to each text part
    expect(final.usage!.total_tokens).toBeGreaterThan(0);
  });

  test("an Anthropic upstream streamed: reasoning, text and a function call with argument deltas", async () => {
    anthropicUpstream.next({ reply: { thinking: "The user wants Oslo.", text: "Checking.", toolUses: [{ id: "toolu_13", name: "weather", input: { city: "Oslo" } }] } });
    const stream = openai.responses.stream({ model: "claude-sonnet", input: "Oslo?", tools: [weather] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(final.output.map((item) => item.type)).toEqual(["reasoning", "message", "function_call"]);
    const call = final.output[2] as OpenAI.Responses.ResponseFunctionToolCall;
    expect([call.call_id, call.name, JSON.parse(call.arguments)]).toEqual(["toolu_13", "weather", { city: "Oslo" }]);
    expect(final.output_text).toBe("Checking.");
    expect(types).toContain("response.function_call_arguments.delta");
    expect(types).toContain("response.reasoning_text.delta");
    // The thinking's signature comes back as encrypted_content, and goes upstream again when given back.
    const reasoning = final.output[0] as OpenAI.Responses.ResponseReasoningItem;
    expect(reasoning.encrypted_content).toBeTruthy();
    anthropicUpstream.next({ reply: { text: "Cold." } });
    await openai.responses.create({ model: "claude-sonnet", input: [{ role: "user", content: "Oslo?" }, ...final.output, { type: "function_call_output", call_id: "toolu_13", output: "-5C" }], tools: [weather] });
    const turns = anthropicUpstream.requests.at(-1)!.body.messages;
    expect(turns[1].content[0]).toEqual({ type: "thinking", thinking: "The user wants Oslo.", signature: reasoning.encrypted_content });
  });

  test("an error after content ends the stream with response.failed, which the SDK surfaces", async () => {
    anthropicUpstream.next({ reply: { text: "one two three four five six" }, errorAfterDeltas: { after: 2, type: "overloaded_error", message: "Overloaded" } });
    const stream = openai.responses.stream({ model: "claude-sonnet", input: "fail midway" });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.at(-1)).toBe("response.failed");
    expect(types).toContain("response.output_text.delta");
    const final = await stream.finalResponse();
    expect(final.status).toBe("failed");
    expect(final.error?.code).toBe("server_error");
  });

  test("a failure before any content is a plain HTTP error", async () => {
    anthropicUpstream.next({ status: 429, headers: { "retry-after": "1" }, errorBody: { type: "error", error: { type: "rate_limit_error", message: "Slow down" } } });
    const error = await openai.responses.stream({ model: "claude-sonnet", input: "x" }).finalResponse().catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError); // an upstream's 429 is the gateway's 503 once its retries are spent
    expect(error.headers.get("x-should-retry")).toBe("false");
  });
});
