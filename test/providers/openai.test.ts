/**
 * The `openai` adapter through the router, against a fake OpenAI-compatible server on
 * 127.0.0.1: the wire both ways, streams with every quirk real servers show, and the router's
 * retries, failover, breaker, key pool and concurrency on real HTTP failures.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { ChatOutput } from "../../src/canonical/chat";
import { AppError } from "../../src/errors";
import { ProviderRouter } from "../../src/providers/router";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { collector, recordingSleep, routeTo } from "./routes";

let fake: FakeOpenAI;
let backup: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
  backup = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.stop();
  await backup.stop();
});
beforeEach(() => {
  fake.requests.length = 0;
  backup.requests.length = 0;
  fake.always(null);
  backup.always(null);
});

const signal = () => AbortSignal.timeout(10_000);
const hello = { messages: [{ role: "user", content: "hello there gateway" }] };

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (e) {
    return e as AppError;
  }
  throw new Error("expected a failure");
}

describe("chat, not streamed", () => {
  test("text, usage as reported, and the request in OpenAI's shape", async () => {
    const router = new ProviderRouter();
    const input = {
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "what is in" }, { type: "image", url: "https://example.com/cat.png" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "look", input: { at: "cat" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "a cat" }, { type: "text", text: "so?" }] },
      ],
      tools: [{ name: "look", description: "Looks", parameters: { type: "object", properties: { at: { type: "string" } } } }],
      tool_choice: { name: "look" },
      temperature: 0.2,
      seed: 7,
      max_tokens: 50,
    };
    fake.next({ reply: { text: "It is a cat.", usage: { prompt_tokens: 41, completion_tokens: 4, cached_tokens: 32 } } });
    const result = await router.run("chat", input, [routeTo("openai", fake.url, { params: { top_k: 5 } })], { signal: signal() });
    expect((result.output as ChatOutput).text).toBe("It is a cat.");
    expect(result.output).toMatchObject({ message: { role: "assistant", content: [{ type: "text", text: "It is a cat." }] }, finish_reason: "stop" });
    expect(result.usage).toEqual({ inputTokens: 41, outputTokens: 4, cachedInputTokens: 32 });

    const sent = fake.requests[0]!;
    expect(sent.path).toBe("/v1/chat/completions");
    expect(sent.headers.authorization).toBe("Bearer test-key");
    expect(sent.body).toMatchObject({ model: "fake-model", temperature: 0.2, seed: 7, max_tokens: 50, top_k: 5, tool_choice: { type: "function", function: { name: "look" } } });
    expect(sent.body.stream).toBeUndefined();
    expect(sent.body.tools).toEqual([{ type: "function", function: { name: "look", description: "Looks", parameters: { type: "object", properties: { at: { type: "string" } } } } }]);
    expect(sent.body.messages).toEqual([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "what is in" }, { type: "image_url", image_url: { url: "https://example.com/cat.png" } }] },
      { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "look", arguments: '{"at":"cat"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "a cat" },
      { role: "user", content: "so?" },
    ]);
  });

  test("tool calls become tool_use parts with parsed arguments", async () => {
    fake.next({ reply: { toolCalls: [{ id: "call_a", name: "weather", arguments: '{"city":"Paris"}' }, { id: "call_b", name: "time", arguments: "{}" }] } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal() });
    expect(result.output).toMatchObject({
      finish_reason: "tool_calls",
      message: { content: [{ type: "tool_use", id: "call_a", name: "weather", input: { city: "Paris" } }, { type: "tool_use", id: "call_b", name: "time", input: {} }] },
    });
  });

  test("a server that reports no usage gets an estimate, marked as such", async () => {
    fake.next({ reply: { text: "four words right here", usage: null } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal() });
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.inputTokens).toBeGreaterThanOrEqual(3);
    expect(result.usage.outputTokens).toBeGreaterThanOrEqual(4);
  });

  test("explicit zero usage is kept, not replaced by an estimate", async () => {
    fake.next({ reply: { text: "cached", usage: { prompt_tokens: 0, completion_tokens: 0 } } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal() });
    expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
  });
});

describe("chat, streamed", () => {
  test("deltas add up to the text; usage is always asked for and recorded", async () => {
    const seen = collector();
    fake.next({ reply: { text: "one two three four", usage: { prompt_tokens: 3, completion_tokens: 4 } }, keepAliveComments: true });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal(), emit: seen.emit });
    expect(seen.text).toBe("one two three four");
    expect((result.output as ChatOutput).text).toBe("one two three four");
    expect(result.usage).toEqual({ inputTokens: 3, outputTokens: 4 });
    expect(fake.requests[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test("streamed tool calls: start, argument fragments, parsed at the end", async () => {
    const seen = collector();
    fake.next({ reply: { toolCalls: [{ id: "call_x", name: "weather", arguments: '{"city":"Paris","unit":"C"}' }] } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal(), emit: seen.emit });
    const starts = seen.events.filter((e) => e.type === "tool_call_start");
    expect(starts).toEqual([{ type: "tool_call_start", index: 0, id: "call_x", name: "weather" }]);
    const args = seen.events.flatMap((e) => (e.type === "tool_call_delta" ? [e.arguments] : [])).join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris", unit: "C" });
    expect(result.output).toMatchObject({ finish_reason: "tool_calls", message: { content: [{ type: "tool_use", id: "call_x", input: { city: "Paris", unit: "C" } }] } });
  });

  test("Ollama's tool-call quirks (no index, index 0 repeated with new ids) are two calls", async () => {
    fake.next({ ollamaToolQuirks: true, reply: { toolCalls: [{ id: "c1", name: "a", arguments: '{"x":1}' }, { id: "c2", name: "b", arguments: '{"y":2}' }] } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal(), emit: collector().emit });
    expect((result.output as ChatOutput).message.content).toEqual([
      { type: "tool_use", id: "c1", name: "a", input: { x: 1 } },
      { type: "tool_use", id: "c2", name: "b", input: { y: 2 } },
    ]);
  });

  test("a stream without [DONE], without role, or with reasoning still completes", async () => {
    for (const quirk of [{ noDone: true }, { noRoleInFirstChunk: true }, { reply: { text: "answer", reasoning: "let me think" } }]) {
      const seen = collector();
      fake.next(quirk);
      const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url)], { signal: signal(), emit: seen.emit });
      expect((result.output as ChatOutput).text.length).toBeGreaterThan(0);
      if ("reply" in quirk) expect((result.output as ChatOutput).message.content[0]).toEqual({ type: "thinking", thinking: "let me think" });
    }
  });

  test("an error after the role chunk is replaced by the next route, invisibly", async () => {
    const seen = collector();
    fake.next({ errorAfterRole: { message: "upstream exploded" } });
    backup.next({ reply: { text: "from the backup" } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url), routeTo("openai", backup.url)], { signal: signal(), emit: seen.emit });
    expect(seen.text).toBe("from the backup");
    expect((result.output as ChatOutput).text).toBe("from the backup");
  });

  test("a malformed chunk before any content fails over; after content it ends the stream with an error", async () => {
    fake.next({ malformedChunk: true, reply: { text: "alpha" } });
    backup.next({ reply: { text: "beta" } });
    const seen = collector();
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url), routeTo("openai", backup.url)], { signal: signal(), emit: seen.emit });
    expect(seen.text).toBe("beta");
    expect((result.output as ChatOutput).text).toBe("beta");

    fake.next({ cutAfterChunks: 2, reply: { text: "one two three four five" } });
    const cut = collector();
    const error = await failure(new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url), routeTo("openai", backup.url)], { signal: signal(), emit: cut.emit }));
    expect(error).toBeInstanceOf(AppError);
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(cut.text).toBe("one two");
    expect(backup.requests.length).toBe(1); // no failover once content was sent
  });

  test("a stream that stalls is cut by the idle timeout", async () => {
    fake.next({ stallAfterChunks: 1, reply: { text: "one two three" } });
    const seen = collector();
    const route = routeTo("openai", fake.url, { timeouts: { totalMs: 60_000, firstTokenMs: 2_000, idleMs: 200 } });
    const started = Date.now();
    const error = await failure(new ProviderRouter().run("chat", hello, [route], { signal: signal(), emit: seen.emit }));
    expect(error.code).toBe("GENERATION_TIMEOUT");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(seen.text).toBe("one");
  });
});

describe("retries, failover and health", () => {
  test("429 with Retry-After in seconds, then as an HTTP date: waited out on the same route", async () => {
    const { waits, sleep } = recordingSleep();
    fake.next({ status: 429, headers: { "retry-after": "2" } }, { status: 429, headers: { "retry-after": new Date(Date.now() + 3_000).toUTCString() } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url, { retries: 2 })], { signal: signal(), sleep });
    expect((result.output as ChatOutput).text).toStartWith("This is a fake reply");
    expect(fake.requests.length).toBe(3);
    expect(waits[0]).toBeGreaterThanOrEqual(2_000);
    expect(waits[1]).toBeGreaterThanOrEqual(1_000); // an HTTP-date is honoured (to the second)
  });

  test("retry-after-ms is honoured; a long Retry-After moves on to the next route", async () => {
    const { waits, sleep } = recordingSleep();
    fake.next({ status: 503, headers: { "retry-after-ms": "150" } });
    await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url, { retries: 1 })], { signal: signal(), sleep });
    expect(waits[0]).toBeGreaterThanOrEqual(150);

    fake.requests.length = 0;
    fake.next({ status: 429, headers: { "retry-after": "120" } });
    const second = recordingSleep();
    const router = new ProviderRouter();
    const primary = routeTo("openai", fake.url, { retries: 3 });
    await router.run("chat", hello, [primary, routeTo("openai", backup.url)], { signal: signal(), sleep: second.sleep });
    expect(second.waits).toEqual([]);
    expect(backup.requests.length).toBe(1);
    // The route stays cooled for the next call, which goes straight to the backup.
    await router.run("chat", hello, [primary, routeTo("openai", backup.url)], { signal: signal(), sleep: second.sleep });
    expect(fake.requests.length).toBe(1);
    expect(backup.requests.length).toBe(2);
  });

  test("a bad request is the caller's: no retry, no failover, the route's health untouched", async () => {
    fake.next({ status: 400, errorBody: { error: { message: "messages[0].content is invalid", type: "invalid_request_error", param: null, code: null } } });
    const router = new ProviderRouter();
    const route = routeTo("openai", fake.url, { retries: 3 });
    const error = await failure(router.run("chat", hello, [route, routeTo("openai", backup.url)], { signal: signal() }));
    expect(error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(error.message).toContain("messages[0].content is invalid");
    expect(fake.requests.length).toBe(1);
    expect(backup.requests.length).toBe(0);
    expect(router.status().find((s) => s.route_id === route.id)).toMatchObject({ failures: 0, state: "closed" });

    fake.next({ status: 400, errorBody: { error: { message: "This model's maximum context length is 8192 tokens", type: "invalid_request_error" } } });
    expect((await failure(router.run("chat", hello, [route], { signal: signal() }))).code).toBe("INPUT_VALIDATION_ERROR");
    fake.next({ status: 400, errorBody: { error: { message: "Your request was rejected by our safety system", code: "content_policy_violation" } } });
    expect((await failure(router.run("chat", hello, [route], { signal: signal() }))).code).toBe("CONTENT_MODERATION_REJECTED");
  });

  test("a connection reset and a server that never answers fail over to the next route", async () => {
    fake.next({ reset: true });
    const reset = await new ProviderRouter().run("chat", hello, [routeTo("openai", fake.url), routeTo("openai", backup.url)], { signal: signal() });
    expect(reset.routeId).not.toBeUndefined();
    expect(backup.requests.length).toBe(1);

    fake.next({ hang: true });
    const hung = routeTo("openai", fake.url, { timeouts: { totalMs: 300, firstTokenMs: 300, idleMs: 300 } });
    const started = Date.now();
    const result = await new ProviderRouter().run("chat", hello, [hung, routeTo("openai", backup.url)], { signal: signal() });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((result.output as ChatOutput).text).toStartWith("This is a fake reply");
    expect(backup.requests.length).toBe(2);
  });

  test("503s open the breaker; open, the route is skipped without a call; one probe closes it", async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const router = new ProviderRouter();
    const route = routeTo("openai", fake.url, { config: { breaker: { consecutive_failures: 3, cooldown_ms: 10_000 } } });
    fake.always({ status: 503 });
    for (let i = 0; i < 3; i++) expect((await failure(router.run("chat", hello, [route], { signal: signal(), now }))).code).toBe("MODEL_OVERLOADED");
    expect(fake.requests.length).toBe(3);
    const open = await failure(router.run("chat", hello, [route], { signal: signal(), now }));
    expect(open.code).toBe("MODEL_UNAVAILABLE");
    expect(open.headers["Retry-After"]).toBe("10");
    expect(fake.requests.length).toBe(3); // skipped without a call

    fake.always(null);
    clock += 10_000;
    const [first, second] = await Promise.allSettled([
      router.run("chat", hello, [route], { signal: signal(), now }),
      router.run("chat", hello, [route], { signal: signal(), now }),
    ]);
    expect(first.status).toBe("fulfilled"); // the one half-open probe
    expect(second.status).toBe("rejected"); // no second call while it runs
    expect(fake.requests.length).toBe(4);
    expect(router.status()[0]!.state).toBe("closed");
    await router.run("chat", hello, [route], { signal: signal(), now });
    expect(fake.requests.length).toBe(5);
  });

  test("a refused key is rested and the next key of the pool is used; with every key refused the model is unavailable", async () => {
    const pool = await startFakeOpenAI({ apiKeys: ["good-key"] });
    try {
      const router = new ProviderRouter();
      const warnings: string[] = [];
      const route = routeTo("openai", pool.url, { keys: ["bad-key", "good-key"], providerId: "pool" });
      const warn = (message: string, fields: Record<string, unknown>) => void warnings.push(`${message} ${JSON.stringify(fields)}`);
      await router.run("chat", hello, [route], { signal: signal(), warn });
      expect(pool.requests.map((r) => r.headers.authorization)).toEqual(["Bearer bad-key", "Bearer good-key"]);
      await router.run("chat", hello, [route], { signal: signal(), warn });
      expect(pool.requests.at(-1)!.headers.authorization).toBe("Bearer good-key"); // the bad one is resting
      expect(pool.requests.length).toBe(3);
      expect(warnings.join("\n")).not.toContain("bad-key");
      expect(warnings[0]).toContain("refused");

      const allBad = routeTo("openai", pool.url, { keys: ["bad-1", "bad-2"], providerId: "all-bad" });
      const error = await failure(router.run("chat", hello, [allBad], { signal: signal(), warn }));
      expect(error.code).toBe("MODEL_UNAVAILABLE");
      expect(error.message).not.toContain("bad-1");
    } finally {
      await pool.stop();
    }
  });

  test("a route at its concurrency limit with a full queue sends the call to the next route", async () => {
    const router = new ProviderRouter();
    const narrow = routeTo("openai", fake.url, { maxConcurrency: 1, maxQueue: 0 });
    fake.next({ delayMs: 300 });
    const slow = router.run("chat", hello, [narrow, routeTo("openai", backup.url)], { signal: signal() });
    await Bun.sleep(50);
    await router.run("chat", hello, [narrow, routeTo("openai", backup.url)], { signal: signal() });
    expect(backup.requests.length).toBe(1);
    await slow;
    expect(fake.requests.length).toBe(1);

    // With a queue, the second call waits its turn on the same route.
    const queued = routeTo("openai", fake.url, { maxConcurrency: 1, maxQueue: 4 });
    fake.next({ delayMs: 200 });
    await Promise.all([router.run("chat", hello, [queued], { signal: signal() }), router.run("chat", hello, [queued], { signal: signal() })]);
    expect(fake.requests.length).toBe(3);
    const full = await failure(router.run("chat", hello, [routeTo("openai", fake.url, { maxConcurrency: 1, maxQueue: 0, id: narrow.id })], { signal: AbortSignal.timeout(5_000) }).then(async () => {
      fake.next({ delayMs: 300 });
      const busy = router.run("chat", hello, [narrow], { signal: signal() });
      await Bun.sleep(50);
      try {
        await router.run("chat", hello, [narrow], { signal: signal() });
      } finally {
        await busy;
      }
    }));
    expect(full.code).toBe("MODEL_OVERLOADED");
    expect(full.headers["Retry-After"]).toBe("1");
  });
});

describe("other tasks", () => {
  test("embeddings, whether the server answers floats or base64", async () => {
    const router = new ProviderRouter();
    const floats = await router.run("embedding", { input: ["a b", "c"] }, [routeTo("openai", fake.url)], { signal: signal() });
    const base64 = await router.run("embedding", { input: ["a b", "c"] }, [routeTo("openai", fake.url, { params: { encoding_format: "base64" } })], { signal: signal() });
    expect((floats.output.embeddings as number[][]).length).toBe(2);
    expect(floats.output.dimensions).toBe(8);
    expect(base64.output.embeddings).toEqual(floats.output.embeddings);
    expect(floats.usage.inputTokens).toBeGreaterThan(0);
  });

  test("images come back as artifacts, from b64_json or from a link", async () => {
    const router = new ProviderRouter();
    for (const params of [{}, { response_format: "url" }]) {
      const result = await router.run("text-to-image", { prompt: "a fox", num_images: 2, width: 256, height: 256 }, [routeTo("openai", fake.url, { params })], { signal: signal() });
      expect(result.artifacts!.length).toBe(2);
      expect(result.artifacts![0]!.contentType).toBe("image/png");
      expect(result.output).toEqual({ images: [{ $artifact: 0 }, { $artifact: 1 }] });
      expect(result.usage.images).toBe(2);
    }
    expect(fake.requests[0]!.body).toMatchObject({ prompt: "a fox", n: 2, size: "256x256", response_format: "b64_json" });
  });

  test("text generation runs over chat", async () => {
    fake.next({ reply: { text: "generated" } });
    const result = await new ProviderRouter().run("text-generation", { prompt: "write" }, [routeTo("openai", fake.url)], { signal: signal() });
    expect(result.output).toEqual({ text: "generated", finish_reason: "stop" });
    expect(fake.requests[0]!.body.messages).toEqual([{ role: "user", content: "write" }]);
  });
});
