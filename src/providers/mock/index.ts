/**
 * The built-in mock provider: deterministic, offline, instant unless asked otherwise.
 * `mock_latency_ms` makes a call take that long (abortable), `mock_error` makes it fail with
 * that error code. Tokens are whitespace-separated words (docs/decisions.md "Foundation and executions engine").
 */
import { chatOutput, textOf, type ChatInput } from "../../canonical/chat";
import { sleep } from "../../time";
import type { ProviderAdapter, TaskCall, TaskRunner } from "../types";
import { imageEdit, imageVariation } from "./image-edits";
import { moderation } from "./moderation";
import { rerank } from "./rerank";
import { speechToText, textToSpeech } from "./audio";
import { countTokens, failIfAsked, latencyOf, seedOf, wordsOf } from "./controls";
import { renderPng } from "./png";

const VOCABULARY = (
  "the gateway routes each request to a healthy provider and meters every call against a prepaid " +
  "balance so clients send canonical input and receive canonical output quickly reliably with signed webhooks"
).split(" ");

export { countTokens };

/** Deterministic words: the same prompt gives the same answer. */
function replyWords(prompt: string, maxTokens: number): string[] {
  const seed = seedOf(prompt);
  const count = Math.max(1, Math.min(maxTokens, 8 + (seed % 24)));
  const words: string[] = [];
  for (let i = 0; i < count; i++) words.push(VOCABULARY[(seed + i * 7) % VOCABULARY.length]!);
  return words;
}


/** Takes the requested latency: spread over the words when streaming, in one wait otherwise. */
async function produceText(call: TaskCall, words: string[]) {
  if (!call.emit) return sleep(latencyOf(call), call.signal);
  const perWord = latencyOf(call) / words.length;
  for (let i = 0; i < words.length; i++) {
    if (perWord > 0) await sleep(perWord, call.signal);
    call.emit({ type: "text_delta", index: 0, text: i === 0 ? words[i]! : ` ${words[i]}` });
  }
}

/** Canonical chat: reads every text part (a plain string content is one), answers in one text part. */
const chat: TaskRunner = async (call) => {
  const messages = (call.input as unknown as ChatInput).messages;
  const maxTokens = Number(call.input.max_tokens ?? 1024);
  const prompt = messages.map((m) => textOf(m.content)).join("\n");
  const words = replyWords(prompt, maxTokens);
  await produceText(call, words);
  failIfAsked(call);
  const text = words.join(" ");
  return {
    output: chatOutput([{ message: { role: "assistant", content: [{ type: "text", text }] }, finish_reason: words.length >= maxTokens ? "length" : "stop" }]),
    usage: { inputTokens: messages.reduce((n, m) => n + countTokens(textOf(m.content)), 0), outputTokens: words.length },
  };
};

const textGeneration: TaskRunner = async (call) => {
  const prompt = String(call.input.text ?? call.input.prompt ?? "");
  const words = replyWords(prompt, Number(call.input.max_tokens ?? 512));
  await produceText(call, words);
  failIfAsked(call);
  return { output: { text: words.join(" ") }, usage: { inputTokens: countTokens(prompt), outputTokens: words.length } };
};

const textToImage: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const width = Number(call.input.width ?? 1024);
  const height = Number(call.input.height ?? 1024);
  const count = Number(call.input.num_images ?? 1);
  const prompt = String(call.input.prompt);
  const baseSeed = call.input.seed === undefined ? seedOf(prompt) : Number(call.input.seed);
  const artifacts = Array.from({ length: count }, (_, i) => ({
    bytes: renderPng(width, height, seedOf(prompt, baseSeed + i)),
    contentType: "image/png",
    filename: `image-${i + 1}.png`,
    meta: { format: "png", width, height },
  }));
  return {
    output: { images: artifacts.map((_, i) => ({ $artifact: i })) },
    usage: { inputTokens: countTokens(prompt), outputTokens: 0, images: count },
    artifacts,
  };
};

