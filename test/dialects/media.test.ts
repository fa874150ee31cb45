/**
 * Audio, image edits and variations, moderations and rerank through the official `openai`
 * client (unchanged but for its base URL and key) and raw fetch for rerank, against a real
 * server: the mock models produce real WAV files and PNG edits offline, and a fake
 * OpenAI-compatible upstream shows speech, transcription and rerank passing through. Every call
 * is an execution in /v1/executions that moved the balance by its price.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { decodePng, encodePng, renderPng } from "../../src/providers/mock/png";
import { parseWav } from "../../src/providers/wav";
import { balanceOf, micros } from "../helpers/dialect-upstreams";
import { startFakeMedia, type FakeMedia } from "../helpers/fake-media";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let upstream: FakeMedia;
let openai: OpenAI;

beforeAll(async () => {
  upstream = await startFakeMedia({ apiKey: "upstream-media-key" });
  server = await startTestServer();
  const applied = await server.applyCatalog({
    providers: [{ id: "media-box", kind: "openai", base_url: upstream.url, api_key: "upstream-media-key" }],
    models: [
      { slug: "up-tts", task: "text-to-speech", pricing: { per_1m_characters: "30.00" }, routes: [{ provider: "media-box", upstream_model: "tts-1", retries: 0 }] },
      { slug: "up-whisper", task: "speech-to-text", pricing: { per_second: "0.0001" }, routes: [{ provider: "media-box", upstream_model: "whisper-1", retries: 0 }] },
      { slug: "up-rerank", task: "rerank", pricing: { input_per_1m_tokens: "0.05" }, routes: [{ provider: "media-box", upstream_model: "rerank-v3", retries: 0 }] },
    ],
  });
  expect(applied.status).toBe(200);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(async () => {
  await server.stop();
  await upstream.stop();
});

const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
/** The newest execution of a model (for routes whose answer carries no id). */
const latestOf = async (model: string) => (await (await server.get(`/v1/executions?model=${model}&limit=1`)).json()).data[0];
const balance = () => balanceOf(server);

/** A WAV of `seconds` of silence, as a recorder would write one (no comment). */
function silence(seconds: number, sampleRate = 16_000): Uint8Array {
  const data = seconds * sampleRate * 2;
  const bytes = new Uint8Array(44 + data);
  const v = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("RIFF"), 0);
  v.setUint32(4, 36 + data, true);
  bytes.set(new TextEncoder().encode("WAVEfmt "), 8);
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  bytes.set(new TextEncoder().encode("data"), 36);
  v.setUint32(40, data, true);
  return bytes;
}

/** The RIFF header of a WAV, read field by field (independently of the server's reader). */
function riffHeader(bytes: Uint8Array) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  const chunks: Record<string, { at: number; size: number }> = {};
  for (let at = 12; at + 8 <= bytes.length; at += 8 + v.getUint32(at + 4, true) + (v.getUint32(at + 4, true) & 1)) chunks[text(at)] = { at: at + 8, size: v.getUint32(at + 4, true) };
  const fmt = chunks["fmt "]!.at;
  return {
    riff: text(0), riffSize: v.getUint32(4, true), wave: text(8),
    format: v.getUint16(fmt, true), channels: v.getUint16(fmt + 2, true), sampleRate: v.getUint32(fmt + 4, true),
    byteRate: v.getUint32(fmt + 8, true), bitsPerSample: v.getUint16(fmt + 14, true), dataBytes: chunks.data!.size,
  };
}

