/**
 * The fake OpenAI upstream is faithful: the official `openai` SDK (v6) parses everything it answers,
 * and each injectable fault looks on the wire the way the brief describes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startFakeOpenAI, TINY_PNG, type FakeOpenAI } from "./fake-openai.ts";

let fake: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.url, apiKey: "k", maxRetries: 0 });
});
afterAll(() => fake.stop());

const post = (path: string, body: unknown, init: RequestInit = {}) =>
  fetch(`${fake.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });

const chatBody = (extra: Record<string, unknown> = {}): { model: string; messages: OpenAI.ChatCompletionMessageParam[] } => ({
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "be brief" },
    { role: "user", content: "hello there fake server" },
  ],
  ...extra,
});

/** Splits an SSE body into its blocks: `data` payloads and `: comment` lines. */
function blocks(text: string): string[] {
  expect(text).not.toContain("\r");
  return text.split("\n\n").filter(Boolean);
}
const dataOf = (text: string) =>
  blocks(text)
    .filter((b) => b.startsWith("data: "))
    .map((b) => b.slice("data: ".length));
const jsonChunks = (text: string) =>
  dataOf(text)
    .filter((d) => d !== "[DONE]")
    .map((d) => JSON.parse(d));

/** Reads a body chunk by chunk; returns what arrived and the error that ended it, if any. */
async function readAll(response: Response, timeoutMs = 2_000): Promise<{ text: string; error: unknown; timedOut: boolean }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timedOut = false;
  const timeout = setTimeout(() => {
    timedOut = true;
    reader.cancel().catch(() => {});
  }, timeoutMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, error: null, timedOut };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { text, error, timedOut };
  } finally {
    clearTimeout(timeout);
  }
}

