/**
 * The official `ollama` client, unchanged but for its host and an Authorization header, against a
 * real server whose chat models run on the built-in mock and on fake Anthropic and
 * OpenAI-compatible upstreams: chat and generate, streamed (the client's async iterator) and
 * not, tool calls round trip, structured output, thinking, images, embeddings, the model views,
 * errors as the client's ResponseError with the right status_code, and every call an execution
 * that moves the balance.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama, type ChatResponse, type GenerateResponse } from "ollama";
import { balanceOf, micros, startDialectUpstreams, type DialectUpstreams } from "../helpers/dialect-upstreams";
import type { FakeAnthropic } from "../helpers/fake-anthropic";
import { TINY_PNG, type FakeOpenAI } from "../helpers/fake-openai";
import type { TestServer } from "../helpers/server";

let upstreams: DialectUpstreams;
let server: TestServer;
let anthropicUpstream: FakeAnthropic;
let openaiUpstream: FakeOpenAI;
let ollama: Ollama;

const clientFor = (key: string | null, extra: Record<string, string> = {}) => new Ollama({ host: server.url, headers: { ...(key ? { Authorization: `Bearer ${key}` } : {}), ...extra } });

beforeAll(async () => {
  upstreams = await startDialectUpstreams();
  ({ server, anthropic: anthropicUpstream, openai: openaiUpstream } = upstreams);
  ollama = clientFor(server.apiKey);
});
afterAll(() => upstreams.stop());

const weather = { type: "function", function: { name: "weather", description: "The weather in a city", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } };
const clock = { type: "function", function: { name: "clock", description: "The time in a city", parameters: { type: "object", properties: { city: { type: "string" } } } } };
const failure = (p: Promise<unknown>) => p.then(() => null, (e) => e);
/** The organization's newest execution, as GET /v1/executions lists it. */
const newestExecution = async () => (await (await server.get("/v1/executions?limit=1")).json()).data[0];
const collect = async <T>(stream: AsyncIterable<T>) => {
  const parts: T[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
};

describe("chat", () => {
  test("on the mock: one execution of the model, metered, whose usage is the answer's counts", async () => {
    const before = await balanceOf(server);
    const answer = await ollama.chat({ model: "mock-chat", messages: [{ role: "user", content: "hello gateway" }] });
    expect(answer.model).toBe("mock-chat");
    expect(answer.message.role).toBe("assistant");
    expect(answer.message.content.length).toBeGreaterThan(0);
    expect(answer).toMatchObject({ done: true, done_reason: "stop" });
    for (const figure of ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const) expect(Number.isInteger(answer[figure])).toBe(true);
    expect(answer.total_duration).toBeGreaterThanOrEqual(answer.load_duration + answer.eval_duration);
    const exec = await newestExecution();
    expect(exec).toMatchObject({ model: "mock-chat", status: "COMPLETED", metadata: { dialect: "ollama" } });
    expect(exec.output.text).toBe(answer.message.content);
    expect(exec.usage).toEqual({ input_tokens: answer.prompt_eval_count, output_tokens: answer.eval_count });
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(exec.cost));
  });

  test("streamed (the default on the wire): NDJSON lines the iterator reads, the last done with the figures", async () => {
    const raw = await server.post("/api/chat", { model: "mock-chat", messages: [{ role: "user", content: "stream to me" }] });
    expect(raw.headers.get("content-type")).toBe("application/x-ndjson");
    const executionId = raw.headers.get("x-execution-id");
    const lines = (await raw.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ done: true, done_reason: "stop", message: { role: "assistant", content: "" } });
    expect((await (await server.get(`/v1/executions/${executionId}`)).json()).output.text).toBe(lines.map((l) => l.message.content).join(""));

    const parts = await collect(await ollama.chat({ model: "mock-chat:latest", messages: [{ role: "user", content: "stream to me" }], stream: true }));
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.slice(0, -1).every((p) => p.done === false && p.model === "mock-chat:latest")).toBe(true);
    const last = parts.at(-1)!;
    expect(last).toMatchObject({ done: true, done_reason: "stop" });
    expect(last.eval_count).toBeGreaterThan(0);
    expect(parts.map((p) => p.message.content).join("")).toBe(lines.map((l) => l.message.content).join("")); // the mock is deterministic
    const exec = await newestExecution();
    expect(exec).toMatchObject({ mode: "STREAMING", status: "COMPLETED", metadata: { dialect: "ollama" } });
    expect(exec.usage.output_tokens).toBe(last.eval_count);
  });

  test("tool calls round trip with an Anthropic upstream: arguments as objects, results matched by tool_name", async () => {
    anthropicUpstream.next({ reply: { text: "Let me look.", toolUses: [{ id: "toolu_01", name: "weather", input: { city: "Paris" } }, { id: "toolu_02", name: "clock", input: { city: "Paris" } }] } });
    const first = await ollama.chat({ model: "claude-sonnet", messages: [{ role: "system", content: "Use tools." }, { role: "user", content: "Weather and time in Paris?" }], tools: [weather, clock] });
    expect(first.message.content).toBe("Let me look.");
    expect(first.message.tool_calls).toEqual([
      { id: "toolu_01", function: { index: 0, name: "weather", arguments: { city: "Paris" } } },
      { id: "toolu_02", function: { index: 1, name: "clock", arguments: { city: "Paris" } } },
    ] as never);
    const sent = anthropicUpstream.requests.at(-1)!.body;
    expect(sent.system).toBe("Use tools.");
    expect(sent.tools[0]).toEqual({ name: "weather", description: "The weather in a city", input_schema: weather.function.parameters });

    // An Ollama client sends the calls back without ids and answers each by the tool's name, in any order.
    anthropicUpstream.next({ reply: { text: "Sunny, and noon." } });
    const second = await ollama.chat({
      model: "claude-sonnet",
      messages: [
        { role: "user", content: "Weather and time in Paris?" },
        { role: "assistant", content: first.message.content, tool_calls: first.message.tool_calls!.map((c) => ({ function: { name: c.function.name, arguments: c.function.arguments } })) },
        { role: "tool", content: "noon", tool_name: "clock" },
        { role: "tool", content: "sunny", tool_name: "weather" },
      ],
      tools: [weather, clock],
    });
    expect(second.message.content).toBe("Sunny, and noon.");
    const turns = anthropicUpstream.requests.at(-1)!.body.messages;
    const [weatherId, clockId] = turns[1].content.filter((b: { type: string }) => b.type === "tool_use").map((b: { id: string }) => b.id);
    expect(turns[1].content[0]).toEqual({ type: "text", text: "Let me look." });
    expect(turns[2]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: clockId, content: "noon" }, { type: "tool_result", tool_use_id: weatherId, content: "sunny" }] });
  });

  test("streamed tool calls from an OpenAI upstream come whole, in a line before the last", async () => {
    openaiUpstream.next({ reply: { text: "On it.", toolCalls: [{ id: "call_s", name: "weather", arguments: '{"city":"Quito"}' }] } });
    const parts = await collect(await ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "Quito?" }], tools: [weather], stream: true }));
    expect(parts.map((p) => p.message.content).join("")).toBe("On it.");
    const withCalls = parts.filter((p) => p.message.tool_calls?.length);
    expect(withCalls.length).toBe(1);
    expect(withCalls[0]!.message.tool_calls).toEqual([{ id: "call_s", function: { index: 0, name: "weather", arguments: { city: "Quito" } } }] as never);
    expect(parts.indexOf(withCalls[0]!)).toBe(parts.length - 2);
    expect(openaiUpstream.requests.at(-1)!.body.tools[0]).toEqual(weather);
  });

  test("a tool message with no call before it is a 400", async () => {
    const err = await failure(ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }, { role: "tool", content: "sunny", tool_name: "weather" }] }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect(err.error).toContain("messages[1]");
  });

  test("format: a JSON schema is structured output on both upstream kinds; \"json\" a JSON object on OpenAI's", async () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    anthropicUpstream.next({ reply: { text: '{"city":"Paris"}' } });
    const answer = await ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "Where?" }], format: schema });
    expect(JSON.parse(answer.message.content)).toEqual({ city: "Paris" });
    expect(anthropicUpstream.requests.at(-1)!.body.output_config).toEqual({ format: { type: "json_schema", schema } });
    await ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "Where?" }], format: schema });
    expect(openaiUpstream.requests.at(-1)!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema } });
    await ollama.generate({ model: "gpt-mini", prompt: "Where?", format: "json" });
    expect(openaiUpstream.requests.at(-1)!.body.response_format).toEqual({ type: "json_object" });
  });

  test("options reach the upstream as sampling parameters; local-runner ones are ignored, unknown ones refused", async () => {
    await ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }], options: { temperature: 0.2, top_p: 0.9, seed: 7, stop: ["END"], num_predict: 50, num_ctx: 4096, num_gpu: 1, top_k: 40 }, keep_alive: "5m" });
    const sent = openaiUpstream.requests.at(-1)!.body;
    expect(sent).toMatchObject({ temperature: 0.2, top_p: 0.9, seed: 7, stop: ["END"], max_tokens: 50 });
    expect(sent.num_ctx).toBeUndefined();
    expect(sent.top_k).toBeUndefined();
    const err = await failure(ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }], options: { temprature: 0.2 } as never }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect(err.error).toContain("options.temprature");
    // The model's input schema bounds the values; the message names the option, not the execution's field.
    const hot = await failure(ollama.chat({ model: "mock-chat", messages: [{ role: "user", content: "x" }], options: { temperature: 9 } }));
    expect(hot).toMatchObject({ status_code: 400, error: "options.temperature: Must be <= 2." });
  });

  test("images on a user message reach Anthropic as base64 image blocks; bytes that are no image are a 400", async () => {
    anthropicUpstream.next({ reply: { text: "A dot." } });
    await ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "What is it?", images: [new Uint8Array(TINY_PNG)] }] });
    expect(anthropicUpstream.requests.at(-1)!.body.messages[0].content).toEqual([
      { type: "text", text: "What is it?" },
      { type: "image", source: { type: "base64", media_type: "image/png", data: TINY_PNG.toString("base64") } },
    ]);
    const err = await failure(ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "x", images: [new Uint8Array([1, 2, 3, 4, 5, 6])] }] }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
  });

  test("think: a thinking budget below num_predict upstream, the thinking in message.thinking, streamed too", async () => {
    anthropicUpstream.next({ reply: { thinking: "considering", text: "Done." } });
    const answer = await ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "Go" }], think: true, options: { num_predict: 8192 } });
    expect(answer.message).toMatchObject({ content: "Done.", thinking: "considering" });
    expect(anthropicUpstream.requests.at(-1)!.body).toMatchObject({ max_tokens: 8192, thinking: { type: "enabled", budget_tokens: 4096 } });
    anthropicUpstream.next({ reply: { thinking: "thinking it over", text: "Yes." } });
    const parts = await collect(await ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "Go" }], think: "low", options: { num_predict: 2048 }, stream: true }));
    expect(parts.map((p) => p.message.thinking ?? "").join("")).toBe("thinking it over");
    expect(parts.map((p) => p.message.content).join("")).toBe("Yes.");
    expect(anthropicUpstream.requests.at(-1)!.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    // The model's own limit (1024) leaves no room for a thinking budget of 1024 and an answer.
    const cramped = await failure(ollama.chat({ model: "claude-sonnet", messages: [{ role: "user", content: "Go" }], think: true }));
    expect(cramped).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect(cramped.error).toContain("num_predict");
  });

  test("nothing to generate loads the model (or unloads it with keep_alive 0): no execution, nothing charged", async () => {
    const newest = (await newestExecution()).id;
    const before = await balanceOf(server);
    expect(await ollama.chat({ model: "mock-chat", messages: [] })).toMatchObject({ model: "mock-chat", done: true, done_reason: "load", message: { content: "" } });
    expect(await ollama.generate({ model: "demo-model", prompt: "", keep_alive: 0 })).toMatchObject({ done: true, done_reason: "unload", response: "" });
    const streamed = await collect(await ollama.generate({ model: "mock-chat", prompt: "", stream: true }));
    expect(streamed).toMatchObject([{ done: true, done_reason: "load" }]);
    expect((await newestExecution()).id).toBe(newest);
    expect(await balanceOf(server)).toBe(before);
    expect(await failure(ollama.chat({ model: "no-such-model", messages: [] }))).toMatchObject({ status_code: 404 });
  });
});