describe("speech", () => {
  test("mock-tts speaks a valid RIFF WAV of 60 ms per character at speed 1, charged per character", async () => {
    const before = await balance();
    const text = "Hello from the gateway.";
    const response = await openai.audio.speech.create({ model: "mock-tts", input: text, voice: "alloy", response_format: "wav" });
    expect(response.headers.get("content-type")).toBe("audio/wav");
    const bytes = new Uint8Array(await response.arrayBuffer());
    const h = riffHeader(bytes);
    expect([h.riff, h.wave, h.riffSize]).toEqual(["RIFF", "WAVE", bytes.length - 8]);
    expect([h.format, h.channels, h.sampleRate, h.bitsPerSample, h.byteRate]).toEqual([1, 1, 24_000, 16, 48_000]);
    expect(h.dataBytes / h.byteRate).toBeCloseTo(text.length * 0.06, 6);
    const exec = await execution(response.headers.get("x-execution-id")!);
    expect(exec).toMatchObject({ status: "COMPLETED", model: "mock-tts", metadata: { dialect: "openai" }, usage: { characters: text.length } });
    // $15 per 1M characters, rounded up once.
    expect(micros(exec.cost)).toBe(Math.ceil(text.length * 15));
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
  });

  test("speed 2 halves the duration; pcm is the same samples, raw", async () => {
    const text = "twice as fast";
    const wav = new Uint8Array(await (await openai.audio.speech.create({ model: "mock-tts", input: text, voice: "nova", speed: 2 })).arrayBuffer());
    expect(riffHeader(wav).dataBytes / 48_000).toBeCloseTo((text.length * 0.06) / 2, 6);
    const pcm = await openai.audio.speech.create({ model: "mock-tts", input: text, voice: "nova", speed: 2, response_format: "pcm" });
    expect(pcm.headers.get("content-type")).toBe("audio/pcm");
    const raw = new Uint8Array(await pcm.arrayBuffer());
    expect(raw).toEqual(wav.subarray(wav.length - raw.length));
  });

  test("a format the mock cannot produce is a 400 naming response_format, before any hold", async () => {
    const before = await balance();
    const error = await openai.audio.speech.create({ model: "mock-tts", input: "hi", voice: "alloy", response_format: "mp3" }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("response_format");
    expect(error.message).toContain("wav or pcm");
    expect(await balance()).toBe(before);
  });

  test("an OpenAI-compatible speech server: the request is passed on, its bytes come back as they are", async () => {
    const response = await openai.audio.speech.create({ model: "up-tts", input: "pass me through", voice: "echo", response_format: "mp3", speed: 1.25, instructions: "calmly" });
    expect(response.headers.get("content-type")).toBe("audio/mpeg");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect(bytes).toEqual(upstream.lastSpeech!);
    expect(upstream.requests.at(-1)).toMatchObject({ path: "/v1/audio/speech", authorization: "Bearer upstream-media-key", body: { model: "tts-1", input: "pass me through", voice: "echo", response_format: "mp3", speed: 1.25, instructions: "calmly" } });
    const exec = await execution(response.headers.get("x-execution-id")!);
    expect(micros(exec.cost)).toBe(Math.ceil("pass me through".length * 30));
  });
});

describe("transcriptions and translations", () => {
  let spoken: Uint8Array;
  const text = "The fox runs. It is quick!";
  beforeAll(async () => {
    spoken = new Uint8Array(await (await openai.audio.speech.create({ model: "mock-tts", input: text, voice: "alloy" })).arrayBuffer());
  });
  const file = (bytes: Uint8Array, name = "speech.wav") => toFile(bytes, name, { type: "audio/wav" });

  test("json: a WAV the mock spoke comes back word for word, charged per second of audio", async () => {
    const before = await balance();
    const transcript = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken) });
    expect(transcript.text).toBe(text);
    const seconds = text.length * 0.06;
    expect(transcript.usage).toEqual({ type: "duration", seconds: Math.round(seconds * 1000) / 1000 });
    const exec = await latestOf("mock-transcribe");
    expect(exec).toMatchObject({ status: "COMPLETED", usage: { seconds: Math.round(seconds * 1000) / 1000 } });
    // $0.0001 a second.
    expect(micros(exec.cost)).toBe(156); // 1.56 s at $0.0001 a second
    expect(micros(before) - micros(await balance())).toBe(micros(exec.cost));
    // The upload is the execution's input: a file of the organization.
    const stored = await (await server.get(`/v1/files/${exec.input.file}`)).json();
    expect(stored).toMatchObject({ content_type: "audio/wav", size_bytes: spoken.length, filename: "speech.wav" });
  });

  test("a recording the mock did not speak is described from its header", async () => {
    const transcript = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(silence(2), "silence.wav") });
    expect(transcript.text).toBe("A 2.00-second WAV recording: 16000 Hz, mono, 16-bit.");
  });

  test("text, srt and vtt answer text/plain; verbose_json has segments and words", async () => {
    const plain = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken), response_format: "text" });
    expect(plain as unknown as string).toBe(`${text}\n`);
    const srt = (await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken), response_format: "srt" })) as unknown as string;
    expect(srt).toBe("1\n00:00:00,000 --> 00:00:00,780\nThe fox runs.\n\n2\n00:00:00,780 --> 00:00:01,560\nIt is quick!\n");
    const vtt = (await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken), response_format: "vtt" })) as unknown as string;
    expect(vtt).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:00.780\nThe fox runs.\n\n00:00:00.780 --> 00:00:01.560\nIt is quick!\n");
    const verbose = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken), response_format: "verbose_json", timestamp_granularities: ["word", "segment"], language: "en" });
    expect(verbose).toMatchObject({ task: "transcribe", language: "en", duration: 1.56, text });
    expect(verbose.segments!.map((s) => [s.id, s.start, s.end, s.text])).toEqual([[0, 0, 0.78, "The fox runs."], [1, 0.78, 1.56, "It is quick!"]]);
    expect(verbose.words!.map((w) => w.word)).toEqual(["The", "fox", "runs", "It", "is", "quick"]);
    expect(verbose.words![1]).toEqual({ word: "fox", start: 0.24, end: 0.42 });
  });

  test("translations: the text in English, task translate", async () => {
    const translation = await openai.audio.translations.create({ model: "mock-transcribe", file: await file(spoken), response_format: "verbose_json" });
    expect(translation).toMatchObject({ task: "translate", language: "english", text });
    const exec = await latestOf("mock-transcribe");
    expect(exec.input.translate).toBe(true);
  });

  test("an OpenAI-compatible transcription server gets the file and fields as multipart", async () => {
    const transcript = await openai.audio.transcriptions.create({ model: "up-whisper", file: await file(silence(3), "meeting.wav"), language: "fr", prompt: "a meeting", temperature: 0.2, response_format: "verbose_json" });
    const sent = upstream.requests.at(-1)!;
    expect(sent.path).toBe("/v1/audio/transcriptions");
    expect(sent.form).toMatchObject({ model: "whisper-1", language: "fr", prompt: "a meeting", temperature: "0.2", response_format: "verbose_json", "timestamp_granularities[]": "segment" });
    // Named by its real type: servers read the format from the file name.
    expect(sent.files.file).toMatchObject({ name: "audio.wav", bytes: silence(3).length });
    expect(sent.files.file!.type).toMatch(/^audio\/(x-)?wav$/);
    expect(transcript).toMatchObject({ text: "Bonjour à tous.", language: "french", duration: 3 });
    const exec = await latestOf("up-whisper");
    expect(exec.usage.seconds).toBe(3);
    expect(micros(exec.cost)).toBe(300);
    await openai.audio.translations.create({ model: "up-whisper", file: await file(silence(1)) });
    expect(upstream.requests.at(-1)!.path).toBe("/v1/audio/translations");
  });

  test("Idempotency-Key on a multipart body: a retry (a new boundary) replays the execution; other content is a 422", async () => {
    const headers = { "Idempotency-Key": `media-${Date.now()}` };
    const first = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken) }, { headers });
    const id = (await latestOf("mock-transcribe")).id;
    const before = await balance();
    const newestFile = async () => (await (await server.get("/v1/files?limit=1")).json()).data[0].id;
    const filesBefore = await newestFile();
    const again = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken) }, { headers });
    expect(again).toEqual(first);
    expect((await latestOf("mock-transcribe")).id).toBe(id);
    expect(await balance()).toBe(before);
    expect(await newestFile()).toBe(filesBefore); // the replay stored no second copy of the upload
    const other = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(silence(1)) }, { headers }).catch((e) => e);
    expect(other).toBeInstanceOf(OpenAI.UnprocessableEntityError);
  });

  test("a file that is not audio is refused naming file; an unknown field naming itself", async () => {
    const error = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await toFile(renderPng(8, 8, 1), "x.png", { type: "image/png" }) }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("file");
    const unknown = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await file(spoken), frobnicate: "1" } as never).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect(unknown.param).toBe("frobnicate");
  });
});

