/**
 * The fake Anthropic upstream is faithful: the official `@anthropic-ai/sdk` parses everything it
 * answers (messages, streams, errors, token counts, model listings), and each injectable fault
 * looks on the wire the way fake-anthropic.ts describes.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { startFakeAnthropic, type FakeAnthropic } from "./fake-anthropic";

let fake: FakeAnthropic;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKeys: ["k"] });
  client = new Anthropic({ baseURL: fake.url, apiKey: "k", maxRetries: 0 });
});
afterAll(() => fake.stop());
beforeEach(() => {
  fake.requests.length = 0;
  fake.always(null);
});

const MODEL = "claude-sonnet-4-6";
const ask = { model: MODEL, max_tokens: 100, system: "be kind", messages: [{ role: "user" as const, content: "what is the weather" }] };
const weatherTool = { name: "weather", description: "The weather in a city", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };

const post = (path: string, body: unknown, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  fetch(`${fake.url}${path}`, {
    method: "POST",
    ...init,
    headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

type Sse = { event: string | null; data: any };
/** Parses an SSE body: one `event:` and one `data:` line per block, LF only. */
function events(text: string): Sse[] {
  expect(text).not.toContain("\r");
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const lines = block.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice("event: ".length) ?? null;
      const data = lines.find((l) => l.startsWith("data: "))?.slice("data: ".length);
      return { event, data: data === undefined ? undefined : JSON.parse(data) };
    });
}

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

const failure = (promise: Promise<unknown>) => promise.then(
  () => {
    throw new Error("expected a failure");
  },
  (e: any) => e,
);

