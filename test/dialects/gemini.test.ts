/**
 * The official `@google/genai` client, unchanged but for its base URL and key, against a real
 * server whose models run on a fake OpenAI-compatible upstream, a fake Gemini upstream and the
 * built-in mock: generateContent and its stream, function calls round trip, images, countTokens,
 * embeddings, models, and errors as the client's ApiError with the right status. Then the
 * `gemini` provider kind behind the `openai` client (chat, stream, tools) and its 429 / 503 / 400
 * handled as the router handles every upstream. Every call is an execution that moves the balance.
 */
import { ApiError, FunctionCallingConfigMode, GoogleGenAI, type Content } from "@google/genai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { balanceOf, micros } from "../helpers/dialect-upstreams";
import { startFakeGemini, type FakeGemini } from "../helpers/fake-gemini";
import { startFakeOpenAI, TINY_PNG, type FakeOpenAI } from "../helpers/fake-openai";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let openaiUpstream: FakeOpenAI;
let geminiUpstream: FakeGemini;
let ai: GoogleGenAI;
let openai: OpenAI;

const GEMINI_KEY = "upstream-gemini-key";
const chatPrices = { input_per_1m_tokens: "1.00", output_per_1m_tokens: "4.00" };

beforeAll(async () => {
  openaiUpstream = await startFakeOpenAI();
  geminiUpstream = await startFakeGemini({ apiKeys: [GEMINI_KEY] });
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [
      { id: "oai-box", kind: "openai", base_url: openaiUpstream.url, api_key: "upstream-openai-key" },
      { id: "gem-box", kind: "gemini", base_url: geminiUpstream.url, api_key: GEMINI_KEY },
    ],
    models: [
      { slug: "gpt-mini", task: "chat", max_output_tokens: 1024, pricing: chatPrices, routes: [{ provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }] },
      { slug: "gemini-flash", task: "chat", max_output_tokens: 1024, pricing: chatPrices, routes: [{ provider: "gem-box", upstream_model: "gemini-2.0-flash", retries: 0 }] },
      { slug: "gemini-retry", task: "chat", max_output_tokens: 1024, pricing: chatPrices, routes: [{ provider: "gem-box", upstream_model: "gemini-2.0-flash", retries: 1 }] },
      { slug: "gemini-failover", task: "chat", max_output_tokens: 1024, pricing: chatPrices, routes: [{ provider: "gem-box", upstream_model: "gemini-2.0-flash", retries: 0 }, { provider: "oai-box", upstream_model: "gpt-4o-mini", retries: 0 }] },
      { slug: "gemini-limited", task: "chat", max_output_tokens: 1024, pricing: chatPrices, routes: [{ provider: "gem-box", upstream_model: "gemini-2.0-flash", retries: 0 }] },
      { slug: "gemini-embed", task: "embedding", pricing: { input_per_1m_tokens: "0.10" }, routes: [{ provider: "gem-box", upstream_model: "text-embedding-004", retries: 0 }] },
    ],
  });
  expect(applied.status).toBe(200);
  ai = new GoogleGenAI({ apiKey: server.apiKey, httpOptions: { baseUrl: server.url } });
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await openaiUpstream.stop();
  await geminiUpstream.stop();
});

const balance = () => balanceOf(server);
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const error = (p: Promise<unknown>) => p.then(() => null, (e) => e as ApiError);
const weather = { name: "weather", description: "The weather in a city", parametersJsonSchema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };
const googleError = (e: ApiError) => JSON.parse(e.message).error;