describe("official SDK against the fake", () => {
  test("non-streaming chat with tool calls", async () => {
    fake.next({
      reply: {
        toolCalls: [
          { id: "call_weather1", name: "get_weather", arguments: '{"city":"Paris"}' },
          { name: "get_time", arguments: '{"tz":"Europe/Paris"}' },
        ],
        usage: { prompt_tokens: 11, completion_tokens: 7, cached_tokens: 3 },
      },
    });
    const before = fake.requests.length;
    const completion = await client.chat.completions.create({
      ...chatBody(),
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
    } as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toStartWith("chatcmpl-");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(typeof completion.created).toBe("number");
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.logprobs).toBeNull();
    expect(choice.message.role).toBe("assistant");
    expect(choice.message.content).toBeNull();
    const calls = choice.message.tool_calls!.map((c) => (c.type === "function" ? [c.id, c.function.name, JSON.parse(c.function.arguments)] : null));
    expect(calls[0]).toEqual(["call_weather1", "get_weather", { city: "Paris" }]);
    expect(calls[1]![0]).toMatch(/^call_\w{24}$/);
    expect(calls[1]!.slice(1)).toEqual(["get_time", { tz: "Europe/Paris" }]);
    expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 7, total_tokens: 18, prompt_tokens_details: { cached_tokens: 3 } });

    const recorded = fake.requests[before]!;
    expect(recorded.method).toBe("POST");
    expect(recorded.path).toBe("/v1/chat/completions");
    expect(recorded.headers.authorization).toBe("Bearer k");
    expect(recorded.body.tools[0].function.name).toBe("get_weather");
  });

  test("default reply, default usage, n choices, max_tokens truncation", async () => {
    const completion = await client.chat.completions.create({ ...chatBody(), n: 2 });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1]);
    const text = completion.choices[0]!.message.content!;
    expect(text).toBe("This is a fake reply to: hello there fake server.");
    expect(completion.choices[1]!.message.content).toBe(text);
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    // prompt: "be brief" + "hello there fake server" = 6 words; reply 10 words, twice
    expect(completion.usage).toEqual({ prompt_tokens: 6, completion_tokens: 20, total_tokens: 26 });

    const short = await client.chat.completions.create({ ...chatBody(), max_completion_tokens: 3 });
    expect(short.choices[0]!.message.content).toBe("This is a");
    expect(short.choices[0]!.finish_reason).toBe("length");
    expect(short.usage!.completion_tokens).toBe(3);

    fake.next({ reply: { text: "hi", usage: null } });
    const noUsage = await client.chat.completions.create(chatBody());
    expect(noUsage.choices[0]!.message.content).toBe("hi");
    expect(noUsage.usage).toBeUndefined();
  });

  test("streaming with include_usage via for await", async () => {
    fake.next({ reply: { text: "Hello from the fake", reasoning: "think first" } });
    const stream = await client.chat.completions.create({ ...chatBody(), stream: true, stream_options: { include_usage: true } });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(new Set(chunks.map((c) => c.created)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "gpt-4o-mini")).toBe(true);
    expect(chunks[0]!.choices[0]!.delta).toEqual({ role: "assistant", content: "" });
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
    expect(content).toBe("Hello from the fake");
    expect(chunks.filter((c) => c.choices[0]?.delta.content).map((c) => c.choices[0]!.delta.content)).toEqual(["Hello", " from", " the", " fake"]);
    const reasoning = chunks.map((c) => (c.choices[0]?.delta as any)?.reasoning_content ?? "").join("");
    expect(reasoning).toBe("think first");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12, completion_tokens_details: { reasoning_tokens: 2 } });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
  });

  test("streaming helper with tool calls: finalChatCompletion", async () => {
    fake.next({
      reply: {
        text: "Let me check.",
        toolCalls: [
          { id: "call_a", name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
          { id: "call_b", name: "get_time", arguments: '{"tz":"UTC"}' },
        ],
      },
    });
    const runner = client.chat.completions.stream({ ...chatBody(), stream_options: { include_usage: true } });
    const final = await runner.finalChatCompletion();
    const message = final.choices[0]!.message;
    expect(message.content).toBe("Let me check.");
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.tool_calls!.map((c) => (c.type === "function" ? [c.id, c.function.name, c.function.arguments] : null))).toEqual([
      ["call_a", "get_weather", '{"city":"Paris","unit":"celsius"}'],
      ["call_b", "get_time", '{"tz":"UTC"}'],
    ]);
    expect(final.usage!.prompt_tokens).toBe(6);

    // the raw shape of the tool-call deltas
    fake.next({ reply: { toolCalls: [{ id: "call_c", name: "f", arguments: '{"a":"0123456789"}' }] } });
    const raw = await (await post("/chat/completions", chatBody({ stream: true }))).text();
    const deltas = jsonChunks(raw).flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []));
    expect(deltas[0]).toEqual({ index: 0, id: "call_c", type: "function", function: { name: "f", arguments: "" } });
    expect(deltas.slice(1).every((d: any) => d.index === 0 && d.id === undefined && typeof d.function.arguments === "string")).toBe(true);
    expect(deltas.slice(1).map((d: any) => d.function.arguments).join("")).toBe('{"a":"0123456789"}');
    // no include_usage: no usage anywhere (as real OpenAI)
    expect(jsonChunks(raw).every((c) => !("usage" in c))).toBe(true);
    expect(dataOf(raw).at(-1)).toBe("[DONE]");
  });

  test("embeddings: float and base64 agree", async () => {
    const input = ["first text", "second text here"];
    const floats = await client.embeddings.create({ model: "text-embedding-3-small", input, encoding_format: "float" });
    expect(floats.object).toBe("list");
    expect(floats.model).toBe("text-embedding-3-small");
    expect(floats.usage).toEqual({ prompt_tokens: 5, total_tokens: 5 });
    expect(floats.data.map((d) => [d.object, d.index, d.embedding.length])).toEqual([
      ["embedding", 0, 8],
      ["embedding", 1, 8],
    ]);
    // the SDK asks for base64 by default and decodes it
    const decoded = await client.embeddings.create({ model: "text-embedding-3-small", input });
    expect(fake.requests.at(-1)!.body.encoding_format).toBe("base64");
    expect(decoded.data.map((d) => Array.from(d.embedding))).toEqual(floats.data.map((d) => d.embedding));

    const raw = (await (await post("/embeddings", { model: "m", input: "x", encoding_format: "base64", dimensions: 3 })).json()) as any;
    expect(typeof raw.data[0].embedding).toBe("string");
    expect(Buffer.from(raw.data[0].embedding, "base64").length).toBe(12);
  });

  test("images: b64_json and url", async () => {
    const images = await client.images.generate({ model: "dall-e-3", prompt: "a cat", n: 2 });
    expect(images.data!.length).toBe(2);
    const png = Buffer.from(images.data![0]!.b64_json!, "base64");
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(typeof images.created).toBe("number");

    const byUrl = await client.images.generate({ model: "dall-e-3", prompt: "a cat", response_format: "url" });
    const file = await fetch(byUrl.data![0]!.url!);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await file.arrayBuffer())).toEqual(TINY_PNG);
  });

  test("models list", async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model);
    expect(models.length).toBeGreaterThan(0);
    expect(models[0]).toEqual({ id: "gpt-4o-mini", object: "model", created: expect.any(Number), owned_by: "openai" });
    expect((await client.models.retrieve("gpt-4o")).id).toBe("gpt-4o");
  });

  test("429 with retry-after surfaces as RateLimitError", async () => {
    fake.next({ status: 429, headers: { "retry-after": "2" } });
    const error = await client.chat.completions.create(chatBody()).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.headers.get("retry-after")).toBe("2");
    expect(error.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.error).toMatchObject({ type: "requests", param: null, code: "rate_limit_exceeded" });

    fake.next({ status: 503 }, { status: 500 }, { status: 400, errorBody: { error: { message: "custom", type: "x", param: "p", code: "c" } } });
    expect(await client.chat.completions.create(chatBody()).catch((e) => e)).toMatchObject({ status: 503, code: "overloaded", type: "server_error" });
    expect(await client.chat.completions.create(chatBody()).catch((e) => e)).toBeInstanceOf(OpenAI.InternalServerError);
    expect(await client.chat.completions.create(chatBody()).catch((e) => e)).toMatchObject({ status: 400, message: "400 custom", param: "p" });
  });

  test("401 with a wrong key", async () => {
    const guarded = await startFakeOpenAI({ apiKeys: ["good"] });
    try {
      const bad = new OpenAI({ baseURL: guarded.url, apiKey: "wrong-key-1234", maxRetries: 0 });
      const error = await bad.models.list().catch((e) => e);
      expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(error.code).toBe("invalid_api_key");
      expect(error.message).toContain("wro*****1234");
      const good = new OpenAI({ baseURL: guarded.url, apiKey: "good", maxRetries: 0 });
      expect((await good.chat.completions.create(chatBody())).choices[0]!.message.content).toStartWith("This is a fake reply");
    } finally {
      await guarded.stop();
    }
  });

  test("errorAfterRole makes the SDK stream throw an APIError", async () => {
    fake.next({ errorAfterRole: { message: "upstream exploded" } });
    const stream = await client.chat.completions.create({ ...chatBody(), stream: true });
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const chunk of stream) seen.push(chunk);
    })().catch((e) => e);
    expect(seen.length).toBe(1);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.message).toContain("upstream exploded");
  });
});

