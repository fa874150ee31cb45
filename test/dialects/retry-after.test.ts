/**
 * When every route of a model answered 429 with a wait longer than the gateway waits itself,
 * the caller is told that wait: the OpenAI, Anthropic and OpenRouter surfaces answer with the
 * upstream's `Retry-After` for the application to back off by, still with
 * `x-should-retry: false` (the gateway has spent its retries; the SDKs must not add theirs).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let upstream: FakeOpenAI;
let openai: OpenAI;

const models = ["slow-a", "slow-b", "slow-c", "plain-d"];

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [{ id: "oai-box", kind: "openai", base_url: upstream.url, api_key: "upstream-key" }],
    // One model per check: a route that was told to wait stays cooled down for that long.
    models: models.map((slug) => ({ slug, task: "chat", max_output_tokens: 256, pricing: { input_per_1m_tokens: "0.15", output_per_1m_tokens: "0.60" }, routes: [{ provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }] })),
  });
  expect(applied.status).toBe(200);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await upstream.stop();
});

const failed = (p: Promise<unknown>) => p.then(() => null, (e) => e);
const messages = [{ role: "user" as const, content: "hello" }];

test("OpenAI surface: the upstream's long Retry-After reaches the SDK's error, and the SDK still does not retry on its own", async () => {
  upstream.next({ status: 429, headers: { "retry-after": "120" } });
  const error = await failed(openai.chat.completions.create({ model: "slow-a", messages }));
  expect(error).toBeInstanceOf(OpenAI.APIError);
  expect(error.status).toBe(503);
  expect(error.headers.get("retry-after")).toBe("120");
  expect(error.headers.get("x-should-retry")).toBe("false");
});

test("Anthropic and OpenRouter surfaces pass the wait on too", async () => {
  upstream.next({ status: 429, headers: { "retry-after": "90" } });
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: server.apiKey, maxRetries: 0 });
  const error = await failed(anthropic.messages.create({ model: "slow-b", max_tokens: 64, messages }));
  expect(error).toBeInstanceOf(Anthropic.APIError);
  expect(error.headers.get("retry-after")).toBe("90");
  upstream.next({ status: 429, headers: { "retry-after": "75" } });
  const routed = await fetch(`${server.url}/api/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "slow-c", messages }),
  });
  expect(routed.status).toBe(503);
  expect(routed.headers.get("retry-after")).toBe("75");
});

test("a failure that names no wait has no Retry-After", async () => {
  upstream.next({ status: 500 });
  const error = await failed(openai.chat.completions.create({ model: "plain-d", messages }));
  expect(error.status).toBe(500);
  expect(error.headers.get("retry-after")).toBeNull();
  expect(error.headers.get("x-should-retry")).toBe("false");
});
