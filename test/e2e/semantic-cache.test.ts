/**
 * The semantic response cache (docs/cache.md "Semantic cache"), opt-in per model: prompts are
 * embedded by the catalog's embedding model (the built-in bag-of-words `mock-embed`, so word
 * overlap is similarity) and a stored answer whose prompt is at least the threshold similar is
 * served, through the official `openai` client against a fake OpenAI upstream. Below the
 * threshold, with other earlier messages or parameters, or for another organization, it is not.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import OpenAI from "openai";
import { listScopes } from "../../src/modules/vectors/service";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let upstream: FakeOpenAI;
let client: OpenAI;

beforeAll(async () => {
  upstream = await startFakeOpenAI();
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [{ id: "box", kind: "openai", base_url: upstream.url }],
    models: [
      {
        slug: "gpt-semantic",
        task: "chat",
        max_output_tokens: 100,
        cache: { semantic: { embedding_model: "mock-embed", threshold: 0.85 } },
        pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" },
        routes: [{ provider: "box", upstream_model: "gpt-4o-mini", retries: 0 }],
      },
    ],
  });
  expect(applied.status).toBe(200);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await upstream.stop();
});

const chatCalls = () => upstream.requests.filter((r) => r.path === "/v1/chat/completions").length;

async function ask(text: string, opts: { system?: string; sdk?: OpenAI } = {}) {
  const messages = [...(opts.system ? [{ role: "system" as const, content: opts.system }] : []), { role: "user" as const, content: text }];
  const { data, response } = await (opts.sdk ?? client).chat.completions.create({ model: "gpt-semantic", messages, temperature: 0 }).withResponse();
  return { completion: data, cache: response.headers.get("x-modelroute-cache") };
}

test("a prompt above the threshold is served the stored answer; below it, the model answers", async () => {
  upstream.next({ reply: { text: "Paris." } });
  const first = await ask("what is the capital city of france today");
  expect(first.cache).toBe("MISS");
  const calls = chatCalls();

  // Seven of eight words shared: cosine 7/8 = 0.875, above 0.85.
  const near = await ask("what is the capital city of france now");
  expect(near.cache).toBe("HIT");
  expect(near.completion.choices[0]!.message.content).toBe("Paris.");
  expect(chatCalls()).toBe(calls);
  const hit = await (await server.get(`/v1/executions/${near.completion.id}`)).json();
  expect(hit).toMatchObject({ cached: true, cache: { status: "HIT", match: "semantic", source_execution_id: first.completion.id } });

  // Half the words shared: well below 0.85.
  upstream.next({ reply: { text: "Berlin." } });
  const far = await ask("what is the capital city of germany and its river");
  expect(far.cache).toBe("MISS");
  expect(far.completion.choices[0]!.message.content).toBe("Berlin.");
  expect(chatCalls()).toBe(calls + 1);

  // Each prompt's embedding is an execution of the organization on the embedding model.
  const embeddings = (await (await server.get("/v1/executions?model=mock-embed&limit=10")).json()).data as { metadata: Record<string, string> }[];
  expect(embeddings.length).toBe(3);
  expect(embeddings.every((e) => e.metadata.purpose === "semantic-cache")).toBe(true);
});

test("the rest of the request must match exactly; another organization never hits", async () => {
  upstream.next({ reply: { text: "Bonjour." } });
  const other = await ask("what is the capital city of france now", { system: "Answer in French." });
  expect(other.cache).toBe("MISS");
  expect(other.completion.choices[0]!.message.content).toBe("Bonjour.");

  const orgB = server.newOrgKey();
  const sdk = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: orgB.key, maxRetries: 0 });
  upstream.next({ reply: { text: "Paris, for org B." } });
  const b = await ask("what is the capital city of france today", { sdk });
  expect(b.cache).toBe("MISS");
  expect(b.completion.choices[0]!.message.content).toBe("Paris, for org B.");
  // The cache's vector scopes are not the organization's knowledge bases.
  const stored = server.running.ctx.client.query("SELECT scope FROM vector_scopes WHERE org_id = ?").all(server.orgId) as { scope: string }[];
  expect(stored.map((s) => s.scope)).toEqual(["cache:gpt-semantic"]);
  expect(listScopes(server.running.ctx, server.orgId).data).toEqual([]);

});