describe("image edits and variations", () => {
  const source = renderPng(32, 24, 7);
  /** A mask transparent on the left half, opaque on the right. */
  function halfMask(width: number, height: number): Uint8Array {
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) rgba[(y * width + x) * 4 + 3] = x < width / 2 ? 0 : 255;
    return encodePng(width, height, 4, rgba);
  }

  test("an edit with a mask changes only the transparent half; the result is a real PNG of the same size", async () => {
    const before = await balance();
    const result = await openai.images.edit({ model: "mock-image-edit", image: await toFile(source, "in.png", { type: "image/png" }), mask: await toFile(halfMask(32, 24), "mask.png", { type: "image/png" }), prompt: "make it night" });
    const edited = decodePng(Buffer.from(result.data![0]!.b64_json!, "base64"));
    const original = decodePng(source);
    expect([edited.width, edited.height]).toEqual([32, 24]);
    let changedLeft = 0;
    for (let y = 0; y < 24; y++)
      for (let x = 0; x < 32; x++) {
        const p = (y * 32 + x) * 4;
        const same = [0, 1, 2].every((c) => edited.rgba[p + c] === original.rgba[p + c]);
        if (x >= 16) expect(same).toBe(true);
        else if (!same) changedLeft++;
      }
    expect(changedLeft).toBeGreaterThan(16 * 24 * 0.9);
    const exec = await latestOf("mock-image-edit");
    expect(exec).toMatchObject({ status: "COMPLETED", usage: { images: 1 }, cost: "0.020" });
    expect(micros(before) - micros(await balance())).toBe(20_000);
  });

  test("n and size: two edits at another size, as links", async () => {
    const result = await openai.images.edit({ model: "mock-image-edit", image: await toFile(source, "in.png", { type: "image/png" }), prompt: "brighter", n: 2, size: "64x48" as never, response_format: "url" });
    expect(result.data).toHaveLength(2);
    const images = await Promise.all(result.data!.map(async (d) => decodePng(new Uint8Array(await (await fetch(d.url!)).arrayBuffer()))));
    expect(images.map((i) => [i.width, i.height])).toEqual([[64, 48], [64, 48]]);
    expect(images[0]!.rgba).not.toEqual(images[1]!.rgba);
    expect((await latestOf("mock-image-edit")).cost).toBe("0.040");
  });

  test("a mask of another size fails the edit as a 400; n over the model's maximum names n", async () => {
    const mismatch = await openai.images.edit({ model: "mock-image-edit", image: await toFile(source, "in.png", { type: "image/png" }), mask: await toFile(halfMask(8, 8), "mask.png", { type: "image/png" }), prompt: "x" }).catch((e) => e);
    expect(mismatch).toBeInstanceOf(OpenAI.BadRequestError);
    expect(mismatch.message).toContain("same size");
    const tooMany = await openai.images.edit({ model: "mock-image-edit", image: await toFile(source, "in.png", { type: "image/png" }), prompt: "x", n: 9 }).catch((e) => e);
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooMany.param).toBe("n");
  });

  test("variations: each one a different recolouring of the same PNG", async () => {
    const result = await openai.images.createVariation({ model: "mock-image-variation", image: await toFile(source, "in.png", { type: "image/png" }), n: 2 });
    const [a, b] = result.data!.map((d) => decodePng(Buffer.from(d.b64_json!, "base64")));
    const original = decodePng(source);
    expect([a!.width, a!.height]).toEqual([32, 24]);
    expect(a!.rgba).not.toEqual(original.rgba);
    expect(a!.rgba).not.toEqual(b!.rgba);
    expect((await latestOf("mock-image-variation")).cost).toBe("0.040");
  });
});