describe("official SDK against the fake: messages", () => {
  test("non-streaming message with system blocks and tools, answered with tool_use", async () => {
    fake.next({
      reply: {
        text: "Let me check.",
        toolUses: [
          { id: "toolu_1", name: "weather", input: { city: "Paris" } },
          { name: "clock", input: { tz: "UTC" } },
        ],
      },
    });
    const message = await client.messages.create({
      ...ask,
      system: [{ type: "text", text: "be kind and brief" }],
      tools: [weatherTool, { name: "clock", input_schema: { type: "object", properties: { tz: { type: "string" } } } }],
      tool_choice: { type: "auto" },
    });
    expect(message.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(message).toMatchObject({ type: "message", role: "assistant", model: MODEL, stop_reason: "tool_use", stop_sequence: null });
    expect(message.content).toEqual([
      { type: "text", text: "Let me check." },
      { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } },
      { type: "tool_use", id: expect.stringMatching(/^toolu_01/), name: "clock", input: { tz: "UTC" } },
    ] as any);
    // 4 system words + 4 user words; 3 text words + (name + JSON) per tool use
    expect(message.usage).toMatchObject({ input_tokens: 8, output_tokens: 7, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });

    const sent = fake.requests[0]!;
    expect(sent.method).toBe("POST");
    expect(sent.path).toBe("/v1/messages");
    expect(sent.headers.authorization).toBe("Bearer k"); // the SDK v1 sends its apiKey as a Bearer token
    expect(sent.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(sent.body).toMatchObject({ model: MODEL, max_tokens: 100, tool_choice: { type: "auto" }, system: [{ type: "text", text: "be kind and brief" }] });
    expect(sent.body.tools[0]).toEqual(weatherTool);
  });

  test("default reply: a sentence from the last user text, word-count usage, max_tokens and stop_sequences honoured", async () => {
    const plain = await client.messages.create(ask);
    expect(plain.content).toEqual([{ type: "text", text: "This is a fake reply to: what is the weather." }] as any);
    expect(plain.stop_reason).toBe("end_turn");
    expect(plain.usage).toMatchObject({ input_tokens: 6, output_tokens: 10 });

    const short = await client.messages.create({ ...ask, max_tokens: 3 });
    expect(short.content).toEqual([{ type: "text", text: "This is a" }] as any);
    expect(short.stop_reason).toBe("max_tokens");
    expect(short.usage.output_tokens).toBe(3);

    const stopped = await client.messages.create({ ...ask, stop_sequences: ["nothing", "reply"] });
    expect(stopped.content).toEqual([{ type: "text", text: "This is a fake " }] as any);
    expect(stopped).toMatchObject({ stop_reason: "stop_sequence", stop_sequence: "reply" });

    fake.next({ reply: { text: "No.", stopReason: "refusal" } });
    expect(await client.messages.create(ask)).toMatchObject({ stop_reason: "refusal", content: [{ type: "text", text: "No." }] });
  });

  test("history with images, tool_use and tool_result blocks is accepted and counted", async () => {
    const message = await client.messages.create({
      ...ask,
      tools: [weatherTool],
      messages: [
        { role: "user", content: [{ type: "text", text: "look at this" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_a", name: "weather", input: { city: "Oslo" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_a", content: "cold and dark", is_error: false }, { type: "image", source: { type: "url", url: "https://example.com/a.png" } }] },
      ],
    });
    // system 2 + "look at this" 3 + tool result 3
    expect(message.usage.input_tokens).toBe(8);
    expect(message.content).toEqual([{ type: "text", text: "This is a fake reply to: cold and dark." }] as any);
  });

  test("count_tokens and the model listing", async () => {
    expect(await client.messages.countTokens({ model: MODEL, system: "be kind", messages: ask.messages })).toEqual({ input_tokens: 6 });
    const ids: string[] = [];
    for await (const model of client.models.list()) {
      expect(model.type).toBe("model");
      expect(typeof model.display_name).toBe("string");
      expect(Number.isNaN(Date.parse(model.created_at))).toBe(false);
      ids.push(model.id);
    }
    expect(ids).toContain("claude-sonnet-4-6");
    const page: any = await (await post("/v1/models?limit=2", "", { method: "GET", body: undefined })).json();
    expect(page).toMatchObject({ has_more: true, first_id: ids[0], last_id: ids[1] });
    expect(page.data).toHaveLength(2);
    expect((await client.models.retrieve(ids[0]!)).id).toBe(ids[0]!);
  });
});

describe("official SDK against the fake: streams", () => {
  test("thinking with its signature, text, and tool input from input_json_delta pieces; cache usage in message_start", async () => {
    const input = { city: "Paris", days: 3, note: "bring an umbrella" };
    fake.next({
      reply: {
        thinking: "hmm let me see",
        text: "Sunny today.",
        toolUses: [{ id: "toolu_2", name: "weather", input }],
        usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 },
      },
    });
    const stream = client.messages.stream({ ...ask, max_tokens: 2048, thinking: { type: "enabled", budget_tokens: 1024 }, tools: [weatherTool] });
    let text = "";
    stream.on("text", (t) => (text += t));
    // copies: the SDK's accumulator grows the message_start event's message into the final snapshot
    const seen: Anthropic.MessageStreamEvent[] = [];
    stream.on("streamEvent", (event) => void seen.push(structuredClone(event)));
    const message = await stream.finalMessage();

    expect(fake.requests[0]!.body.stream).toBe(true);
    expect(seen[0]).toMatchObject({
      type: "message_start",
      message: { content: [], stop_reason: null, usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 } },
    });
    expect(seen.at(-2)).toMatchObject({ type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 9 } });
    expect(seen.at(-1)!.type).toBe("message_stop");

    const deltas = seen.flatMap((e) => (e.type === "content_block_delta" ? [e] : []));
    expect(deltas.filter((d) => d.delta.type === "thinking_delta").map((d) => (d.delta as any).thinking)).toEqual(["hmm", " let", " me", " see"]);
    expect(deltas.filter((d) => d.delta.type === "signature_delta")).toHaveLength(1);
    expect(deltas.filter((d) => d.delta.type === "text_delta").map((d) => (d.delta as any).text)).toEqual(["Sunny", " today."]);
    const json = deltas.filter((d) => d.delta.type === "input_json_delta").map((d) => (d.delta as any).partial_json as string);
    expect(json.length).toBeGreaterThan(3);
    expect(JSON.parse(json.join(""))).toEqual(input);

    expect(text).toBe("Sunny today.");
    expect(message.content).toEqual([
      { type: "thinking", thinking: "hmm let me see", signature: expect.any(String) },
      { type: "text", text: "Sunny today." },
      { type: "tool_use", id: "toolu_2", name: "weather", input },
    ] as any);
    expect((message.content[0] as Anthropic.ThinkingBlock).signature.length).toBeGreaterThan(20);
    expect(message.stop_reason).toBe("tool_use");
    expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });
  });

  test("on the wire: every event's name equals its data's type, ping after message_start, request-id header", async () => {
    const response = await post("/v1/messages", { ...ask, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/event-stream");
    expect(response.headers.get("request-id")).toMatch(/^req_/);
    const { text, error } = await readAll(response);
    expect(error).toBeNull();
    const all = events(text);
    for (const e of all) expect(e.event).toBe(e.data.type);
    expect(all.map((e) => e.event)).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      ...Array(10).fill("content_block_delta"),
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(all[0]!.data.message.usage).toMatchObject({ input_tokens: 6, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(all[2]!.data).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    expect(all.at(-2)!.data).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 10 } });
  });

  test("a mid-stream errorAfterDeltas surfaces as an error from the SDK stream, after the text so far", async () => {
    fake.next({ errorAfterDeltas: { after: 2, type: "api_error", message: "Internal server error" }, reply: { text: "one two three four" } });
    const stream = client.messages.stream(ask);
    let text = "";
    stream.on("text", (t) => (text += t));
    const error = await failure(stream.finalMessage());
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error.type).toBe("api_error");
    expect(error.message).toContain("Internal server error");
    expect(text).toBe("one two");
  });

  test("a cut stream is an error for the SDK, never a clean end", async () => {
    fake.next({ cutAfterDeltas: 1, reply: { text: "one two three" } });
    const stream = client.messages.stream(ask);
    let text = "";
    stream.on("text", (t) => (text += t));
    expect(await failure(stream.finalMessage())).toBeInstanceOf(Error);
    expect(text).toBe("one");
  });
});