describe("the @google/genai client", () => {
  test("generateContent on an OpenAI-compatible upstream: config translated, responseId an execution that moved the balance", async () => {
    const before = await balance();
    openaiUpstream.next({ reply: { text: "Bonjour !", usage: { prompt_tokens: 12, completion_tokens: 3 } } });
    const response = await ai.models.generateContent({
      model: "gpt-mini",
      contents: "Say hello in French",
      config: { systemInstruction: "Be brief.", temperature: 0.3, topP: 0.9, maxOutputTokens: 40, stopSequences: ["END"], seed: 7, candidateCount: 1 },
    });
    expect(response.text).toBe("Bonjour !");
    expect(response.responseId).toStartWith("exec_");
    expect(response.modelVersion).toBe("gpt-mini");
    expect(response.candidates![0]!.finishReason).toBe("STOP" as never);
    expect(response.usageMetadata).toMatchObject({ promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 });
    const sent = openaiUpstream.requests.at(-1)!.body;
    expect(sent.messages).toEqual([{ role: "system", content: "Be brief." }, { role: "user", content: "Say hello in French" }]);
    expect(sent).toMatchObject({ model: "gpt-4o-mini", temperature: 0.3, top_p: 0.9, max_tokens: 40, stop: ["END"], seed: 7, n: 1 });
    const exec = await execution(response.responseId!);
    expect(exec).toMatchObject({ status: "COMPLETED", metadata: { dialect: "gemini" }, usage: { input_tokens: 12, output_tokens: 3 } });
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
    expect(micros(exec.cost)).toBe(24); // 12 × $1 + 3 × $4 per million tokens
  });

  test("generateContentStream: the chunks make the answer, one responseId, usage on the last chunk", async () => {
    const before = await balance();
    openaiUpstream.next({ reply: { text: "one two three four", usage: { prompt_tokens: 5, completion_tokens: 4 } } });
    const stream = await ai.models.generateContentStream({ model: "gpt-mini", contents: "count to four" });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((c) => c.text ?? "").join("")).toBe("one two three four");
    expect(new Set(chunks.map((c) => c.responseId)).size).toBe(1);
    const last = chunks.at(-1)!;
    expect(last.candidates![0]!.finishReason).toBe("STOP" as never);
    expect(last.usageMetadata).toMatchObject({ promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9 });
    const exec = await execution(chunks[0]!.responseId!);
    expect(exec.status).toBe("COMPLETED");
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
    expect(openaiUpstream.requests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test("function calls round trip, not streamed: ANY with one allowed name forces that function; the response reaches the upstream as a tool message", async () => {
    openaiUpstream.next({ reply: { toolCalls: [{ id: "call_paris", name: "weather", arguments: '{"city":"Paris"}' }] } });
    const tools = [{ functionDeclarations: [weather, { name: "news", description: "Headlines" }] }];
    const first = await ai.models.generateContent({
      model: "gpt-mini",
      contents: "Weather in Paris?",
      config: { tools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: ["weather"] } } },
    });
    expect(first.functionCalls).toEqual([{ id: "call_paris", name: "weather", args: { city: "Paris" } }]);
    expect(first.candidates![0]!.finishReason).toBe("STOP" as never);
    const sent = openaiUpstream.requests.at(-1)!.body;
    expect(sent.tools).toEqual([{ type: "function", function: { name: "weather", description: "The weather in a city", parameters: weather.parametersJsonSchema } }]);
    expect(sent.tool_choice).toEqual({ type: "function", function: { name: "weather" } });

    openaiUpstream.next({ reply: { text: "Sunny, 24°C." } });
    const history: Content[] = [
      { role: "user", parts: [{ text: "Weather in Paris?" }] },
      first.candidates![0]!.content!,
      { role: "user", parts: [{ functionResponse: { id: "call_paris", name: "weather", response: { temperature: 24, sky: "sunny" } } }] },
    ];
    const second = await ai.models.generateContent({ model: "gpt-mini", contents: history, config: { tools } });
    expect(second.text).toBe("Sunny, 24°C.");
    const turns = openaiUpstream.requests.at(-1)!.body.messages;
    expect(turns[1]).toEqual({ role: "assistant", content: null, tool_calls: [{ id: "call_paris", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } }] });
    expect(turns[2]).toEqual({ role: "tool", tool_call_id: "call_paris", content: '{"temperature":24,"sky":"sunny"}' });
  });

  test("function calls streamed: the upstream's argument fragments arrive as one whole functionCall; calls without ids pair with responses by name", async () => {
    openaiUpstream.next({ reply: { text: "Checking.", toolCalls: [{ id: "call_oslo", name: "weather", arguments: '{"city":"Oslo","unit":"celsius"}' }] } });
    const stream = await ai.models.generateContentStream({ model: "gpt-mini", contents: "Oslo?", config: { tools: [{ functionDeclarations: [weather] }] } });
    const calls = [];
    let text = "";
    for await (const chunk of stream) {
      text += chunk.text ?? "";
      calls.push(...(chunk.functionCalls ?? []));
    }
    expect(text).toBe("Checking.");
    expect(calls).toEqual([{ id: "call_oslo", name: "weather", args: { city: "Oslo", unit: "celsius" } }]);

    // A history written by hand, without ids: the response is matched to the call of the same name.
    openaiUpstream.next({ reply: { text: "Cold." } });
    await ai.models.generateContent({
      model: "gpt-mini",
      contents: [
        { role: "user", parts: [{ text: "Oslo?" }] },
        { role: "model", parts: [{ functionCall: { name: "weather", args: { city: "Oslo" } } }] },
        { role: "user", parts: [{ functionResponse: { name: "weather", response: { result: "-3°C" } } }] },
      ],
    });
    const turns = openaiUpstream.requests.at(-1)!.body.messages;
    expect(turns[2]).toEqual({ role: "tool", tool_call_id: turns[1].tool_calls[0].id, content: '{"result":"-3°C"}' });
  });

  test("an inline image reaches the upstream as a data URI", async () => {
    const data = TINY_PNG.toString("base64");
    await ai.models.generateContent({ model: "gpt-mini", contents: [{ role: "user", parts: [{ text: "What is this?" }, { inlineData: { mimeType: "image/png", data } }] }] });
    expect(openaiUpstream.requests.at(-1)!.body.messages[0].content).toEqual([
      { type: "text", text: "What is this?" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${data}` } },
    ]);
  });

  test("structured output: responseMimeType with responseJsonSchema is the upstream's json_schema response format", async () => {
    const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
    openaiUpstream.next({ reply: { text: '{"city":"Lima"}' } });
    const response = await ai.models.generateContent({ model: "gpt-mini", contents: "Where?", config: { responseMimeType: "application/json", responseJsonSchema: schema } });
    expect(JSON.parse(response.text!)).toEqual({ city: "Lima" });
    expect(openaiUpstream.requests.at(-1)!.body.response_format).toEqual({ type: "json_schema", json_schema: { name: "response", schema } });
  });

  test("countTokens estimates without running or charging anything", async () => {
    const before = await balance();
    const calls = openaiUpstream.requests.length;
    const count = await ai.models.countTokens({ model: "gpt-mini", contents: "how many tokens are in this sentence" });
    expect(count.totalTokens).toBeGreaterThanOrEqual(7);
    expect(await balance()).toBe(before);
    expect(openaiUpstream.requests.length).toBe(calls);
  });

  test("embedContent: several contents (the client's batchEmbedContents) and one (:embedContent), each an execution", async () => {
    const before = await balance();
    const batch = await ai.models.embedContent({ model: "gemini-embed", contents: ["a red fox", "a blue whale"], config: { outputDimensionality: 4 } });
    expect(batch.embeddings!.map((e) => e.values!.length)).toEqual([4, 4]);
    const sent = geminiUpstream.requests.at(-1)!;
    expect(sent.path).toBe("/v1beta/models/text-embedding-004:batchEmbedContents");
    expect(sent.body.requests.map((r: { content: { parts: { text: string }[] } }) => r.content.parts[0]!.text)).toEqual(["a red fox", "a blue whale"]);

    const single = await fetch(`${server.url}/v1beta/models/gemini-embed:embedContent`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-goog-api-key": server.apiKey },
      body: JSON.stringify({ content: { parts: [{ text: "a red fox" }] }, output_dimensionality: 4 }),
    });
    expect(single.status).toBe(200);
    const one = await single.json();
    expect(one.embedding.values).toEqual(batch.embeddings![0]!.values);
    const mock = await ai.models.embedContent({ model: "mock-embed", contents: "a red fox" });
    expect(mock.embeddings!.length).toBe(1);
    expect(micros(await balance())).toBeLessThan(micros(before)); // estimated tokens at $0.10 per million
  });

  test("models.list pages through the chat and embedding models; models.get names one", async () => {
    const names: string[] = [];
    for await (const model of await ai.models.list({ config: { pageSize: 2 } })) names.push(model.name!);
    expect(names).toContain("models/gemini-flash");
    expect(names).toContain("models/mock-embed");
    expect(names).not.toContain("models/mock-image"); // an image model has no Gemini method here
    expect(new Set(names).size).toBe(names.length);
    const model = await ai.models.get({ model: "gemini-embed" });
    expect(model).toMatchObject({ name: "models/gemini-embed", supportedActions: ["embedContent", "batchEmbedContents"] });
  });

  test("errors are the client's ApiError with Google's status: 400, 401, 403, 404, 402, 429", async () => {
    const bad = await error(ai.models.generateContent({ model: "gpt-mini", contents: "x", config: { responseModalities: ["IMAGE" as never] } }));
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad!.status).toBe(400);
    expect(googleError(bad!)).toMatchObject({ code: 400, status: "INVALID_ARGUMENT", details: [{ fieldViolations: [{ field: "generationConfig.responseModalities" }] }] });

    const stranger = new GoogleGenAI({ apiKey: "sk_nope", httpOptions: { baseUrl: server.url } });
    const unknownKey = await error(stranger.models.generateContent({ model: "gpt-mini", contents: "x" }));
    expect(unknownKey!.status).toBe(401);
    expect(googleError(unknownKey!).status).toBe("UNAUTHENTICATED");

    const guardrail = await (await server.post("/v1/guardrails", { name: "no gpt", blocked_models: ["gpt-mini"] })).json();
    const guarded = await (await server.post("/v1/api-keys", { name: "guarded" })).json();
    expect((await server.post(`/v1/guardrails/${guardrail.id}/assignments/keys`, { key_ids: [guarded.id] })).status).toBeLessThan(300);
    const forbidden = await error(new GoogleGenAI({ apiKey: guarded.key, httpOptions: { baseUrl: server.url } }).models.generateContent({ model: "gpt-mini", contents: "x" }));
    expect(forbidden!.status).toBe(403);
    expect(googleError(forbidden!).status).toBe("PERMISSION_DENIED");

    const missing = await error(ai.models.generateContent({ model: "no-such-model", contents: "x" }));
    expect(missing!.status).toBe(404);
    expect(googleError(missing!).status).toBe("NOT_FOUND");
    const action = await fetch(`${server.url}/v1beta/models/gpt-mini:frobnicate`, { method: "POST", headers: { "content-type": "application/json", "x-goog-api-key": server.apiKey }, body: "{}" });
    expect(action.status).toBe(404);
    expect((await action.json()).error).toMatchObject({ code: 404, status: "NOT_FOUND" });

    const calls = openaiUpstream.requests.length;
    const broke = new GoogleGenAI({ apiKey: server.newOrgKey({ creditMicros: 0 }).key, httpOptions: { baseUrl: server.url } });
    const poor = await error(broke.models.generateContent({ model: "gpt-mini", contents: "x" }));
    expect(poor!.status).toBe(402);
    expect(googleError(poor!).status).toBe("FAILED_PRECONDITION");

    const slow = (await (await server.post("/v1/api-keys", { name: "one a minute", limits: { requests_per_minute: 1 } })).json()).key as string;
    const slowAi = new GoogleGenAI({ apiKey: slow, httpOptions: { baseUrl: server.url } });
    await slowAi.models.countTokens({ model: "gpt-mini", contents: "first" });
    const limited = await error(slowAi.models.generateContent({ model: "gpt-mini", contents: "second" }));
    expect(limited!.status).toBe(429);
    const body = googleError(limited!);
    expect(body.status).toBe("RESOURCE_EXHAUSTED");
    expect(body.details).toContainEqual({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: expect.stringMatching(/^\d+s$/) });
    expect(openaiUpstream.requests.length).toBe(calls); // neither reached the upstream
  });

  test("keys in ?key= and snake_case fields, as Google's curl examples send them; the JSON-array stream without alt=sse", async () => {
    openaiUpstream.next({ reply: { text: "alpha beta" } });
    const res = await fetch(`${server.url}/v1beta/models/gpt-mini:streamGenerateContent?key=${server.apiKey}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ system_instruction: { parts: [{ text: "Terse." }] }, contents: [{ role: "user", parts: [{ text: "Go" }] }], generation_config: { max_output_tokens: 9 } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const chunks = JSON.parse(await res.text()) as { candidates: { content?: { parts: { text: string }[] }; finishReason?: string }[]; responseId: string }[];
    expect(chunks.map((c) => c.candidates[0]!.content?.parts[0]!.text ?? "").join("")).toBe("alpha beta");
    expect(chunks.at(-1)!.candidates[0]!.finishReason).toBe("STOP");
    expect(openaiUpstream.requests.at(-1)!.body).toMatchObject({ messages: [{ role: "system", content: "Terse." }, { role: "user", content: "Go" }], max_tokens: 9 });
    expect((await execution(chunks[0]!.responseId)).status).toBe("COMPLETED");
  });

  test("Google's Schema in `parameters` reaches an OpenAI upstream as JSON Schema", async () => {
    openaiUpstream.next({ reply: { text: "ok" } });
    await ai.models.generateContent({
      model: "gpt-mini",
      contents: "x",
      config: { tools: [{ functionDeclarations: [{ name: "find", parameters: { type: "OBJECT" as never, properties: { city: { type: "STRING" as never, nullable: true }, tags: { type: "ARRAY" as never, items: { type: "STRING" as never } } }, required: ["city"], propertyOrdering: ["city", "tags"] } }] }] },
    });
    expect(openaiUpstream.requests.at(-1)!.body.tools[0].function.parameters).toEqual({ type: "object", properties: { city: { type: ["string", "null"] }, tags: { type: "array", items: { type: "string" } } }, required: ["city"] });
  });

  test("thinking on a Gemini upstream: the budget and topK go through, thoughts are shown only with includeThoughts, thoughts are counted apart", async () => {
    geminiUpstream.next({ reply: { thought: "pondering it deeply", text: "Forty-two." } });
    const shown = await ai.models.generateContent({ model: "gemini-flash", contents: "The answer?", config: { topK: 20, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } } });
    expect(geminiUpstream.requests.at(-1)!.body.generationConfig).toEqual({ topK: 20, maxOutputTokens: 1024, thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } }); // the model's max_output_tokens bounds every call
    expect(shown.candidates![0]!.content!.parts).toEqual([{ text: "pondering it deeply", thought: true }, { text: "Forty-two." }]);
    expect(shown.text).toBe("Forty-two.");
    expect(shown.usageMetadata).toMatchObject({ candidatesTokenCount: 1, thoughtsTokenCount: 3, totalTokenCount: shown.usageMetadata!.promptTokenCount! + 4 });

    geminiUpstream.next({ reply: { thought: "pondering it deeply", text: "Forty-two." } });
    const hidden = await ai.models.generateContent({ model: "gemini-flash", contents: "The answer?", config: { thinkingConfig: { thinkingBudget: 2048 } } });
    expect(hidden.candidates![0]!.content!.parts).toEqual([{ text: "Forty-two." }]);

    geminiUpstream.next({ reply: { thought: "pondering it deeply", text: "Forty-two." } });
    const parts = [];
    for await (const chunk of await ai.models.generateContentStream({ model: "gemini-flash", contents: "The answer?", config: { thinkingConfig: { thinkingBudget: 2048, includeThoughts: true } } }))
      parts.push(...(chunk.candidates?.[0]?.content?.parts ?? []));
    expect(parts.filter((p) => p.thought).map((p) => p.text).join("")).toBe("pondering it deeply");
    expect(parts.filter((p) => !p.thought).map((p) => p.text).join("")).toBe("Forty-two.");
  });

  test("a stream whose upstream drops after content ends with an error chunk the client raises as ApiError", async () => {
    geminiUpstream.next({ reply: { text: "alpha beta gamma delta" }, cutAfterChunks: 2 });
    let text = "";
    const failure = await (async () => {
      for await (const chunk of await ai.models.generateContentStream({ model: "gemini-flash", contents: "go" })) text += chunk.text ?? "";
    })().then(() => null, (e) => e);
    expect(text).toBe("alpha beta");
    expect(failure).toBeInstanceOf(ApiError);
    expect(failure.status).toBe(503);
  });

  test("a Gemini upstream behind the Gemini client: thought signatures ride back on the function call they came with", async () => {
    geminiUpstream.next({ reply: { functionCalls: [{ name: "weather", args: { city: "Rome" } }], thoughtSignature: "c2lnbmVkLXN0YXRl" } });
    const tools = [{ functionDeclarations: [weather] }];
    const first = await ai.models.generateContent({ model: "gemini-flash", contents: "Rome?", config: { tools } });
    const part = first.candidates![0]!.content!.parts![0]!;
    expect(part).toMatchObject({ functionCall: { name: "weather", args: { city: "Rome" } }, thoughtSignature: "c2lnbmVkLXN0YXRl" });

    geminiUpstream.next({ reply: { text: "Warm." } });
    await ai.models.generateContent({ model: "gemini-flash", contents: [{ role: "user", parts: [{ text: "Rome?" }] }, first.candidates![0]!.content!, { role: "user", parts: [{ functionResponse: { id: part.functionCall!.id, name: "weather", response: { result: "warm" } } }] }], config: { tools } });
    const contents = geminiUpstream.requests.at(-1)!.body.contents;
    expect(contents[1]).toEqual({ role: "model", parts: [{ functionCall: { id: part.functionCall!.id, name: "weather", args: { city: "Rome" } }, thoughtSignature: "c2lnbmVkLXN0YXRl" }] });
    expect(contents[2]).toEqual({ role: "user", parts: [{ functionResponse: { id: part.functionCall!.id, name: "weather", response: { result: "warm" } } }] });
  });
});