describe("moderations", () => {
  test("a text: OpenAI's shape, violence flagged from the word list, charged per request", async () => {
    const before = await balance();
    const result = await openai.moderations.create({ model: "mock-moderation", input: "I will kill you" });
    expect(result.id).toStartWith("exec_");
    expect(result.model).toBe("mock-moderation");
    expect(result.results).toHaveLength(1);
    const r = result.results[0]!;
    expect(r.flagged).toBe(true);
    expect(r.categories.violence).toBe(true);
    expect(r.category_scores.violence).toBe(0.7);
    expect(r.categories.harassment).toBe(false);
    expect(r.category_applied_input_types.violence).toEqual(["text"]);
    expect(Object.keys(r.category_scores)).toHaveLength(13);
    const exec = await execution(result.id);
    expect(exec.cost).toBe("0.0001");
    expect(micros(before) - micros(await balance())).toBe(100);
  });

  test("an array: one result per string, in order; the model defaults to the catalog's moderation model", async () => {
    const result = await openai.moderations.create({ input: ["a lovely day", "murder and gore", "you idiot"] } as never);
    expect(result.model).toBe("mock-moderation");
    expect(result.results.map((r) => r.flagged)).toEqual([false, true, true]);
    expect(result.results[1]!.categories["violence/graphic"]).toBe(true);
    expect(result.results[2]!.categories.harassment).toBe(true);
  });

  test("text and image parts: one result; image-applicable categories say image", async () => {
    const result = await openai.moderations.create({
      model: "mock-moderation",
      input: [
        { type: "text", text: "a stab at it" },
        { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
      ],
    });
    expect(result.results).toHaveLength(1);
    expect(result.results[0]!.categories.violence).toBe(true);
    expect(result.results[0]!.category_applied_input_types.violence).toEqual(["text", "image"]);
    expect(result.results[0]!.category_applied_input_types.harassment).toEqual(["text"]);
    const exec = await execution(result.id);
    expect(exec.input.input[1]).toEqual({ type: "image", url: "https://example.com/cat.png" });
  });
});

describe("rerank", () => {
  const rerank = (body: unknown, key: string | null = server.apiKey) =>
    fetch(`${server.url}/v1/rerank`, { method: "POST", headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });

  test("the mock ranks by word overlap; top_n and return_documents; charged per search", async () => {
    const before = await balance();
    const response = await rerank({ model: "mock-rerank", query: "red fox", documents: ["a red fox in the snow", { text: "a blue whale" }, "the fox den"], top_n: 2, return_documents: true });
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body.results).toEqual([
      { index: 0, relevance_score: 1, document: { text: "a red fox in the snow" } },
      { index: 2, relevance_score: 0.5, document: { text: "the fox den" } },
    ]);
    const exec = await execution(body.id);
    expect(exec).toMatchObject({ status: "COMPLETED", model: "mock-rerank", metadata: { dialect: "rerank" }, cost: "0.002" });
    expect(micros(before) - micros(await balance())).toBe(2_000);
  });

  test("a Cohere-style rerank server: the query passes through, its results and tokens come back", async () => {
    const response = await rerank({ model: "up-rerank", query: "capital of France", documents: ["Paris is the capital", "Berlin"], top_n: 1 });
    const body = await response.json();
    expect(upstream.requests.at(-1)).toMatchObject({ path: "/v1/rerank", body: { model: "rerank-v3", query: "capital of France", documents: ["Paris is the capital", "Berlin"], top_n: 1 } });
    expect(body.results).toEqual([{ index: 0, relevance_score: 0.9 }]);
    const exec = await execution(body.id);
    expect(exec.usage).toMatchObject({ input_tokens: 42 });
    expect(micros(exec.cost)).toBe(Math.ceil((42 * 50_000) / 1_000_000));
  });

  test("errors in OpenAI's shape: bad body 400 with param, unknown model 404", async () => {
    const bad = await rerank({ model: "mock-rerank", query: "q", documents: [] });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatchObject({ param: "documents", type: "invalid_request_error" });
    const missing = await rerank({ model: "nope", query: "q", documents: ["d"] });
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("model_not_found");
  });
});

