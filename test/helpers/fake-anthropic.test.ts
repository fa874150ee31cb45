/** The fake Anthropic server is faithful: the official SDK parses its answers and streams. */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startFakeAnthropic, type FakeAnthropic } from "./fake-anthropic";

let fake: FakeAnthropic;
let client: Anthropic;
beforeAll(async () => {
  fake = await startFakeAnthropic({ apiKeys: ["k"] });
  client = new Anthropic({ baseURL: fake.url, apiKey: "k", maxRetries: 0 });
});
afterAll(() => fake.stop());

const ask = { model: "claude-fake", max_tokens: 100, system: "be kind", messages: [{ role: "user" as const, content: "what is the weather" }] };

test("a message with tool use, as the SDK reads it", async () => {
  fake.next({ reply: { text: "Let me check.", toolUses: [{ id: "toolu_1", name: "weather", input: { city: "Paris" } }] } });
  const message = await client.messages.create({ ...ask, tools: [{ name: "weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }] });
  expect(message.stop_reason).toBe("tool_use");
  expect(message.content).toMatchObject([{ type: "text", text: "Let me check." }, { type: "tool_use", id: "toolu_1", name: "weather", input: { city: "Paris" } }]);
  expect(message.usage.input_tokens).toBe(6);
});

test("a stream the SDK's accumulator rebuilds: thinking with its signature, text, tool input, cache usage", async () => {
  fake.next({ reply: { thinking: "hmm let me see", text: "Sunny today.", toolUses: [{ id: "toolu_2", name: "weather", input: { city: "Paris", days: 3 } }], usage: { input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100 } } });
  const stream = client.messages.stream(ask);
  let text = "";
  stream.on("text", (t) => (text += t));
  const message = await stream.finalMessage();
  expect(text).toBe("Sunny today.");
  expect(message.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"]);
  expect((message.content[0] as { signature: string }).signature).toStartWith("sig_");
  expect((message.content[2] as { input: unknown }).input).toEqual({ city: "Paris", days: 3 });
  expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 9, cache_read_input_tokens: 100 });
});

test("errors as the SDK types them: 429 with retry-after, 529, a mid-stream error event, a wrong key", async () => {
  fake.next({ status: 429, headers: { "retry-after": "3" } });
  const limited = await client.messages.create(ask).catch((e) => e);
  expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
  expect(limited.headers.get("retry-after")).toBe("3");
  fake.next({ status: 529 });
  expect((await client.messages.create(ask).catch((e) => e)).status).toBe(529);
  fake.next({ errorAfterDeltas: { after: 1, type: "overloaded_error", message: "Overloaded" } });
  expect(await client.messages.stream(ask).finalMessage().catch((e) => e)).toBeInstanceOf(Anthropic.APIError);
  const wrong = new Anthropic({ baseURL: fake.url, apiKey: "nope", maxRetries: 0 });
  expect(await wrong.messages.create(ask).catch((e) => e)).toBeInstanceOf(Anthropic.AuthenticationError);
});