/**
 * A hashed bag of words, normalised: each lowercase word adds ±1 to the dimension its hash picks,
 * so texts that share words are close (cosine) and the same text is the same vector. Vector
 * search behaves meaningfully offline (docs/compatibility.md "AIMP gateway").
 */
export function bagOfWords(words: string[], dimensions: number): number[] {
  const v = new Float64Array(dimensions);
  for (const word of words) {
    const h = Bun.hash.wyhash(word);
    v[Number(h % BigInt(dimensions))]! += (h >> 63n) === 0n ? 1 : -1;
  }
  const norm = Math.hypot(...v);
  if (norm === 0) v[0] = 1; // no words (punctuation only): one fixed vector rather than zeros
  return Array.from(v, (x) => Math.round((norm === 0 ? x : x / norm) * 1e6) / 1e6);
}


/** An image's "words": its format, its pixel size and its checksum, so the same image embeds the same. */
async function imageWords(file: TaskCall["files"][number]): Promise<string[]> {
  const bytes = await file.bytes();
  const size = imageSize(bytes);
  const digest = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  return [`format:${file.contentType}`, ...(size ? [`width:${size.width}`, `height:${size.height}`] : []), `sha256:${digest}`];
}

const embedding: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const dimensions = Number(call.input.dimensions ?? 256);
  if (call.files.length > 0) {
    // An image model: one vector for the image (and the caption, when one is given).
    const caption = typeof call.input.input === "string" ? wordsOf(call.input.input) : [];
    const words = [...caption, ...(await Promise.all(call.files.map(imageWords))).flat()];
    return { output: { embeddings: [bagOfWords(words, dimensions)], dimensions }, usage: { inputTokens: caption.length + call.files.length, outputTokens: 0 } };
  }
  const texts = Array.isArray(call.input.input) ? (call.input.input as string[]) : [String(call.input.input)];
  const embeddings = texts.map((text) => bagOfWords(wordsOf(text), dimensions));
  return { output: { embeddings, dimensions }, usage: { inputTokens: texts.reduce((n, t) => n + countTokens(t), 0), outputTokens: 0 } };
};

/** Width and height from a PNG's IHDR or a JPEG's start-of-frame; null for anything else. */
function imageSize(bytes: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length >= 24 && bytes[0] === 0x89 && bytes[1] === 0x50) return { width: view.getUint32(16), height: view.getUint32(20) };
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    for (let i = 2; i + 9 < bytes.length; ) {
      if (bytes[i] !== 0xff) return null;
      const marker = bytes[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xc3) return { width: view.getUint16(i + 7), height: view.getUint16(i + 5) };
      i += 2 + view.getUint16(i + 2);
    }
  }
  return null;
}

/** Describes the input image from its real bytes: format, size, pixels, checksum. */
const imageToText: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const prompt = String(call.input.prompt ?? "");
  const descriptions = await Promise.all(
    call.files.map(async (file) => {
      const bytes = await file.bytes();
      const size = imageSize(bytes);
      const digest = new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 12);
      const pixels = size ? `${size.width}x${size.height} ` : "";
      return `a ${pixels}${file.contentType} image of ${bytes.byteLength} bytes (sha256 ${digest}…)`;
    }),
  );
  const text = `This is ${descriptions.join(" and ")}.`;
  // An image counts as one input token: the hold, bounded by the input's bytes, always covers it.
  return { output: { text }, usage: { inputTokens: countTokens(prompt) + call.files.length, outputTokens: countTokens(text) } };
};

export const mockAdapter: ProviderAdapter = {
  kind: "mock",
  idempotent: true,
  tasks: {
    chat,
    "text-generation": textGeneration,
    "text-to-image": textToImage,
    embedding,
    "image-to-text": imageToText,
    "text-to-speech": textToSpeech,
    "speech-to-text": speechToText,
    "image-edit": imageEdit,
    "image-variation": imageVariation,
    moderation,
    rerank,
  },
};