describe("generate", () => {
  test("on a text-generation model, streamed and not: the same text, each an execution", async () => {
    const answer = await ollama.generate({ model: "demo-model", prompt: "write something", options: { num_predict: 20 } });
    expect(answer.response.length).toBeGreaterThan(0);
    expect(answer).toMatchObject({ model: "demo-model", done: true });
    const exec = await newestExecution();
    expect(exec).toMatchObject({ model: "demo-model", status: "COMPLETED", metadata: { dialect: "ollama" }, input: { text: "write something", max_tokens: 20 } });
    const parts: GenerateResponse[] = await collect(await ollama.generate({ model: "demo-model", prompt: "write something", options: { num_predict: 20 }, stream: true }));
    expect(parts.map((p) => p.response).join("")).toBe(answer.response);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: answer.done_reason, eval_count: answer.eval_count });
  });

  test("on a chat model: system and prompt become messages; fields only a chat model takes are refused on others", async () => {
    openaiUpstream.next({ reply: { text: "Rayleigh scattering." } });
    const answer = await ollama.generate({ model: "gpt-mini", system: "Be brief.", prompt: "Why is the sky blue?" });
    expect(answer.response).toBe("Rayleigh scattering.");
    expect(openaiUpstream.requests.at(-1)!.body.messages).toEqual([{ role: "system", content: "Be brief." }, { role: "user", content: "Why is the sky blue?" }]);
    const err = await failure(ollama.generate({ model: "demo-model", system: "Be brief.", prompt: "x" }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect(err.error).toContain("system");
  });

  test("what needs Ollama's own runner is refused naming it: suffix, raw, context", async () => {
    for (const extra of [{ suffix: "return x" }, { raw: true }, { context: [1, 2, 3] }]) {
      const err = await failure(ollama.generate({ model: "mock-chat", prompt: "def f():", ...extra }));
      expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
      expect(err.error).toContain(Object.keys(extra)[0]!);
    }
    // Empty ones are what clients send by default, and pass.
    expect((await ollama.generate({ model: "mock-chat", prompt: "hi", suffix: "", context: [] })).done).toBe(true);
  });
});

