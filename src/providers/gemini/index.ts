/**
 * The `gemini` adapter: Google's Gemini API (or any server speaking it). Chat and text generation
 * over `:generateContent`, streamed over `:streamGenerateContent?alt=sse`; embeddings over
 * `:batchEmbedContents`. The key goes in `x-goog-api-key`. `base_url` ends with the API version
 * (`https://generativelanguage.googleapis.com/v1beta`); `upstream_model` is `gemini-2.5-flash` or
 * `models/gemini-2.5-flash`. Google's 400 for a bad key is an auth failure and a 429's
 * `RetryInfo` a retry delay, so the router cools the key or waits (docs/catalog.md).
 */
import { promptText, textOf, type ChatInput, type ChatOutput } from "../../canonical/chat";
import { estimateTokens, type Usage } from "../../canonical/usage";
import { ProviderError } from "../errors";
import { joinUrl, parseEventData, readJson, send, sseEvents } from "../http";
import type { ProviderAdapter, TaskCall, TaskRunner } from "../types";
import { ResponseReader } from "./reader";
import { errorHints, errorMessage, generateRequest } from "./wire";

/** `gemini-2.5-flash` → `models/gemini-2.5-flash`; a tuned model's full name is kept. */
const modelPath = (upstream: string) => (/^(models|tunedModels)\//.test(upstream) ? upstream : `models/${upstream}`);

function post(call: TaskCall, action: string, body: unknown, headersMs?: number) {
  const { route } = call;
  if (!route.provider.baseUrl) throw new ProviderError("bad_request", `provider ${route.provider.id} has no base_url`);
  const extra = (route.provider.config.headers ?? {}) as Record<string, string>;
  return send({
    url: joinUrl(route.provider.baseUrl, `${modelPath(route.upstreamModel)}:${action}`),
    headers: { ...extra, ...(call.apiKey ? { "x-goog-api-key": call.apiKey } : {}) },
    body,
    signal: call.signal,
    headersMs,
    errorMessage,
    errorHints,
  });
}

async function complete(call: TaskCall, input: ChatInput): Promise<{ output: ChatOutput; usage: Usage }> {
  const { route } = call;
  const body = generateRequest(input, route.params);
  let reader: ResponseReader;
  if (!call.emit) {
    reader = new ResponseReader();
    reader.push(await readJson(await post(call, "generateContent", body), call));
  } else {
    reader = new ResponseReader(call.emit);
    const response = await post(call, "streamGenerateContent?alt=sse", body, route.timeouts.firstTokenMs);
    let content = false;
    for await (const event of sseEvents(response, { signal: call.signal, maxBytes: call.maxAnswerBytes, waitMs: () => (content ? route.timeouts.idleMs : route.timeouts.firstTokenMs) }))
      if (reader.push(parseEventData(event.data))) content = true;
    if (!reader.finished) throw new ProviderError("connection", "the stream ended before the answer finished");
  }
  const { output, usage } = reader.result();
  return { output, usage: usage ?? { inputTokens: estimateTokens(promptText(input)), outputTokens: estimateTokens(output.text), estimated: true } };
}

const chat: TaskRunner = async (call) => complete(call, call.input as unknown as ChatInput);

const textGeneration: TaskRunner = async (call) => {
  const { prompt, text, ...rest } = call.input as { prompt?: string; text?: string } & Record<string, unknown>;
  const { output, usage } = await complete(call, { ...rest, messages: [{ role: "user", content: String(prompt ?? text ?? "") }] } as ChatInput);
  return { output: { text: textOf(output.message.content), finish_reason: output.finish_reason }, usage };
};

const embedding: TaskRunner = async (call) => {
  const { input, dimensions } = call.input as { input: string | string[]; dimensions?: number };
  const texts = Array.isArray(input) ? input : [input];
  const model = modelPath(call.route.upstreamModel);
  const requests = texts.map((text) => ({ model, content: { parts: [{ text }] }, ...(dimensions ? { outputDimensionality: dimensions } : {}), ...call.route.params }));
  const answer = await readJson(await post(call, "batchEmbedContents", { requests }), call);
  if (!Array.isArray(answer?.embeddings) || answer.embeddings.length !== texts.length) throw new ProviderError("server", "the answer does not have one embedding per input");
  const embeddings = (answer.embeddings as { values?: number[] }[]).map((e) => e.values ?? []);
  // Gemini reports no token count for embeddings: counted here, and marked so.
  return { output: { embeddings, dimensions: embeddings[0]?.length ?? 0 }, usage: { inputTokens: estimateTokens(texts.join("\n")), outputTokens: 0, estimated: true } };
};

export const geminiAdapter: ProviderAdapter = {
  kind: "gemini",
  idempotent: false, // a repeated call is a second, billed generation upstream
  tasks: { chat, "text-generation": textGeneration, embedding },
};