describe("errors as the SDK types them", () => {
  test("429 with retry-after is a RateLimitError", async () => {
    fake.next({ status: 429, headers: { "retry-after": "2" } });
    const error = await failure(client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(error.status).toBe(429);
    expect(error.headers.get("retry-after")).toBe("2");
    expect(error.type).toBe("rate_limit_error");
    expect(error.requestID).toMatch(/^req_/);
    expect(error.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" }, request_id: error.requestID });
  });

  test("529 is an APIError with status 529 (overloaded_error)", async () => {
    fake.next({ status: 529 });
    const error = await failure(client.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error.status).toBe(529);
    expect(error.type).toBe("overloaded_error");
    expect(error.apiMessage).toBe("Overloaded");
  });

  test("missing max_tokens is a 400 invalid_request_error; so are other malformed requests", async () => {
    const { max_tokens: _, ...noMax } = ask;
    const error = await failure(client.messages.create(noMax as any));
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(error.status).toBe(400);
    expect(error.type).toBe("invalid_request_error");
    expect(error.apiMessage).toBe("max_tokens: Field required");

    const bad = async (body: unknown, message: string | RegExp) => {
      const response = await post("/v1/messages", body);
      expect(response.status).toBe(400);
      const answer: any = await response.json();
      expect(answer).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
      expect(answer.error.message).toMatch(message);
    };
    await bad("{not json", /parsing the body/);
    await bad({ ...ask, model: undefined }, "model: Field required");
    await bad({ ...ask, messages: [] }, /at least one message/);
    await bad({ ...ask, messages: [{ role: "system", content: "x" }, ...ask.messages] }, /Unexpected role "system"/);
    await bad({ ...ask, messages: [{ role: "user", content: "" }] }, /non-empty content/);
    await bad({ ...ask, messages: [...ask.messages, { role: "assistant", content: [{ type: "tool_use", id: "toolu_x", name: "weather", input: {} }] }, { role: "user", content: "hi" }] }, /without `tool_result`/);
    await bad({ ...ask, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_y", content: "z" }] }] }, /unexpected `tool_use_id`/);
    await bad({ ...ask, tools: [{ name: "weather" }] }, /input_schema: Field required/);
    await bad({ ...ask, thinking: { type: "enabled", budget_tokens: 1024 } }, /greater than `thinking.budget_tokens`/);
    await bad({ ...ask, temperature: 1.5 }, /temperature/);
    const noVersion = await post("/v1/messages", ask, { headers: { "anthropic-version": "" } });
    expect(noVersion.status).toBe(400);
    expect(((await noVersion.json()) as any).error.message).toBe("anthropic-version: header is required");
  });

  test("keys: a wrong one is an AuthenticationError; Bearer works too", async () => {
    const wrong = new Anthropic({ baseURL: fake.url, apiKey: "nope", maxRetries: 0 });
    const error = await failure(wrong.messages.create(ask));
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error.apiMessage).toBe("invalid x-api-key");
    const none = await fetch(`${fake.url}/v1/messages`, { method: "POST", headers: { "anthropic-version": "2023-06-01" }, body: JSON.stringify(ask) });
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error).toEqual({ type: "authentication_error", message: "x-api-key header is required" });
    const bearer = await fetch(`${fake.url}/v1/messages`, {
      method: "POST",
      headers: { authorization: "Bearer k", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify(ask),
    });
    expect(bearer.status).toBe(200);
  });

  test("each status answers its Anthropic error type, with request_id matching the request-id header", async () => {
    const types: Record<number, string> = {
      400: "invalid_request_error",
      401: "authentication_error",
      403: "permission_error",
      404: "not_found_error",
      413: "request_too_large",
      429: "rate_limit_error",
      500: "api_error",
      529: "overloaded_error",
    };
    for (const [status, type] of Object.entries(types)) {
      fake.next({ status: Number(status) });
      const response = await post("/v1/messages", ask);
      expect(response.status).toBe(Number(status));
      const body = await response.json();
      expect(body).toEqual({ type: "error", error: { type, message: expect.any(String) }, request_id: response.headers.get("request-id") });
    }
    const custom = { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" } };
    fake.next({ status: 400, errorBody: custom });
    expect(await (await post("/v1/messages", ask)).json()).toEqual(custom);

    const unknown = await post("/v1/nothing", {});
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toEqual({ type: "not_found_error", message: "Not Found" });
  });
});

describe("faults on the wire (raw fetch)", () => {
  test("reset: fetch rejects", async () => {
    fake.next({ reset: true });
    expect(await post("/v1/messages", ask).catch((e) => e)).toBeInstanceOf(Error);
  });

  test("hang: the client times out", async () => {
    fake.next({ hang: true });
    const error = await post("/v1/messages", ask, { signal: AbortSignal.timeout(300) }).catch((e) => e);
    expect(error?.name).toBe("TimeoutError");
  });

  test("cutAfterDeltas: N deltas, then the body errors; no message_delta or message_stop", async () => {
    fake.next({ cutAfterDeltas: 2, reply: { text: "one two three four" } });
    const response = await post("/v1/messages", { ...ask, stream: true });
    expect(response.status).toBe(200);
    const { text, error, timedOut } = await readAll(response);
    expect(error).toBeTruthy();
    expect(timedOut).toBe(false);
    const all = events(text);
    expect(all.map((e) => e.event)).toEqual(["message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta"]);
    expect(all.slice(3).map((e) => e.data.delta.text)).toEqual(["one", " two"]);
  });

  test("stallAfterDeltas: N deltas, then nothing while the connection stays open", async () => {
    fake.next({ stallAfterDeltas: 1, reply: { text: "a b c" } });
    const response = await post("/v1/messages", { ...ask, stream: true });
    const { text, timedOut } = await readAll(response, 300);
    expect(timedOut).toBe(true);
    expect(events(text).map((e) => e.event)).toEqual(["message_start", "ping", "content_block_start", "content_block_delta"]);
  });

  test("errorAfterStart: message_start and ping, then `event: error`, then a clean close", async () => {
    fake.next({ errorAfterStart: { type: "overloaded_error", message: "Overloaded" } });
    const response = await post("/v1/messages", { ...ask, stream: true });
    const { text, error } = await readAll(response);
    expect(error).toBeNull();
    const all = events(text);
    expect(all.map((e) => e.event)).toEqual(["message_start", "ping", "error"]);
    expect(all[2]!.data).toEqual({ type: "error", error: { type: "overloaded_error", message: "Overloaded" }, request_id: response.headers.get("request-id") });
  });

  test("errorAfterDeltas with more deltas than there are fires before message_delta", async () => {
    fake.next({ errorAfterDeltas: { after: 99, type: "api_error", message: "late" }, reply: { text: "hi there" } });
    const { text } = await readAll(await post("/v1/messages", { ...ask, stream: true }));
    expect(events(text).map((e) => e.event).slice(-3)).toEqual(["content_block_delta", "content_block_stop", "error"]);
  });

  test("delayMs, deltaDelayMs, headers; next() takes precedence over always()", async () => {
    fake.always({ headers: { "x-fake": "always" } });
    fake.next({ delayMs: 120, headers: { "x-fake": "next" } });
    let started = performance.now();
    const first = await post("/v1/messages", ask);
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(first.headers.get("x-fake")).toBe("next");
    expect((await post("/v1/messages", ask)).headers.get("x-fake")).toBe("always");
    fake.always(null);
    expect((await post("/v1/messages", ask)).headers.get("x-fake")).toBeNull();

    fake.next({ deltaDelayMs: 40, reply: { text: "a b c" } });
    started = performance.now();
    const { text } = await readAll(await post("/v1/messages", { ...ask, stream: true }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(events(text).at(-1)!.event).toBe("message_stop");
  });

  test("stop() ends hanging connections", async () => {
    const other = await startFakeAnthropic();
    other.next({ hang: true });
    const pending = fetch(`${other.url}/v1/models`, { headers: { "anthropic-version": "2023-06-01" } }).then(
      () => "answered",
      () => "rejected",
    );
    await Bun.sleep(50);
    await other.stop();
    expect(await pending).toBe("rejected");
  });
});
