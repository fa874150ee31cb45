/**
 * A fake OpenAI-compatible media server for tests: a real HTTP server (node:http) on 127.0.0.1,
 * random free port, answering as OpenAI's audio endpoints and Cohere/Jina-style rerank servers
 * do, written from their public API references.
 *
 *   const fake = await startFakeMedia({ apiKey: "k" });   // apiKey optional: omit to accept any
 *   fake.url            // "http://127.0.0.1:<port>/v1"
 *   fake.requests       // [{ method, path, authorization, body (JSON), form (text fields), files }]
 *   fake.lastSpeech     // the bytes the last speech answer carried
 *
 * Endpoints
 *   POST /v1/audio/speech          JSON in; bytes out, Content-Type by response_format (mp3 → audio/mpeg,
 *                                  wav → audio/wav, opus → audio/ogg, aac → audio/aac, flac → audio/flac,
 *                                  pcm → audio/pcm): an ID3 tag then bytes drawn from the input text
 *   POST /v1/audio/transcriptions  multipart in; "Bonjour à tous." in French. The duration is a WAV's
 *                                  (data bytes / byte rate), else 1 s. json: {text, usage: {type: "duration",
 *                                  seconds}}; verbose_json: {task, language, duration, text, segments: one whole
 *                                  segment with Whisper's fields}; text: the text and a newline
 *   POST /v1/audio/translations    the same, "Hello everyone." in English, task "translate"
 *   POST /v1/rerank                {results: [{index, relevance_score}]}: 0.9, 0.1, 0.05, … in input order,
 *                                  `top_n` of them; meta.billed_units.search_units 1 (Cohere) and
 *                                  usage.total_tokens 42 (Jina)
 *   anything else                  404 {"error": {...}}; a wrong key: 401 invalid_api_key
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

export type MediaRequest = {
  method: string;
  path: string;
  authorization: string | undefined;
  body: any;
  form: Record<string, string>;
  files: Record<string, { name: string; bytes: number; type: string }>;
};

export type FakeMedia = { url: string; requests: MediaRequest[]; lastSpeech: Uint8Array | null; stop(): Promise<void> };

const SPEECH_TYPES: Record<string, string> = { mp3: "audio/mpeg", wav: "audio/wav", opus: "audio/ogg", aac: "audio/aac", flac: "audio/flac", pcm: "audio/pcm" };

function wavSeconds(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 44 || String.fromCharCode(...bytes.subarray(8, 12)) !== "WAVE") return 1;
  return v.getUint32(40, true) / v.getUint32(28, true);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

export async function startFakeMedia(opts: { apiKey?: string } = {}): Promise<FakeMedia> {
  const fake: FakeMedia = { url: "", requests: [], lastSpeech: null, stop: async () => {} };
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const contentType = req.headers["content-type"] ?? "";
    const recorded: MediaRequest = { method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, body: null, form: {}, files: {} };
    if (contentType.startsWith("multipart/form-data")) {
      const form = await new Request("http://fake/", { method: "POST", headers: { "content-type": contentType }, body: raw }).formData();
      for (const [name, value] of form as unknown as Iterable<[string, string | File]>) {
        if (typeof value === "string") recorded.form[name] = value;
        else recorded.files[name] = { name: value.name, bytes: value.size, type: value.type };
      }
      const file = form.get("file");
      (recorded as { audio?: Uint8Array }).audio = file && typeof file !== "string" ? new Uint8Array(await file.arrayBuffer()) : undefined;
    } else if (raw.length) recorded.body = JSON.parse(raw.toString("utf8"));
    fake.requests.push(recorded);
    if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`)
      return json(res, 401, { error: { message: "Incorrect API key provided.", type: "invalid_request_error", param: null, code: "invalid_api_key" } });

    if (recorded.path === "/v1/audio/speech") {
      const format = recorded.body.response_format ?? "mp3";
      const tail = new TextEncoder().encode(`speech of ${recorded.body.input} by ${recorded.body.voice}`);
      const bytes = new Uint8Array([0x49, 0x44, 0x33, 0x04, 0, 0, 0, 0, 0, 0, ...tail]);
      fake.lastSpeech = bytes;
      res.writeHead(200, { "content-type": SPEECH_TYPES[format] ?? "application/octet-stream", "content-length": String(bytes.length) });
      return res.end(bytes);
    }
    if (recorded.path === "/v1/audio/transcriptions" || recorded.path === "/v1/audio/translations") {
      const translate = recorded.path.endsWith("translations");
      const text = translate ? "Hello everyone." : "Bonjour à tous.";
      const duration = wavSeconds((recorded as { audio?: Uint8Array }).audio ?? new Uint8Array());
      const format = recorded.form.response_format ?? "json";
      if (format === "text") {
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        return res.end(`${text}\n`);
      }
      if (format === "verbose_json")
        return json(res, 200, {
          task: translate ? "translate" : "transcribe",
          language: translate ? "english" : "french",
          duration,
          text,
          segments: [{ id: 0, seek: 0, start: 0, end: duration, text, tokens: [50364, 1234], temperature: 0, avg_logprob: -0.2, compression_ratio: 0.8, no_speech_prob: 0.01 }],
        });
      return json(res, 200, { text, usage: { type: "duration", seconds: Math.ceil(duration) } });
    }
    if (recorded.path === "/v1/rerank") {
      const documents = recorded.body.documents as unknown[];
      const scores = documents.map((_, index) => ({ index, relevance_score: index === 0 ? 0.9 : index === 1 ? 0.1 : 0.05 / index }));
      return json(res, 200, { id: "rr-1", results: scores.slice(0, recorded.body.top_n ?? documents.length), meta: { billed_units: { search_units: 1 } }, usage: { total_tokens: 42 } });
    }
    json(res, 404, { error: { message: `Invalid URL (${recorded.method} ${recorded.path})`, type: "invalid_request_error", param: null, code: null } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  fake.url = `http://127.0.0.1:${address.port}/v1`;
  fake.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return fake;
}
