/**
 * OpenAI audio ⇄ the canonical text-to-speech and speech-to-text tasks. Speech: a JSON body in,
 * the audio bytes out, in a format the model can produce (checked against its schema, so an
 * unsupported `response_format` is a 400 naming it, before anything is held). Transcriptions and
 * translations: a multipart body in; the canonical transcript rendered as json, text, srt, vtt
 * or verbose_json.
 */
import type { Transcript } from "../../canonical/media";
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import type { Model } from "../../modules/catalog/service";
import { objectBody, openaiUnknown } from "../body";
import { fileFields, numberField, textField, type FormFields } from "../multipart";

const SPEECH_KNOWN = new Set(["model", "input", "voice", "response_format", "speed", "instructions", "stream_format"]);

export type SpeechRequest = { model: string; input: Record<string, unknown> };

export function parseSpeechRequest(body: unknown): SpeechRequest {
  const b = objectBody(body, { known: SPEECH_KNOWN, unknown: openaiUnknown });
  if (typeof b.input !== "string" || b.input === "") throw invalidField("input", "required", "input is required: the text to speak.");
  if (typeof b.voice !== "string" || b.voice === "") throw invalidField("voice", "required", "voice is required.");
  if (b.stream_format !== undefined && b.stream_format !== "audio")
    throw invalidField("stream_format", "unsupported", 'Only stream_format "audio" is served: the whole file in one response.');
  const input: Record<string, unknown> = { input: b.input, voice: b.voice };
  if (b.response_format !== undefined) input.format = b.response_format;
  if (b.speed !== undefined) input.speed = b.speed;
  if (b.instructions !== undefined) input.instructions = b.instructions;
  return { model: String(b.model ?? ""), input };
}

/** The formats the model's schema lets it produce (null: any the canonical task has). */
function formatsOf(model: Model): unknown[] | null {
  const format = (model.inputSchema.properties as Record<string, { enum?: unknown[] }> | undefined)?.format;
  return Array.isArray(format?.enum) ? format.enum : null;
}

/** 400 naming `response_format` when the model cannot produce the one asked for. */
export function checkSpeechFormat(model: Model, input: Record<string, unknown>) {
  const formats = formatsOf(model);
  if (input.format === undefined || !formats || formats.includes(input.format)) return;
  throw invalidField("response_format", "unsupported", `${model.slug} cannot produce ${JSON.stringify(input.format)} audio; response_format may be ${formats.join(" or ")}.`);
}

const TRANSCRIPT_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"] as const;
export type TranscriptFormat = (typeof TRANSCRIPT_FORMATS)[number];
const TRANSCRIPTION_KNOWN = new Set(["file", "model", "language", "prompt", "response_format", "temperature", "timestamp_granularities", "include", "chunking_strategy", "stream", "known_speaker_names", "known_speaker_references"]);
const TRANSLATION_KNOWN = new Set(["file", "model", "prompt", "response_format", "temperature"]);
/** Documented parameters the gateway cannot honour, with why. */
const TRANSCRIPTION_REFUSED: Record<string, string> = {
  include: "include (logprobs) is not served: transcripts carry no token log probabilities.",
  chunking_strategy: "chunking_strategy is not served: each file is transcribed whole.",
  known_speaker_names: "Speaker diarization is not served.",
  known_speaker_references: "Speaker diarization is not served.",
};

export type TranscriptionRequest = { model: string; file: File; input: Record<string, unknown>; format: TranscriptFormat };

/** A transcription (or, with `translate`, a translation) form as the canonical input, less the file id the route adds. */
export function parseTranscriptionForm(fields: FormFields, translate: boolean): TranscriptionRequest {
  const known = translate ? TRANSLATION_KNOWN : TRANSCRIPTION_KNOWN;
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) throw invalidField(name, "unknown_field", openaiUnknown(name));
    if (!translate && TRANSCRIPTION_REFUSED[name]) throw invalidField(name, "unsupported", TRANSCRIPTION_REFUSED[name]!);
  }
  const [file, extra] = fileFields(fields, "file");
  if (!file || extra) throw invalidField("file", "required", "file is required: one audio file.");
  const stream = textField(fields, "stream");
  if (stream !== undefined && stream !== "false") throw invalidField("stream", "unsupported", "Streamed transcriptions are not served; leave stream out.");
  const format = (textField(fields, "response_format") ?? "json") as TranscriptFormat;
  if (!TRANSCRIPT_FORMATS.includes(format)) throw invalidField("response_format", "invalid_format", `response_format must be one of ${TRANSCRIPT_FORMATS.join(", ")}.`);
  const granularities = fields.timestamp_granularities === undefined ? [] : [fields.timestamp_granularities].flat();
  if (granularities.some((g) => g !== "segment" && g !== "word")) throw invalidField("timestamp_granularities", "invalid_format", 'timestamp_granularities lists "segment" and/or "word".');
  const input: Record<string, unknown> = { translate };
  const language = textField(fields, "language");
  const prompt = textField(fields, "prompt");
  const temperature = numberField(fields, "temperature");
  if (language) input.language = language;
  if (prompt) input.prompt = prompt;
  if (temperature !== undefined) input.temperature = temperature;
  // Subtitles and the verbose answer need segments even when none were asked for.
  const wanted = new Set(granularities as string[]);
  if (format === "srt" || format === "vtt" || format === "verbose_json") wanted.add("segment");
  if (wanted.size) input.timestamp_granularities = [...wanted].sort();
  return { model: textField(fields, "model") ?? "", file, input, format };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
function timestamp(seconds: number, separator: "," | "."): string {
  const ms = Math.round(seconds * 1000);
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${separator}${pad(ms % 1000, 3)}`;
}

/** The transcript in the format asked for: an object for the JSON formats, a string for the others. */
export function renderTranscript(row: ExecutionRow, format: TranscriptFormat, translate: boolean): { json: unknown } | { text: string } {
  const t = (row.output ?? { text: "" }) as unknown as Transcript;
  const segments = t.segments ?? [{ id: 0, start: 0, end: t.duration ?? 0, text: t.text }];
  const seconds = row.usage?.seconds ?? t.duration;
  const usage = seconds === undefined ? {} : { usage: { type: "duration", seconds } };
  switch (format) {
    case "json":
      return { json: { text: t.text, ...usage } };
    case "verbose_json":
      return {
        json: {
          task: translate ? "translate" : "transcribe",
          language: t.language ?? null,
          duration: t.duration ?? null,
          text: t.text,
          segments,
          ...(t.words ? { words: t.words } : {}),
          ...usage,
        },
      };
    case "text":
      return { text: `${t.text}\n` };
    case "srt":
      return { text: segments.map((s, i) => `${i + 1}\n${timestamp(s.start, ",")} --> ${timestamp(s.end, ",")}\n${s.text}\n`).join("\n") };
    case "vtt":
      return { text: `WEBVTT\n\n${segments.map((s) => `${timestamp(s.start, ".")} --> ${timestamp(s.end, ".")}\n${s.text}\n`).join("\n")}` };
  }
}