describe("wire details and faults (raw fetch)", () => {
  test("unknown path 404, malformed JSON 400, x-request-id everywhere", async () => {
    const missing = await post("/nope", {});
    expect(missing.status).toBe(404);
    expect(missing.headers.get("x-request-id")).toMatch(/^req_/);
    expect((await missing.json()) as any).toEqual({ error: { message: "Invalid URL (POST /v1/nope)", type: "invalid_request_error", param: null, code: null } });

    const malformed = await post("/chat/completions", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("x-request-id")).toMatch(/^req_/);
    expect(((await malformed.json()) as any).error).toMatchObject({ type: "invalid_request_error", param: null, code: null });
    expect(fake.requests.at(-1)!.body).toBe("{not json");
  });

  test("next takes precedence over always; always(null) clears", async () => {
    fake.always({ reply: { text: "always" } });
    fake.next({ reply: { text: "next" } });
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await client.chat.completions.create(chatBody())).choices[0]!.message.content);
    fake.always(null);
    texts.push((await client.chat.completions.create(chatBody())).choices[0]!.message.content);
    expect(texts.slice(0, 3)).toEqual(["next", "always", "always"]);
    expect(texts[3]).toStartWith("This is a fake reply");
  });

  test("delayMs delays the headers", async () => {
    fake.next({ delayMs: 150 });
    const started = performance.now();
    const response = await post("/chat/completions", chatBody());
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(response.status).toBe(200);
  });

  test("reset: fetch rejects", async () => {
    fake.next({ reset: true });
    const error = await post("/chat/completions", chatBody()).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
  });

  test("hang: times out", async () => {
    fake.next({ hang: true });
    const error = await post("/chat/completions", chatBody(), { signal: AbortSignal.timeout(300) }).catch((e) => e);
    expect(error?.name).toBe("TimeoutError");
  });

  test("cutAfterChunks: the body errors after N content chunks", async () => {
    fake.next({ cutAfterChunks: 2, reply: { text: "one two three four five" } });
    const response = await post("/chat/completions", chatBody({ stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const { text, error, timedOut } = await readAll(response);
    expect(error).toBeTruthy();
    expect(timedOut).toBe(false);
    const chunks = jsonChunks(text);
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual(["", "one", " two"]);
    expect(text).not.toContain("[DONE]");

    // the SDK sees the role chunk and N content chunks, then an error
    fake.next({ cutAfterChunks: 2, reply: { text: "one two three four five" } });
    const stream = await client.chat.completions.create({ ...chatBody(), stream: true });
    const seen: string[] = [];
    const failure = await (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]!.delta.content!);
    })().catch((e) => e);
    expect(seen).toEqual(["", "one", " two"]);
    expect(failure).toBeInstanceOf(Error);
  });

  test("stallAfterChunks: content stops, connection stays open", async () => {
    fake.next({ stallAfterChunks: 1, reply: { text: "a b c" } });
    const response = await post("/chat/completions", chatBody({ stream: true }));
    const { text, timedOut } = await readAll(response, 300);
    expect(timedOut).toBe(true);
    expect(jsonChunks(text).map((c) => c.choices[0].delta.content)).toEqual(["", "a"]);
  });

  test("noDone: clean end without [DONE]", async () => {
    fake.next({ noDone: true, reply: { text: "a b" } });
    const { text, error } = await readAll(await post("/chat/completions", chatBody({ stream: true, stream_options: { include_usage: true } })));
    expect(error).toBeNull();
    expect(text).not.toContain("[DONE]");
    expect(jsonChunks(text).at(-1).usage.completion_tokens).toBe(2);
  });

  test("malformedChunk: one non-JSON data line in the middle", async () => {
    fake.next({ malformedChunk: true, reply: { text: "a b c d" } });
    const { text, error } = await readAll(await post("/chat/completions", chatBody({ stream: true })));
    expect(error).toBeNull();
    const data = dataOf(text);
    const bad = data.map((d, i) => [d, i] as const).filter(([d]) => {
      if (d === "[DONE]") return false;
      try {
        JSON.parse(d);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBe(1);
    expect(bad[0]![1]).toBeGreaterThan(1);
    expect(bad[0]![1]).toBeLessThan(data.length - 2);
    expect(data.at(-1)).toBe("[DONE]");
  });

  test("ollamaToolQuirks: whole calls, missing or repeated index", async () => {
    fake.next({
      ollamaToolQuirks: true,
      reply: {
        toolCalls: [
          { id: "call_1", name: "a", arguments: '{"x":1}' },
          { id: "call_2", name: "b", arguments: '{"y":2}' },
        ],
      },
    });
    const text = await (await post("/chat/completions", chatBody({ stream: true }))).text();
    const calls = jsonChunks(text).flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []));
    expect(calls).toEqual([
      { id: "call_1", type: "function", function: { name: "a", arguments: '{"x":1}' } },
      { index: 0, id: "call_2", type: "function", function: { name: "b", arguments: '{"y":2}' } },
    ]);
  });

  test("errorAfterRole: role chunk, error chunk, close", async () => {
    fake.next({ errorAfterRole: { message: "boom" } });
    const { text, error } = await readAll(await post("/chat/completions", chatBody({ stream: true })));
    expect(error).toBeNull();
    const data = dataOf(text);
    expect(data.length).toBe(2);
    expect(JSON.parse(data[0]!).choices[0].delta).toEqual({ role: "assistant", content: "" });
    expect(JSON.parse(data[1]!)).toEqual({ error: { message: "boom", type: "server_error", param: null, code: null } });
  });

  test("keepAliveComments, chunkDelayMs, noRoleInFirstChunk", async () => {
    fake.next({ keepAliveComments: true, chunkDelayMs: 10, noRoleInFirstChunk: true, reply: { text: "a b" } });
    const started = performance.now();
    const text = await (await post("/chat/completions", chatBody({ stream: true }))).text();
    const all = blocks(text);
    expect(all.filter((b) => b === ": keep-alive").length).toBe(all.length - dataOf(text).length);
    expect(all[1]).toBe(": keep-alive");
    // role, a, b, final, [DONE] = 4 gaps
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(jsonChunks(text)[0].choices[0].delta).toEqual({ content: "" });
  });

  test("legacy completions, non-stream and stream", async () => {
    const completion = await client.completions.create({ model: "gpt-3.5-turbo-instruct", prompt: "Say this is a test", max_tokens: 50 });
    expect(completion.object).toBe("text_completion");
    expect(completion.id).toStartWith("cmpl-");
    expect(completion.choices[0]!.text).toBe(" This is a fake completion of: Say this is a test.");
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 11, total_tokens: 16 });

    const stream = await client.completions.create({ model: "m", prompt: "hi", stream: true, stream_options: { include_usage: true }, max_tokens: 3 });
    const chunks: OpenAI.Completion[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.text ?? "").join("")).toBe(" This is a");
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("length");
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
  });

  test("stop() ends hanging connections", async () => {
    const other = await startFakeOpenAI();
    other.next({ hang: true });
    const pending = fetch(`${other.url}/models`).then(
      () => "answered",
      () => "rejected",
    );
    await Bun.sleep(50);
    await other.stop();
    expect(await pending).toBe("rejected");
  });
});
