/**
 * Real upstreams behind the gateway: a catalog applied through the admin API routes models to
 * fake OpenAI-compatible servers on 127.0.0.1, with the key given by reference. Executions run
 * SYNC and STREAMING, fail over, and are charged exactly what the upstream reported; the secret
 * never appears in an answer, an export or a log line.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

const SECRET = "sk-upstream-0123456789abcdef";
const ENV_NAME = "MODELROUTE_TEST_UPSTREAM_KEY";
let server: TestServer;
let primary: FakeOpenAI;
let secondary: FakeOpenAI;
const logLines: string[] = [];

const admin = (method: string, path: string, body?: unknown) =>
  server.request(method, path, { key: null, body, headers: { authorization: `Bearer ${server.adminToken}` } });

beforeAll(async () => {
  process.env[ENV_NAME] = SECRET;
  primary = await startFakeOpenAI({ apiKeys: [SECRET] });
  secondary = await startFakeOpenAI({ apiKeys: [SECRET] });
  server = await startTestServer({ logLines });
  const applied = await admin("PUT", "/admin/v1/catalog", {
    providers: [
      { id: "local", kind: "openai", base_url: primary.url, api_key_env: ENV_NAME },
      { id: "spare", kind: "openai", base_url: secondary.url, api_key_env: ENV_NAME },
    ],
    models: [
      {
        slug: "llama-3.1-8b",
        task: "chat",
        pricing: { input_per_1m_tokens: "0.10", output_per_1m_tokens: "0.20", cached_input_per_1m_tokens: "0.05" },
        max_output_tokens: 4096,
        context_window: 131072,
        routes: [
          { provider: "local", upstream_model: "llama3.1:8b", first_token_ms: 2000, idle_ms: 1000, retries: 0, max_concurrency: 8, max_queue: 64 },
          { provider: "spare", upstream_model: "gpt-4o-mini", retries: 0 },
        ],
      },
      { slug: "embed-small", task: "embedding", pricing: { input_per_1m_tokens: "0.02" }, routes: [{ provider: "local", upstream_model: "nomic-embed" }] },
    ],
  });
  expect(applied.status).toBe(200);
});
afterAll(async () => {
  await server.stop();
  await primary.stop();
  await secondary.stop();
  delete process.env[ENV_NAME];
});

const chat = { model: "llama-3.1-8b", input: { messages: [{ role: "user", content: "say something nice" }] } };

/** micro-USD, rounded up once, as the ledger does. */
const cost = (input: number, output: number, cached = 0) => Math.ceil(((input - cached) * 100_000 + cached * 50_000 + output * 200_000) / 1_000_000);
const usd = (micros: number) => (micros / 1_000_000).toFixed(6).replace(/0{1,3}$/, "");

async function sseEvents(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("data:"))
    .map((block) => ({
      event: /^event: (.*)$/m.exec(block)?.[1],
      data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!),
    }));
}