describe("the gemini provider kind", () => {
  test("chat from the openai client: Gemini's request shape, the key in x-goog-api-key, usage from usageMetadata", async () => {
    const before = await balance();
    geminiUpstream.next({ reply: { text: "Ciao!", usage: { promptTokenCount: 20, candidatesTokenCount: 2, cachedContentTokenCount: 8 } } });
    const completion = await openai.chat.completions.create({ model: "gemini-flash", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hello in Italian" }], max_tokens: 30, temperature: 0.5, stop: "END" });
    expect(completion.choices[0]!.message.content).toBe("Ciao!");
    expect(completion.usage).toMatchObject({ prompt_tokens: 20, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 8 } });
    const sent = geminiUpstream.requests.at(-1)!;
    expect(sent.path).toBe("/v1beta/models/gemini-2.0-flash:generateContent");
    expect(sent.headers["x-goog-api-key"]).toBe(GEMINI_KEY);
    expect(sent.body).toEqual({
      contents: [{ role: "user", parts: [{ text: "Hello in Italian" }] }],
      systemInstruction: { parts: [{ text: "Be brief." }] },
      generationConfig: { temperature: 0.5, maxOutputTokens: 30, stopSequences: ["END"] },
    });
    const exec = await execution(completion.id);
    expect(exec.usage).toMatchObject({ input_tokens: 20, output_tokens: 2 });
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
  });

  test("streamed through :streamGenerateContent?alt=sse, with the usage of the last chunk", async () => {
    geminiUpstream.next({ reply: { text: "uno dos tres" } });
    const stream = openai.chat.completions.stream({ model: "gemini-flash", messages: [{ role: "user", content: "count" }], stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("uno dos tres");
    expect(final.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 3 });
    const sent = geminiUpstream.requests.at(-1)!;
    expect(sent.path).toBe("/v1beta/models/gemini-2.0-flash:streamGenerateContent");
    expect(sent.query.alt).toBe("sse");
  });

  test("tools: declarations as parametersJsonSchema, functionCall as tool_calls, tool results as named functionResponses (streamed too)", async () => {
    const tool = { type: "function" as const, function: { name: "weather", description: "The weather in a city", parameters: weather.parametersJsonSchema } };
    geminiUpstream.next({ reply: { functionCalls: [{ name: "weather", args: { city: "Lyon" } }] } });
    const first = await openai.chat.completions.create({ model: "gemini-flash", messages: [{ role: "user", content: "Lyon?" }], tools: [tool], tool_choice: "required" });
    const call = first.choices[0]!.message.tool_calls![0] as { id: string; function: { name: string; arguments: string } };
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call.function).toEqual({ name: "weather", arguments: '{"city":"Lyon"}' });
    expect(geminiUpstream.requests.at(-1)!.body).toMatchObject({
      tools: [{ functionDeclarations: [{ name: "weather", description: "The weather in a city", parametersJsonSchema: weather.parametersJsonSchema }] }],
      toolConfig: { functionCallingConfig: { mode: "ANY" } },
    });

    geminiUpstream.next({ reply: { text: "Mild." } });
    const second = await openai.chat.completions.create({ model: "gemini-flash", messages: [{ role: "user", content: "Lyon?" }, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "mild, 15°C" }], tools: [tool] });
    expect(second.choices[0]!.message.content).toBe("Mild.");
    expect(geminiUpstream.requests.at(-1)!.body.contents.slice(1)).toEqual([
      { role: "model", parts: [{ functionCall: { id: call.id, name: "weather", args: { city: "Lyon" } } }] },
      { role: "user", parts: [{ functionResponse: { id: call.id, name: "weather", response: { result: "mild, 15°C" } } }] },
    ]);

    geminiUpstream.next({ reply: { text: "Looking.", functionCalls: [{ name: "weather", args: { city: "Nice" } }] } });
    const streamed = await openai.chat.completions.stream({ model: "gemini-flash", messages: [{ role: "user", content: "Nice?" }], tools: [tool] }).finalChatCompletion();
    expect(streamed.choices[0]!.message.content).toBe("Looking.");
    expect(JSON.parse((streamed.choices[0]!.message.tool_calls![0] as { function: { arguments: string } }).function.arguments)).toEqual({ city: "Nice" });
    expect(streamed.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("a 503 is retried on the route; a 429 fails over to the next route; a 400 is the caller's and is not retried", async () => {
    geminiUpstream.next({ status: 503 }, { reply: { text: "second time lucky" } });
    const retried = await openai.chat.completions.create({ model: "gemini-retry", messages: [{ role: "user", content: "hi" }] });
    expect(retried.choices[0]!.message.content).toBe("second time lucky");

    const geminiCalls = geminiUpstream.requests.length;
    geminiUpstream.next({ status: 429, retryDelay: "30s" });
    openaiUpstream.next({ reply: { text: "from the backup" } });
    const failedOver = await openai.chat.completions.create({ model: "gemini-failover", messages: [{ role: "user", content: "hi" }] });
    expect(failedOver.choices[0]!.message.content).toBe("from the backup");
    expect(geminiUpstream.requests.length).toBe(geminiCalls + 1);
    expect((await execution(failedOver.id)).status).toBe("COMPLETED");

    const before = geminiUpstream.requests.length;
    geminiUpstream.next({ status: 400, errorBody: { error: { code: 400, message: "* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.", status: "INVALID_ARGUMENT" } } });
    const refused = await openai.chat.completions.create({ model: "gemini-retry", messages: [{ role: "user", content: "hi" }] }).then(() => null, (e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(geminiUpstream.requests.length).toBe(before + 1);
  });

  test("a 429 whose RetryInfo asks for 30 s, with no other route: a 503 that charges nothing, and the route rests that long", async () => {
    const before = await balance();
    geminiUpstream.next({ status: 429, retryDelay: "30s" });
    const down = await openai.chat.completions.create({ model: "gemini-limited", messages: [{ role: "user", content: "hi" }] }).then(() => null, (e) => e);
    expect(down).toBeInstanceOf(OpenAI.APIError);
    expect(down.status).toBe(503);
    expect(await balance()).toBe(before);
    const calls = geminiUpstream.requests.length;
    const resting = await openai.chat.completions.create({ model: "gemini-limited", messages: [{ role: "user", content: "again" }] }).then(() => null, (e) => e);
    expect(resting.status).toBe(503);
    expect(geminiUpstream.requests.length).toBe(calls); // the delay came in the body, not in a Retry-After header
  });

  test("a stream cut after content ends with an error chunk, never a clean finish", async () => {
    geminiUpstream.next({ reply: { text: "one two three four five" }, cutAfterChunks: 2 });
    const stream = await openai.chat.completions.create({ model: "gemini-flash", messages: [{ role: "user", content: "go" }], stream: true });
    let text = "";
    const failure = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })().then(() => null, (e) => e);
    expect(text).toBe("one two");
    expect(failure).toBeInstanceOf(OpenAI.APIError);
  });

  test("embeddings from the openai client over :batchEmbedContents", async () => {
    const result = await openai.embeddings.create({ model: "gemini-embed", input: ["first", "second"], dimensions: 3, encoding_format: "float" });
    expect(result.data.map((d) => d.embedding.length)).toEqual([3, 3]);
    expect(geminiUpstream.requests.at(-1)!.body.requests).toEqual([
      { model: "models/text-embedding-004", content: { parts: [{ text: "first" }] }, outputDimensionality: 3 },
      { model: "models/text-embedding-004", content: { parts: [{ text: "second" }] }, outputDimensionality: 3 },
    ]);
  });

  test("the upstream refusing the gateway's key is an unavailable model for the caller, not their bad request", async () => {
    const badKey = await server.request("PUT", "/admin/v1/catalog", {
      key: null,
      headers: { authorization: `Bearer ${server.adminToken}` },
      body: { providers: [{ id: "gem-wrong-key", kind: "gemini", base_url: geminiUpstream.url, api_key: "not-the-key" }], models: [{ slug: "gemini-wrong-key", task: "chat", pricing: chatPrices, routes: [{ provider: "gem-wrong-key", upstream_model: "gemini-2.0-flash", retries: 0 }] }] },
    });
    expect(badKey.status).toBe(200);
    const refused = await openai.chat.completions.create({ model: "gemini-wrong-key", messages: [{ role: "user", content: "hi" }] }).then(() => null, (e) => e);
    expect(refused.status).toBe(503);
    expect(refused.message).not.toContain("not-the-key");
  });
});