describe("embeddings", () => {
  test("embed (a list, dimensions) and the older embeddings (one prompt) give the same vectors, each metered", async () => {
    const before = await balanceOf(server);
    const embedded = await ollama.embed({ model: "mock-embed", input: ["a red fox", "a blue whale"], dimensions: 8 });
    expect(embedded.model).toBe("mock-embed");
    expect(embedded.embeddings.length).toBe(2);
    expect(embedded.embeddings[0]!.length).toBe(8);
    expect(embedded.prompt_eval_count).toBeGreaterThan(0);
    const exec = await newestExecution();
    expect(exec).toMatchObject({ model: "mock-embed", status: "COMPLETED", metadata: { dialect: "ollama" } });
    const single = await ollama.embed({ model: "mock-embed:latest", input: "a red fox" });
    const older = await ollama.embeddings({ model: "mock-embed", prompt: "a red fox" });
    expect(older.embedding).toEqual(single.embeddings[0]!);
    expect(micros(before) - micros(await balanceOf(server))).toBeGreaterThanOrEqual(micros(exec.cost));
    const err = await failure(ollama.embed({ model: "mock-chat", input: "x" }));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 400 });
    expect(err.error).toContain("does not support embeddings");
  });
});

describe("models", () => {
  test("list: the chat, text-generation and embedding models with their tags; show; version", async () => {
    const { models } = await ollama.list();
    const names = models.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(["mock-chat:latest", "claude-sonnet:latest", "demo-model:latest", "mock-embed:latest"]));
    expect(names).not.toContain("mock-image:latest"); // text-to-image: not something the Ollama API runs
    const chat = models.find((m) => m.name === "mock-chat:latest")!;
    expect(chat.model).toBe(chat.name);
    expect(chat.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(new Date(chat.modified_at).getTime()).toBeGreaterThan(0);
    expect(chat.details.family).toBe("modelroute");

    const shown = await ollama.show({ model: "mock-chat:latest" });
    expect(shown.capabilities).toEqual(["completion", "tools", "thinking", "vision"]);
    expect((shown.model_info as unknown as Record<string, unknown>)["general.architecture"]).toBe("modelroute");
    expect((await ollama.show({ model: "mock-embed" })).capabilities).toEqual(["embedding"]);
    expect((await ollama.show({ model: "demo-model" })).capabilities).toEqual(["completion"]);
    expect(await failure(ollama.show({ model: "no-such-model" }))).toMatchObject({ name: "ResponseError", status_code: 404 });
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("pull of a catalog model succeeds at once (streamed or not); push, create, copy and delete are refused", async () => {
    expect(await ollama.pull({ model: "mock-chat" })).toEqual({ status: "success" } as never);
    expect(await collect(await ollama.pull({ model: "mock-embed:latest", stream: true }))).toEqual([{ status: "success" }] as never);
    expect(await failure(ollama.pull({ model: "llama3.1:8b" }))).toMatchObject({ name: "ResponseError", status_code: 404 });
    const refusals = [() => ollama.push({ model: "mock-chat" }), () => ollama.create({ model: "mine", from: "mock-chat" }), () => ollama.copy({ source: "mock-chat", destination: "mine" }), () => ollama.delete({ model: "mock-chat" })];
    for (const refused of refusals) {
      const err = await failure(refused());
      expect(err).toMatchObject({ name: "ResponseError", status_code: 403 });
      expect(err.error).toContain("catalog");
    }
    expect((await ollama.list()).models.map((m) => m.name)).not.toContain("mine:latest");
  });

  test("ps: the models with an execution running, and none once it has ended", async () => {
    openaiUpstream.next({ delayMs: 1500 });
    const call = failure(ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "slow" }] })); // settled whatever happens below
    let seen: string[] = [];
    for (let i = 0; i < 100 && !seen.includes("gpt-mini:latest"); i++) {
      seen = (await ollama.ps()).models.map((m) => m.name);
      if (!seen.includes("gpt-mini:latest")) await Bun.sleep(20);
    }
    expect(seen).toContain("gpt-mini:latest");
    expect(await call).toBeNull();
    expect((await ollama.ps()).models.map((m) => m.name)).not.toContain("gpt-mini:latest");
  });

  test("names: a slug with its own tag is listed as is; a tag the catalog does not have is a 404, never a nearby model", async () => {
    const applied = await server.applyCatalog({
      models: [
        { slug: "tiny:8b", task: "chat", pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20" }, routes: [{ provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }] },
        {
          slug: "plain-chat",
          task: "chat",
          input_schema: { type: "object", additionalProperties: false, required: ["messages"], properties: { messages: { type: "array" }, max_tokens: { type: "integer" } } },
          pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20" },
          routes: [{ provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }],
        },
      ],
    });
    expect(applied.status).toBe(200);
    const names = (await ollama.list()).models.map((m) => m.name);
    expect(names).toContain("tiny:8b");
    expect(names).not.toContain("tiny:8b:latest");
    expect((await ollama.chat({ model: "tiny:8b", messages: [{ role: "user", content: "hi" }] })).done).toBe(true);
    expect(openaiUpstream.requests.at(-1)!.body.model).toBe("gpt-4o-mini");
    for (const name of ["tiny", "tiny:latest", "tiny:70b", "mock-chat:8b"]) expect(await failure(ollama.chat({ model: name, messages: [{ role: "user", content: "hi" }] }))).toMatchObject({ status_code: 404 });
    // A model whose input takes no tools nor thinking says so, as Ollama does.
    expect((await ollama.show({ model: "plain-chat" })).capabilities).toEqual(["completion"]);
    const tools = await failure(ollama.chat({ model: "plain-chat", messages: [{ role: "user", content: "hi" }], tools: [weather] }));
    expect(tools).toMatchObject({ status_code: 400, error: '"plain-chat" does not support tools' });
    expect(await failure(ollama.chat({ model: "plain-chat", messages: [{ role: "user", content: "hi" }], think: true }))).toMatchObject({ status_code: 400, error: '"plain-chat" does not support thinking' });
  });
});

