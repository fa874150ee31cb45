/**
 * The `openai` adapter's audio, moderation and rerank tasks, for OpenAI and the servers that
 * copy its endpoints (speech servers such as Kokoro-FastAPI or openedai-speech, whisper.cpp and
 * faster-whisper servers, vLLM, Jina, Voyage and Cohere-style rerankers). Speech bytes are
 * passed through as they come and stored as the execution's file; a recording is forwarded as
 * multipart, named by its real type (servers read the format from the file name).
 */
import type { ModerationOutput, RerankOutput, Transcript } from "../../canonical/media";
import { estimateTokens, type Usage } from "../../canonical/usage";
import { ProviderError } from "../errors";
import { readJson } from "../http";
import type { TaskRunner } from "../types";
import { parseWav } from "../wav";
import { post } from "./post";

const SPEECH_TYPES: Record<string, string> = { wav: "audio/wav", pcm: "audio/pcm", mp3: "audio/mpeg", opus: "audio/ogg", aac: "audio/aac", flac: "audio/flac" };
const EXTENSIONS: Record<string, string> = { "audio/wav": "wav", "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/ogg": "ogg", "audio/flac": "flac", "audio/webm": "webm", "video/webm": "webm", "video/mp4": "mp4" };

async function bytesOf(response: Response, signal: AbortSignal): Promise<Uint8Array> {
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new ProviderError("connection", `the audio was cut (${(error as Error).message})`);
  }
}

export const textToSpeech: TaskRunner = async (call) => {
  const { input, voice, format = "wav", speed, instructions } = call.input as { input: string; voice?: string; format?: string; speed?: number; instructions?: string };
  const body = { model: call.route.upstreamModel, input, voice: voice ?? "alloy", response_format: format, ...(speed !== undefined ? { speed } : {}), ...(instructions ? { instructions } : {}), ...call.route.params };
  const response = await post(call, "audio/speech", body);
  const bytes = await bytesOf(response, call.signal);
  if (bytes.length === 0) throw new ProviderError("server", "the speech answer is empty");
  const contentType = response.headers.get("content-type")?.split(";")[0]?.trim() || SPEECH_TYPES[format] || "application/octet-stream";
  const wav = parseWav(bytes);
  return {
    output: { audio: { $artifact: 0 } },
    // The characters read are the price's measure: counted here, exactly, as the upstream reports none.
    usage: { inputTokens: 0, outputTokens: 0, characters: [...input].length },
    artifacts: [{ bytes, contentType, filename: `speech.${format}`, meta: { format, content_type: contentType, ...(wav ? { duration_seconds: wav.durationSeconds } : {}) } }],
  };
};

type WireSegment = { id?: number; start?: number; end?: number; text?: string };
type WireTranscript = {
  text?: string;
  language?: string;
  duration?: number;
  segments?: WireSegment[];
  words?: { word: string; start: number; end: number }[];
  usage?: { type?: string; seconds?: number; input_tokens?: number; output_tokens?: number };
};