describe("a catalog that routes to OpenAI-compatible servers", () => {
  test("the model takes the chat task's canonical input without an input_schema of its own", async () => {
    const model = await (await server.get("/v1/models/llama-3.1-8b")).json();
    expect(model.input_schema.required).toEqual(["messages"]);
    expect(model.pricing).toMatchObject({ input_per_1m_tokens: "0.100", cached_input_per_1m_tokens: "0.050" });
    const bad = await server.post("/v1/executions", { model: "llama-3.1-8b", input: { messages: [{ role: "robot", content: "x" }] } });
    expect(bad.status).toBe(400);
  });

  test("SYNC: the upstream's answer and usage, charged exactly", async () => {
    primary.next({ reply: { text: "You are doing great.", usage: { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 1000 } } });
    const res = await server.post("/v1/executions", { ...chat, mode: "SYNC" });
    const execution = await res.json();
    expect(res.status).toBe(200);
    expect(execution.status).toBe("COMPLETED");
    expect(execution.output).toMatchObject({ text: "You are doing great.", finish_reason: "stop", message: { role: "assistant", content: [{ type: "text", text: "You are doing great." }] } });
    expect(execution.usage).toEqual({ input_tokens: 1200, output_tokens: 300, cached_input_tokens: 1000 });
    expect(execution.cost).toBe(usd(cost(1200, 300, 1000)));
    expect(primary.requests.at(-1)!.body.model).toBe("llama3.1:8b");
    expect(primary.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  test("STREAMING: deltas add up to the text, and the final usage is the upstream's", async () => {
    primary.next({ reply: { text: "one two three four five", usage: { prompt_tokens: 4, completion_tokens: 5 } } });
    const res = await server.post("/v1/executions", { ...chat, mode: "STREAMING" });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const events = await sseEvents(res);
    const text = events.filter((e) => e.event === "output.delta").map((e) => e.data.text).join("");
    expect(text).toBe("one two three four five");
    const final = events.find((e) => e.event === "execution")!.data;
    expect(final.status).toBe("COMPLETED");
    expect(final.usage).toEqual({ input_tokens: 4, output_tokens: 5 });
    expect(final.cost).toBe(usd(cost(4, 5)));
    expect(primary.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
  });

  test("a streamed call whose server reports no usage is charged an estimate, marked as such", async () => {
    primary.next({ reply: { text: "no usage here at all", usage: null } });
    const res = await server.post("/v1/executions", { ...chat, mode: "STREAMING" });
    const final = (await sseEvents(res)).find((e) => e.event === "execution")!.data;
    expect(final.usage.estimated).toBe(true);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(Number(final.cost)).toBeGreaterThan(0);
  });

  test("a failing first route is replaced by the next one; a bad request is not", async () => {
    const before = secondary.requests.length;
    primary.next({ status: 500 });
    const failedOver = await (await server.post("/v1/executions", { ...chat, mode: "SYNC" })).json();
    expect(failedOver.status).toBe("COMPLETED");
    expect(secondary.requests.length).toBe(before + 1);
    expect(secondary.requests.at(-1)!.body.model).toBe("gpt-4o-mini");

    primary.next({ status: 400, errorBody: { error: { message: "unsupported parameter: foo", type: "invalid_request_error" } } });
    const refused = await (await server.post("/v1/executions", { ...chat, mode: "SYNC" })).json();
    expect(refused.status).toBe("FAILED");
    expect(refused.error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(refused.cost).toBe("0.000");
    expect(secondary.requests.length).toBe(before + 1);
  });

  test("embeddings through the same provider", async () => {
    const res = await server.post("/v1/executions", { model: "embed-small", mode: "SYNC", input: { input: ["a b c", "d"] } });
    const execution = await res.json();
    expect(execution.status).toBe("COMPLETED");
    expect(execution.output.embeddings).toHaveLength(2);
    expect(execution.usage.input_tokens).toBe(4);
  });

  test("cancelling a stream aborts the upstream call and charges what was produced until then", async () => {
    primary.next({ chunkDelayMs: 100, reply: { text: "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12 w13 w14 w15 w16 w17 w18 w19 w20", usage: { prompt_tokens: 5, completion_tokens: 20 } } });
    const res = await server.post("/v1/executions", { ...chat, mode: "STREAMING" });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("output.delta")) seen += new TextDecoder().decode((await reader.read()).value);
    const id = /"id":"(exec_[^"]+)"/.exec(seen)![1]!;
    await Bun.sleep(250);
    const cancelled = await (await server.post(`/v1/executions/${id}/cancel`, {})).json();
    expect(cancelled.status).toBe("CANCELLED");
    expect(cancelled.usage.estimated).toBe(true);
    expect(cancelled.usage.output_tokens).toBeGreaterThan(0);
    expect(cancelled.usage.output_tokens).toBeLessThan(20);
    expect(Number(cancelled.cost)).toBeGreaterThan(0);
    await reader.cancel();
    expect((await (await server.get("/v1/balance")).json()).held).toBe("0.000");
  });

  test("a stream cut after content ends FAILED with what was produced, and charges it", async () => {
    primary.next({ cutAfterChunks: 3, reply: { text: "alpha beta gamma delta epsilon zeta" } });
    const res = await server.post("/v1/executions", { ...chat, mode: "STREAMING" });
    const events = await sseEvents(res);
    const streamed = events.filter((e) => e.event === "output.delta").map((e) => e.data.text).join("");
    expect(streamed).toBe("alpha beta gamma");
    const final = events.find((e) => e.event === "execution")!.data;
    expect(final.status).toBe("FAILED");
    expect(final.output).toEqual({ text: "alpha beta gamma", partial: true });
    expect(final.usage.estimated).toBe(true);
    expect(Number(final.cost)).toBeGreaterThan(0);
  });

  test("route health in /admin/v1/routes and /metrics", async () => {
    const routes = (await (await admin("GET", "/admin/v1/routes")).json()).data.filter((r: { model: string }) => r.model === "llama-3.1-8b");
    expect(routes.map((r: { provider: string; position: number }) => [r.position, r.provider])).toEqual([[0, "local"], [1, "spare"]]);
    expect(routes[0].limits).toEqual({ retries: 0, max_concurrency: 8, max_queue: 64, total_ms: 120000, first_token_ms: 2000, idle_ms: 1000 });
    expect(routes[0].health.calls).toBeGreaterThan(3);
    expect(routes[0].health.failures).toBe(2); // the 500 and the cut stream; the 400 was the caller's
    expect(routes[0].health.breaker).toBe("closed");
    const metrics = await (await server.get("/metrics", null)).text();
    expect(metrics).toContain(`modelroute_route_calls_total{route="${routes[0].id}",provider="local"} ${routes[0].health.calls}`);
    expect(metrics).toContain(`modelroute_route_breaker_state{route="${routes[0].id}",provider="local"} 0`);
  });

  test("the secret is in no export, no answer and no log line; the reference is exported", async () => {
    const exported = await (await admin("GET", "/admin/v1/catalog")).text();
    expect(exported).toContain(ENV_NAME);
    expect(exported).not.toContain(SECRET);
    const withSecrets = await (await admin("GET", "/admin/v1/catalog?include_secrets=true")).text();
    expect(withSecrets).not.toContain(SECRET); // a reference is not a stored secret
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join("\n")).not.toContain(SECRET);
  });

  test("an inline api_key is sealed at rest under the data directory's key file, and exported only when asked", async () => {
    const inline = "sk-inline-key-7777777777";
    const keyed = await startFakeOpenAI({ apiKeys: [inline] });
    try {
      const applied = await admin("PUT", "/admin/v1/catalog", {
        providers: [{ id: "inline", kind: "openai", base_url: keyed.url, api_key: inline }],
        models: [{ slug: "inline-chat", task: "chat", pricing: { input_per_1m_tokens: "0.10" }, routes: [{ provider: "inline", upstream_model: "m", retries: 0 }] }],
      });
      expect(applied.status).toBe(200);
      const execution = await (await server.post("/v1/executions", { model: "inline-chat", mode: "SYNC", input: { messages: [{ role: "user", content: "hi" }] } })).json();
      expect(execution.status).toBe("COMPLETED");
      expect(keyed.requests.at(-1)!.headers.authorization).toBe(`Bearer ${inline}`);

      const stored = server.running.ctx.client.query("SELECT api_key FROM providers WHERE id = 'inline'").get() as { api_key: string };
      expect(stored.api_key).toStartWith("sealed:v1:");
      expect(stored.api_key).not.toContain(inline);
      expect((statSync(join(server.dataDir, "secret.key")).mode & 0o777).toString(8)).toBe("600");
      expect(await (await admin("GET", "/admin/v1/catalog")).text()).not.toContain(inline);
      const withSecrets = await (await admin("GET", "/admin/v1/catalog?include_secrets=true")).json();
      expect(withSecrets.providers.find((p: { id: string }) => p.id === "inline").api_key).toBe(inline);
      expect(logLines.join("\n")).not.toContain(inline);
    } finally {
      await keyed.stop();
    }
  });

  test("a key reference that resolves to nothing fails the execution without a call, and tells the operator", async () => {
    delete process.env[ENV_NAME];
    try {
      const calls = primary.requests.length + secondary.requests.length;
      const execution = await (await server.post("/v1/executions", { ...chat, mode: "SYNC" })).json();
      expect(execution.status).toBe("FAILED");
      expect(execution.error.code).toBe("MODEL_UNAVAILABLE");
      expect(execution.error.message).not.toContain(ENV_NAME);
      expect(primary.requests.length + secondary.requests.length).toBe(calls);
      expect(logLines.some((l) => l.includes("provider key unavailable") && l.includes(ENV_NAME))).toBe(true);
    } finally {
      process.env[ENV_NAME] = SECRET;
    }
  });
});