describe("errors as the client's ResponseError", () => {
  test("401 without a key or with a wrong one, in Ollama's shape", async () => {
    for (const client of [clientFor(null), clientFor("sk_nope")]) {
      expect(await failure(client.list())).toMatchObject({ name: "ResponseError", status_code: 401 });
      expect(await failure(client.chat({ model: "mock-chat", messages: [{ role: "user", content: "x" }] }))).toMatchObject({ name: "ResponseError", status_code: 401 });
    }
    const raw = await server.post("/api/chat", { model: "mock-chat", messages: [] }, null);
    expect(raw.status).toBe(401);
    expect(Object.keys(await raw.json())).toEqual(["error"]);
  });

  test("404 for an unknown model, 400 for a bad body: an unknown field, a malformed JSON, messages that are not a list", async () => {
    const unknown = await failure(ollama.chat({ model: "no-such-model", messages: [{ role: "user", content: "x" }] }));
    expect(unknown).toMatchObject({ name: "ResponseError", status_code: 404, error: 'model "no-such-model" not found; GET /api/tags lists the models' });
    const extra = await failure(ollama.chat({ model: "mock-chat", messages: [{ role: "user", content: "x" }], frobnicate: 1 } as never));
    expect(extra).toMatchObject({ name: "ResponseError", status_code: 400, error: 'json: unknown field "frobnicate"' });
    expect(await failure(ollama.chat({ model: "mock-chat", messages: "hello" } as never))).toMatchObject({ status_code: 400 });
    expect(await failure(ollama.chat({ model: "mock-chat", messages: [{ role: "user", content: "x" }], tools: "weather" } as never))).toMatchObject({ status_code: 400 });
    const malformed = await server.post("/api/generate", '{"model": "mock-chat",');
    expect(malformed.status).toBe(400);
    expect(typeof (await malformed.json()).error).toBe("string");
  });

  test("402 when the balance cannot hold the call, before any upstream call; 429 over the key's rate", async () => {
    const calls = openaiUpstream.requests.length;
    const broke = clientFor(server.newOrgKey({ creditMicros: 0 }).key);
    const poor = await failure(broke.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }] }));
    expect(poor).toMatchObject({ name: "ResponseError", status_code: 402 });
    expect(await failure(broke.embed({ model: "mock-embed", input: "x" }))).toMatchObject({ status_code: 402 });
    expect(openaiUpstream.requests.length).toBe(calls);
    const created = await server.post("/v1/api-keys", { name: "one a minute", limits: { requests_per_minute: 1 } });
    const slow = clientFor((await created.json()).key);
    await slow.chat({ model: "mock-chat", messages: [{ role: "user", content: "first" }] });
    expect(await failure(slow.chat({ model: "mock-chat", messages: [{ role: "user", content: "second" }] }))).toMatchObject({ name: "ResponseError", status_code: 429 });
  });

  test("5xx from the upstream: a plain error before streaming begins, an NDJSON error line after", async () => {
    openaiUpstream.next({ status: 503 });
    expect(await failure(ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }] }))).toMatchObject({ name: "ResponseError", status_code: 503 });
    openaiUpstream.next({ status: 503 });
    expect(await failure(ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }], stream: true }))).toMatchObject({ name: "ResponseError", status_code: 503 });

    openaiUpstream.next({ reply: { text: "one two three four five six" }, cutAfterChunks: 2 });
    const parts: ChatResponse[] = [];
    const broken = await failure(
      (async () => {
        for await (const part of await ollama.chat({ model: "gpt-mini", messages: [{ role: "user", content: "x" }], stream: true })) parts.push(part);
      })(),
    );
    expect(broken).toBeInstanceOf(Error);
    expect(broken.message.length).toBeGreaterThan(0);
    expect(parts.map((p) => p.message.content).join("")).toBe("one two");
    expect(parts.some((p) => p.done)).toBe(false);
    expect((await newestExecution()).status).toBe("FAILED");
  });
});