export const speechToText: TaskRunner = async (call) => {
  const input = call.input as { translate?: boolean; language?: string; prompt?: string; temperature?: number; timestamp_granularities?: string[] };
  const file = call.files[0];
  if (!file) throw new ProviderError("bad_request", "no recording was given");
  const audio = await file.bytes();
  const form = new FormData();
  form.append("file", new File([audio], `audio.${EXTENSIONS[file.contentType] ?? "wav"}`, { type: file.contentType }));
  form.append("model", call.route.upstreamModel);
  if (input.prompt) form.append("prompt", input.prompt);
  if (input.temperature !== undefined) form.append("temperature", String(input.temperature));
  const granularities = input.timestamp_granularities ?? [];
  // Translations take neither a language (the answer is English) nor timestamp granularities.
  if (!input.translate) {
    if (input.language) form.append("language", input.language);
    for (const g of granularities) form.append("timestamp_granularities[]", g);
  }
  form.append("response_format", granularities.length ? "verbose_json" : "json");
  for (const [name, value] of Object.entries(call.route.params)) form.append(name, typeof value === "string" ? value : JSON.stringify(value));
  const answer = (await readJson(await post(call, input.translate ? "audio/translations" : "audio/transcriptions", form), call)) as WireTranscript;
  if (typeof answer?.text !== "string") throw new ProviderError("server", "the transcription has no text");
  const reported = answer.duration ?? (answer.usage?.type === "duration" ? answer.usage.seconds : undefined);
  const duration = reported ?? parseWav(audio)?.durationSeconds;
  const output: Transcript = {
    text: answer.text,
    ...(answer.language ? { language: answer.language } : {}),
    ...(duration !== undefined ? { duration } : {}),
    ...(granularities.includes("segment") && answer.segments
      ? { segments: answer.segments.map((s, i) => ({ id: s.id ?? i, start: s.start ?? 0, end: s.end ?? 0, text: (s.text ?? "").trim() })) }
      : {}),
    ...(granularities.includes("word") && answer.words ? { words: answer.words.map((w) => ({ word: w.word.trim(), start: w.start, end: w.end })) } : {}),
  };
  const tokens = answer.usage?.type === "tokens" ? { inputTokens: answer.usage.input_tokens ?? 0, outputTokens: answer.usage.output_tokens ?? 0 } : null;
  // The seconds are what a transcription is priced by; tokens only when the server counts them (gpt-4o-transcribe).
  const usage: Usage = {
    inputTokens: tokens?.inputTokens ?? 0,
    outputTokens: tokens?.outputTokens ?? estimateTokens(answer.text),
    // No duration from the server nor from a WAV header: the hold's own bound (8 kbit/s) is the honest guess.
    seconds: duration ?? audio.byteLength / 1000,
    ...(duration === undefined ? { estimated: true } : {}),
  };
  return { output, usage };
};

type Part = { type: "text"; text: string } | { type: "image"; url?: string; data?: string; media_type?: string };

export const moderation: TaskRunner = async (call) => {
  const raw = call.input.input as string | string[] | Part[];
  const input =
    typeof raw === "string" || raw.every((item) => typeof item === "string")
      ? raw
      : (raw as Part[]).map((p) => (p.type === "text" ? p : { type: "image_url", image_url: { url: p.url ?? `data:${p.media_type ?? "image/png"};base64,${p.data}` } }));
  const answer = await readJson(await post(call, "moderations", { model: call.route.upstreamModel, input, ...call.route.params }), call);
  if (!Array.isArray(answer?.results)) throw new ProviderError("server", "the moderation answer has no results");
  const output: ModerationOutput = { results: answer.results };
  const texts = typeof raw === "string" ? [raw] : (raw as (string | Part)[]).map((p) => (typeof p === "string" ? p : p.type === "text" ? p.text : ""));
  return { output: output as unknown as Record<string, unknown>, usage: { inputTokens: estimateTokens(texts.join("\n")), outputTokens: 0, estimated: true } };
};

type WireRanked = { index: number; relevance_score?: number; score?: number };

export const rerank: TaskRunner = async (call) => {
  const { query, documents, top_n } = call.input as { query: string; documents: string[]; top_n?: number };
  const body = { model: call.route.upstreamModel, query, documents, ...(top_n !== undefined ? { top_n } : {}), ...call.route.params };
  const answer = await readJson(await post(call, "rerank", body), call);
  // Cohere and Jina answer `results`, Voyage `data`.
  const rows = (answer?.results ?? answer?.data) as WireRanked[] | undefined;
  if (!Array.isArray(rows)) throw new ProviderError("server", "the rerank answer has no results");
  const results = rows.map((r) => ({ index: r.index, relevance_score: r.relevance_score ?? r.score ?? 0 })).sort((a, b) => b.relevance_score - a.relevance_score);
  const output: RerankOutput = { results: top_n === undefined ? results : results.slice(0, top_n) };
  const reported = answer.usage?.total_tokens ?? answer.meta?.billed_units?.input_tokens;
  const usage: Usage = typeof reported === "number" ? { inputTokens: reported, outputTokens: 0 } : { inputTokens: estimateTokens([query, ...documents].join("\n")), outputTokens: 0, estimated: true };
  return { output, usage };
};
