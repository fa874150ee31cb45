/**
 * The `openai` adapter: any OpenAI-compatible server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio,
 * TGI, OpenRouter, Together, Groq, …). Chat (tools, response formats, sampling passed through,
 * streaming with usage always asked for), text generation over chat, embeddings (float or
 * base64 from the server), image generation, and speech, transcription, moderation and rerank
 * (media.ts). `base_url` ends where the server's `/v1` does.
 */
import { chatOutput, promptText, textOf, type ChatInput } from "../../canonical/chat";
import { estimateTokens, type Usage } from "../../canonical/usage";
import { ProviderError } from "../errors";
import { parseEventData, readJson, send, sseEvents } from "../http";
import { post } from "./post";
import type { Artifact, ProviderAdapter, ProviderResult, TaskCall, TaskRunner } from "../types";
import { sniffImage } from "../images";
import { ChatStream } from "./stream";
import { moderation, rerank, speechToText, textToSpeech } from "./media";
import { chatRequest, choiceFrom, errorMessage, usageFrom } from "./wire";


/** Upstream usage when there is one; otherwise counted here and marked estimated. */
function usageOr(reported: Usage | null, input: ChatInput, outputText: string): Usage {
  return reported ?? { inputTokens: estimateTokens(promptText(input)), outputTokens: estimateTokens(outputText), estimated: true };
}

async function completeChat(call: TaskCall, input: ChatInput): Promise<{ output: Record<string, unknown>; usage: Usage }> {
  const { route } = call;
  if (!call.emit) {
    const response = await post(call, "chat/completions", chatRequest(input, route.upstreamModel, route.params, false));
    const body = await readJson(response, call);
    if (!Array.isArray(body?.choices)) throw new ProviderError("server", "the answer has no choices");
    const output = chatOutput(body.choices.map(choiceFrom));
    return { output, usage: usageOr(usageFrom(body.usage), input, output.text) };
  }
  const response = await post(call, "chat/completions", chatRequest(input, route.upstreamModel, route.params, true), route.timeouts.firstTokenMs);
  const stream = new ChatStream(call.emit);
  let content = false;
  for await (const event of sseEvents(response, { signal: call.signal, maxBytes: call.maxAnswerBytes, waitMs: () => (content ? route.timeouts.idleMs : route.timeouts.firstTokenMs) })) {
    if (event.data.trim() === "[DONE]") {
      stream.done = true;
      break;
    }
    if (stream.push(parseEventData(event.data))) content = true;
  }
  if (!stream.done && !stream.finished) throw new ProviderError("connection", "the stream ended before the answer finished");
  const { output, usage } = stream.result();
  return { output, usage: usageOr(usage, input, output.text) };
}

const chat: TaskRunner = async (call) => completeChat(call, call.input as unknown as ChatInput);

/** A prompt in, text out: one user message over chat completions, which every server has. */
const textGeneration: TaskRunner = async (call) => {
  const { prompt, text, ...rest } = call.input as { prompt?: string; text?: string } & Record<string, unknown>;
  const input = { ...rest, messages: [{ role: "user" as const, content: String(prompt ?? text ?? "") }] } as ChatInput;
  const { output, usage } = await completeChat(call, input);
  return { output: { text: textOf((output.message as { content: [] }).content), finish_reason: output.finish_reason }, usage };
};

/** Little-endian float32, as OpenAI encodes `encoding_format: "base64"`. */
function decodeBase64Floats(text: string): number[] {
  const bytes = Buffer.from(text, "base64");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

const embedding: TaskRunner = async (call) => {
  const { input, dimensions } = call.input as { input: string | string[]; dimensions?: number };
  const body = { model: call.route.upstreamModel, input, encoding_format: "float", ...(dimensions ? { dimensions } : {}), ...call.route.params };
  const answer = await readJson(await post(call, "embeddings", body), call);
  if (!Array.isArray(answer?.data)) throw new ProviderError("server", "the answer has no data");
  const rows = [...answer.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  const embeddings = rows.map((row) => (typeof row.embedding === "string" ? decodeBase64Floats(row.embedding) : (row.embedding as number[])));
  const texts = Array.isArray(input) ? input : [input];
  const reported = typeof answer.usage?.prompt_tokens === "number" ? answer.usage.prompt_tokens : null;
  return {
    output: { embeddings, dimensions: embeddings[0]?.length ?? 0 },
    usage: reported === null ? { inputTokens: estimateTokens(texts.join("\n")), outputTokens: 0, estimated: true } : { inputTokens: reported, outputTokens: 0 },
  };
};

async function imageBytes(call: TaskCall, row: { b64_json?: string; url?: string }): Promise<Uint8Array> {
  if (row.b64_json) return new Uint8Array(Buffer.from(row.b64_json, "base64"));
  if (!row.url) throw new ProviderError("server", "an image has neither b64_json nor url");
  // A link that expires: copied now, into the file store by the engine.
  const response = await send({ url: row.url, method: "GET", headers: {}, signal: call.signal, errorMessage });
  return new Uint8Array(await response.arrayBuffer());
}

const textToImage: TaskRunner = async (call): Promise<ProviderResult> => {
  const { prompt, width, height, num_images: count = 1, ...rest } = call.input as { prompt: string; width?: number; height?: number; num_images?: number } & Record<string, unknown>;
  const body: Record<string, unknown> = { model: call.route.upstreamModel, prompt, n: count, response_format: "b64_json", ...rest, ...call.route.params };
  if (width && height) body.size = `${width}x${height}`;
  if (body.response_format === null) delete body.response_format; // models that refuse the field (gpt-image-1)
  const answer = await readJson(await post(call, "images/generations", body), call);
  if (!Array.isArray(answer?.data) || answer.data.length === 0) throw new ProviderError("server", "the answer has no images");
  const artifacts: Artifact[] = [];
  for (const [i, row] of (answer.data as { b64_json?: string; url?: string }[]).entries()) {
    const bytes = await imageBytes(call, row);
    const kind = sniffImage(bytes);
    artifacts.push({ bytes, contentType: kind.contentType, filename: `image-${i + 1}.${kind.extension}`, meta: { format: kind.extension, ...(width && height ? { width, height } : {}) } });
  }
  const inputTokens = typeof answer.usage?.input_tokens === "number" ? answer.usage.input_tokens : estimateTokens(prompt);
  return { output: { images: artifacts.map((_, i) => ({ $artifact: i })) }, usage: { inputTokens, outputTokens: 0, images: artifacts.length }, artifacts };
};

export const openaiAdapter: ProviderAdapter = {
  kind: "openai",
  idempotent: false, // a repeated call is a second, billed generation upstream
  tasks: { chat, "text-generation": textGeneration, embedding, "text-to-image": textToImage, "text-to-speech": textToSpeech, "speech-to-text": speechToText, moderation, rerank },
};