describe("the gateway's contract on the Ollama surface", () => {
  test("an Idempotency-Key makes a retried chat one execution and one charge", async () => {
    const client = clientFor(server.apiKey, { "Idempotency-Key": "ollama-retry-1" });
    const before = await balanceOf(server);
    const previous = (await newestExecution()).id;
    const a = await client.chat({ model: "mock-chat", messages: [{ role: "user", content: "only once" }] });
    const made = await newestExecution();
    expect(made.id).not.toBe(previous);
    const b = await client.chat({ model: "mock-chat", messages: [{ role: "user", content: "only once" }] });
    expect(b.message.content).toBe(a.message.content);
    expect((await newestExecution()).id).toBe(made.id);
    expect(micros(before) - micros(await balanceOf(server))).toBe(micros(made.cost));

    // A replayed stream is the finished execution again, as a whole stream.
    const streaming = clientFor(server.apiKey, { "Idempotency-Key": "ollama-retry-2" });
    const first = await collect(await streaming.chat({ model: "mock-chat", messages: [{ role: "user", content: "stream once" }], stream: true }));
    const streamed = await newestExecution();
    const again = await collect(await streaming.chat({ model: "mock-chat", messages: [{ role: "user", content: "stream once" }], stream: true }));
    expect(again.map((p) => p.message.content).join("")).toBe(first.map((p) => p.message.content).join(""));
    expect(again.at(-1)).toMatchObject({ done: true, eval_count: first.at(-1)!.eval_count });
    expect((await newestExecution()).id).toBe(streamed.id);
  });

  test("a body posted as `curl -d` posts it (a form's Content-Type) is read as JSON, as Ollama reads it; elsewhere it stays a 415", async () => {
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const body = JSON.stringify({ model: "mock-chat", messages: [{ role: "user", content: "hi" }], stream: false });
    const res = await server.request("POST", "/api/chat", { body, headers: form });
    expect(res.status).toBe(200);
    expect((await res.json()).done).toBe(true);
    expect((await server.request("POST", "/v1/chat/completions", { body, headers: form })).status).toBe(415);
  });

  test("the /api path space: a wrong method is a 405 in Ollama's shape; AIMP and OpenRouter keep theirs", async () => {
    const wrong = await server.get("/api/chat");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(await wrong.json()).toEqual({ error: "GET is not allowed on /api/chat; use POST." });
    const aimp = await server.post("/api/runs", { model: "demo-model", input: { text: "hi" } });
    expect(aimp.status).toBe(401);
    expect((await aimp.json()).error.code).toBe("UNAUTHORIZED"); // AIMP takes X-API-Key only, in its envelope
    const openrouter = await server.get("/api/v1/models");
    expect(openrouter.status).toBe(200);
    expect(Array.isArray((await openrouter.json()).data)).toBe(true);
  });
});
