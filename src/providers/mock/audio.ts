/**
 * The mock speech and transcription models (docs/tasks.md "text-to-speech", "speech-to-text").
 * Speech: 24 kHz 16-bit mono PCM, each character of the text lasting 60 ms / speed (a tone per
 * character, silence for spaces), as a WAV whose `ICMT` comment holds the text, or as raw `pcm`.
 * Transcription reads a WAV's header: the comment when there is one (so what the mock spoke comes
 * back word for word), else a sentence describing its duration and format; other audio is
 * described by its type and size, its duration taken as 128 kbit/s.
 */
import type { Transcript, TranscriptSegment, TranscriptWord } from "../../canonical/media";
import { AppError } from "../../errors";
import { sleep } from "../../time";
import type { TaskRunner } from "../types";
import { encodeWav, parseWav, pcmBytes } from "../wav";
import { countTokens, failIfAsked, latencyOf, seedOf } from "./controls";

export const SPEECH_SAMPLE_RATE = 24_000;
/** 60 ms of audio per character at speed 1. */
export const SAMPLES_PER_CHARACTER = 1440;
const CONTENT_TYPES: Record<string, string> = { wav: "audio/wav", pcm: "audio/pcm" };
/** What a compressed recording's duration is taken to be, in bytes per second (128 kbit/s). */
const COMPRESSED_BYTES_PER_SECOND = 16_000;

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function speak(text: string, voice: string, speed: number): Int16Array {
  const characters = [...text];
  const perCharacter = Math.round(SAMPLES_PER_CHARACTER / speed);
  const samples = new Int16Array(characters.length * perCharacter);
  const base = 180 + (seedOf(voice) % 80); // each voice its own pitch
  characters.forEach((c, i) => {
    if (/\s/.test(c)) return; // a space is silence
    const hz = base + (c.codePointAt(0)! % 24) * 20;
    for (let s = 0; s < perCharacter; s++) samples[i * perCharacter + s] = Math.round(8000 * Math.sin((2 * Math.PI * hz * s) / SPEECH_SAMPLE_RATE));
  });
  return samples;
}

export const textToSpeech: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const text = String(call.input.input);
  const format = String(call.input.format ?? "wav");
  if (!CONTENT_TYPES[format]) throw new AppError("INPUT_VALIDATION_ERROR", `The mock speaks wav or pcm, not ${format}.`, [{ field: "input.format", code: "unsupported", message: "wav or pcm." }]);
  const speed = Number(call.input.speed ?? 1);
  const samples = speak(text, String(call.input.voice ?? "alloy"), speed);
  const bytes = format === "wav" ? encodeWav(samples, SPEECH_SAMPLE_RATE, text) : pcmBytes(samples);
  const durationSeconds = samples.length / SPEECH_SAMPLE_RATE;
  return {
    output: { audio: { $artifact: 0 } }, // the stored file, as SpeechOutput has it
    usage: { inputTokens: countTokens(text), outputTokens: 0, characters: [...text].length },
    artifacts: [{ bytes, contentType: CONTENT_TYPES[format]!, filename: `speech.${format}`, meta: { format, content_type: CONTENT_TYPES[format], duration_seconds: durationSeconds } }],
  };
};

/** Timings proportional to characters: a text spread evenly over the recording. */
function timings(text: string, duration: number): { segments: TranscriptSegment[]; words: TranscriptWord[] } {
  const at = (offset: number) => round3(text.length === 0 ? 0 : (duration * offset) / text.length);
  const segments = [...text.matchAll(/[^.!?]+[.!?]*/g)]
    .filter((m) => m[0].trim())
    .map((m, id) => ({ id, start: at(m.index!), end: at(m.index! + m[0].length), text: m[0].trim() }));
  const words = [...text.matchAll(/\S+/g)].map((m) => ({ word: m[0].replace(/[^\p{L}\p{N}'-]+/gu, "") || m[0], start: at(m.index!), end: at(m.index! + m[0].length) }));
  return { segments, words };
}

export const speechToText: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const file = call.files[0];
  if (!file) throw new AppError("INPUT_VALIDATION_ERROR", "A recording is required.", [{ field: "input.file", code: "required", message: "A file id." }]);
  const bytes = await file.bytes();
  const wav = parseWav(bytes);
  let text: string;
  let duration: number;
  if (wav) {
    duration = wav.durationSeconds;
    const channels = wav.channels === 1 ? "mono" : `${wav.channels} channels`;
    text = wav.comment ?? `A ${duration.toFixed(2)}-second WAV recording: ${wav.sampleRate} Hz, ${channels}, ${wav.bitsPerSample}-bit.`;
  } else {
    duration = bytes.byteLength / COMPRESSED_BYTES_PER_SECOND;
    text = `A ${file.contentType} recording of ${bytes.byteLength} bytes.`;
  }
  const granularities = (call.input.timestamp_granularities as string[] | undefined) ?? [];
  const { segments, words } = timings(text, duration);
  const output: Transcript = {
    text,
    language: call.input.translate ? "english" : String(call.input.language ?? "english"),
    duration: round3(duration),
    ...(granularities.includes("segment") ? { segments } : {}),
    ...(granularities.includes("word") ? { words } : {}),
  };
  return { output, usage: { inputTokens: 0, outputTokens: countTokens(text), seconds: round3(duration) } };
};