describe("errors as the SDK's classes", () => {
  test("401 without a valid key, 402 without balance, 404 for an unknown model, 400 for a model of another task", async () => {
    const stranger = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "mr_live_wrong", maxRetries: 0 });
    expect(await stranger.moderations.create({ model: "mock-moderation", input: "x" }).catch((e) => e)).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(await stranger.audio.transcriptions.create({ model: "mock-transcribe", file: await toFile(silence(1), "a.wav") }).catch((e) => e)).toBeInstanceOf(OpenAI.AuthenticationError);

    const broke = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.newOrgKey({ creditMicros: 0 }).key, maxRetries: 0 });
    const poor = await broke.audio.speech.create({ model: "mock-tts", input: "hello", voice: "alloy" }).catch((e) => e);
    expect(poor).toBeInstanceOf(OpenAI.APIError);
    expect(poor.status).toBe(402);
    expect(poor.code).toBe("insufficient_quota");

    const unknown = await openai.audio.speech.create({ model: "no-such-voice", input: "hello", voice: "alloy" }).catch((e) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown.code).toBe("model_not_found");
    const wrongTask = await openai.moderations.create({ model: "mock-chat", input: "hello" }).catch((e) => e);
    expect(wrongTask).toBeInstanceOf(OpenAI.BadRequestError);
    expect(wrongTask.param).toBe("model");
  });

  test("a transcription's hold is bounded by the file's size, not the route's timeout", async () => {
    // 30 s of 16 kHz WAV: held as at most 121 s (8,000 bytes a second) at $0.0001, $0.0121; the timeout (60 s) would hold $0.006.
    const { key } = server.newOrgKey({ creditMicros: 10_000 });
    const small = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: key, maxRetries: 0 });
    const error = await small.audio.transcriptions.create({ model: "mock-transcribe", file: await toFile(silence(30), "long.wav") }).catch((e) => e);
    expect(error.status).toBe(402);
    expect(error.message).toContain("0.0121");
    const short = await small.audio.transcriptions.create({ model: "mock-transcribe", file: await toFile(silence(5), "short.wav") });
    expect(short.usage).toEqual({ type: "duration", seconds: 5 });
  });

  test("a multipart body past 25 MB is a 413 in OpenAI's shape", async () => {
    const error = await openai.audio.transcriptions.create({ model: "mock-transcribe", file: await toFile(new Uint8Array(26 * 1024 * 1024), "big.wav") }).catch((e) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error.status).toBe(413);
  });
});

test("GET /v1/models lists each new model with its task, and the SDK reads the list", async () => {
  const models = [];
  for await (const model of openai.models.list()) models.push(model as OpenAI.Models.Model & { task: string });
  const tasks = Object.fromEntries(models.map((m) => [m.id, m.task]));
  expect(tasks).toMatchObject({
    "mock-tts": "text-to-speech", "mock-transcribe": "speech-to-text", "mock-image-edit": "image-edit", "mock-image-variation": "image-variation",
    "mock-moderation": "moderation", "mock-rerank": "rerank", "up-rerank": "rerank",
  });
});

test("the WAV reader agrees with the header: duration and the comment the mock wrote", async () => {
  const bytes = new Uint8Array(await (await openai.audio.speech.create({ model: "mock-tts", input: "read me", voice: "alloy" })).arrayBuffer());
  expect(parseWav(bytes)).toMatchObject({ sampleRate: 24_000, channels: 1, comment: "read me", durationSeconds: 7 * 0.06 });
});
