/**
 * The `anthropic` adapter through the router, against a fake Messages API on 127.0.0.1: the
 * request in Anthropic's shape (system on top, tool results as blocks, max_tokens defaulted),
 * streams with every event type, usage with cache reads and writes counted once each, and
 * errors before and after the first content.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import type { ChatOutput } from "../../src/canonical/chat";
import type { AppError } from "../../src/errors";
import { ProviderRouter } from "../../src/providers/router";
import { costMicros } from "../../src/modules/ledger/pricing";
import { startFakeAnthropic, type FakeAnthropic } from "../helpers/fake-anthropic";
import { collector, routeTo } from "./routes";

let fake: FakeAnthropic;
let backup: FakeAnthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic();
  backup = await startFakeAnthropic();
});
afterAll(async () => {
  await fake.stop();
  await backup.stop();
});
beforeEach(() => {
  fake.requests.length = 0;
  backup.requests.length = 0;
  fake.always(null);
});

const signal = () => AbortSignal.timeout(10_000);
const hello = { messages: [{ role: "system", content: "be kind" }, { role: "user", content: "hello claude" }] };

async function failure(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (e) {
    return e as AppError;
  }
  throw new Error("expected a failure");
}

describe("messages, not streamed", () => {
  test("the request in Anthropic's shape; max_tokens from the model when the caller gives none", async () => {
    const input = {
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "look" }, { type: "image", url: "data:image/png;base64,iVBORw0KGgo=" }] },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "look", input: { at: "cat" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "a cat" }] },
        { role: "user", content: "and?" },
      ],
      tools: [{ name: "look", parameters: { type: "object", properties: { at: { type: "string" } } } }],
      tool_choice: "required",
      stop: "END",
    };
    fake.next({ reply: { text: "A cat." } });
    const route = routeTo("anthropic", fake.url, { maxOutputTokens: 2048, keys: ["anthropic-key"] });
    const result = await new ProviderRouter().run("chat", input, [route], { signal: signal() });
    expect((result.output as ChatOutput).text).toBe("A cat.");
    const sent = fake.requests[0]!;
    expect(sent.path).toBe("/v1/messages");
    expect(sent.headers["x-api-key"]).toBe("anthropic-key");
    expect(sent.headers["anthropic-version"]).toBe("2023-06-01");
    expect(sent.body).toMatchObject({ model: "fake-model", max_tokens: 2048, system: "be brief", stop_sequences: ["END"], tool_choice: { type: "any" } });
    expect(sent.body.tools).toEqual([{ name: "look", input_schema: { type: "object", properties: { at: { type: "string" } } } }]);
    expect(sent.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "look" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "look", input: { at: "cat" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "a cat" }, { type: "text", text: "and?" }] },
    ]);
  });

  test("tool use and stop reasons map onto the canonical ones", async () => {
    fake.next({ reply: { toolUses: [{ id: "toolu_9", name: "weather", input: { city: "Paris" } }], stopReason: "tool_use" } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url)], { signal: signal() });
    expect(result.output).toMatchObject({ finish_reason: "tool_calls", message: { content: [{ type: "tool_use", id: "toolu_9", name: "weather", input: { city: "Paris" } }] } });
  });

  test("cache reads and writes are part of the prompt, each priced once at its own rate", async () => {
    fake.next({ reply: { text: "cached", usage: { input_tokens: 100, output_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 300 } } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url)], { signal: signal() });
    expect(result.usage).toEqual({ inputTokens: 2400, outputTokens: 50, cachedInputTokens: 2000, cacheWriteTokens: 300 });
    // $3 / $15 per 1M, cache reads $0.30, writes $3.75: 100×3 + 2000×0.30 + 300×3.75 + 50×15 = 2775 millionths of a dollar.
    const pricing = { inputPer1mTokensMicros: 3_000_000, outputPer1mTokensMicros: 15_000_000, cachedInputPer1mTokensMicros: 300_000, cacheWritePer1mTokensMicros: 3_750_000 };
    expect(costMicros(pricing, result.usage)).toBe(Math.ceil((100 * 3_000_000 + 2000 * 300_000 + 300 * 3_750_000 + 50 * 15_000_000) / 1_000_000));
  });

  test("529 overloaded fails over; 400 does not", async () => {
    fake.next({ status: 529 });
    await new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url), routeTo("anthropic", backup.url)], { signal: signal() });
    expect(backup.requests.length).toBe(1);
    fake.next({ status: 400, errorBody: { type: "error", error: { type: "invalid_request_error", message: "prompt is too long: 210000 tokens > 200000 maximum" } } });
    const error = await failure(new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url), routeTo("anthropic", backup.url)], { signal: signal() }));
    expect(error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(backup.requests.length).toBe(1);
  });
});

describe("messages, streamed", () => {
  test("text, thinking with its signature and tool input JSON arrive as canonical events; usage from message_start and message_delta", async () => {
    const seen = collector();
    fake.next({
      reply: {
        thinking: "let me see",
        text: "It is sunny.",
        toolUses: [{ id: "toolu_2", name: "weather", input: { city: "Paris", days: 2 } }],
        stopReason: "tool_use",
        usage: { input_tokens: 12, output_tokens: 40, cache_read_input_tokens: 1000 },
      },
    });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url)], { signal: signal(), emit: seen.emit });
    expect(fake.requests[0]!.body.stream).toBe(true);
    expect(seen.text).toBe("It is sunny.");
    expect(seen.events.some((e) => e.type === "thinking_delta")).toBe(true);
    const args = seen.events.flatMap((e) => (e.type === "tool_call_delta" ? [e.arguments] : [])).join("");
    expect(JSON.parse(args)).toEqual({ city: "Paris", days: 2 });
    const content = (result.output as ChatOutput).message.content;
    expect(content[0]).toMatchObject({ type: "thinking", thinking: "let me see" });
    expect((content[0] as { signature?: string }).signature).toBeTruthy();
    expect(content[1]).toEqual({ type: "text", text: "It is sunny." });
    expect(content[2]).toEqual({ type: "tool_use", id: "toolu_2", name: "weather", input: { city: "Paris", days: 2 } });
    expect(result.output.finish_reason).toBe("tool_calls");
    expect(result.usage).toEqual({ inputTokens: 1012, outputTokens: 40, cachedInputTokens: 1000 });
  });

  test("an error event after message_start is replaced by the next route; after content it ends the stream", async () => {
    const seen = collector();
    fake.next({ errorAfterStart: { type: "overloaded_error", message: "Overloaded" } });
    backup.next({ reply: { text: "from the backup" } });
    const result = await new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url), routeTo("anthropic", backup.url)], { signal: signal(), emit: seen.emit });
    expect(seen.text).toBe("from the backup");
    expect((result.output as ChatOutput).text).toBe("from the backup");

    const cut = collector();
    fake.next({ errorAfterDeltas: { after: 2, type: "api_error", message: "Internal" }, reply: { text: "one two three four" } });
    const error = await failure(new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url), routeTo("anthropic", backup.url)], { signal: signal(), emit: cut.emit }));
    expect(error.code).toBe("GENERATION_FAILED");
    expect(cut.text.length).toBeGreaterThan(0);
    expect(backup.requests.length).toBe(1);
  });

  test("a stream cut before message_stop is a failure, never a clean end", async () => {
    fake.next({ cutAfterDeltas: 2, reply: { text: "one two three four" } });
    const error = await failure(new ProviderRouter().run("chat", hello, [routeTo("anthropic", fake.url)], { signal: signal(), emit: collector().emit }));
    expect(error.code).toBe("SERVICE_UNAVAILABLE");
  });
});
