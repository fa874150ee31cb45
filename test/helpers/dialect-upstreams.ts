/**
 * A real server whose catalog has two chat models on fake upstreams of each wire format:
 * `claude-sonnet` on a fake Anthropic API and `gpt-mini` on a fake OpenAI-compatible one, beside
 * the built-in mock models. For the tests of the compatible surfaces, which drive both directions
 * of translation through the official SDKs.
 */
import { expect } from "bun:test";
import { startFakeAnthropic, type FakeAnthropic } from "./fake-anthropic";
import { startFakeOpenAI, type FakeOpenAI } from "./fake-openai";
import { startTestServer, type TestServer } from "./server";

export type DialectUpstreams = { server: TestServer; anthropic: FakeAnthropic; openai: FakeOpenAI; stop(): Promise<void> };

export async function startDialectUpstreams(): Promise<DialectUpstreams> {
  const anthropic = await startFakeAnthropic();
  const openai = await startFakeOpenAI();
  const server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [
      { id: "claude-box", kind: "anthropic", base_url: anthropic.url, api_key: "upstream-anthropic-key" },
      { id: "oai-box", kind: "openai", base_url: openai.url, api_key: "upstream-openai-key" },
    ],
    models: [
      { slug: "claude-sonnet", task: "chat", max_output_tokens: 1024, pricing: { input_per_1m_tokens: "3.00", output_per_1m_tokens: "15.00", cached_input_per_1m_tokens: "0.30" }, routes: [{ provider: "claude-box", upstream_model: "claude-sonnet-4-5", retries: 0 }] },
      { slug: "gpt-mini", task: "chat", max_output_tokens: 1024, pricing: { input_per_1m_tokens: "0.15", output_per_1m_tokens: "0.60" }, routes: [{ provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }] },
    ],
  });
  expect(applied.status).toBe(200);
  return {
    server,
    anthropic,
    openai,
    async stop() {
      await server.stop();
      await anthropic.stop();
      await openai.stop();
    },
  };
}

/** The organization's available balance as the API shows it, and USD strings as micro-USD. */
export const balanceOf = async (server: TestServer) => (await (await server.get("/v1/balance")).json()).available as string;
export const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);
