/**
 * A fake Gemini API upstream for tests: a real HTTP server (node:http) on 127.0.0.1, random free
 * port, speaking Google's Generative Language wire format (v1beta) as `@google/genai` and the REST
 * docs describe it, with faults Google's servers show. Written from the public API reference, not
 * from the gateway's adapter.
 *
 *   const fake = await startFakeGemini({ apiKeys: ["k"] });   // apiKeys optional: omit to accept any key
 *   fake.url                  // "http://127.0.0.1:<port>/v1beta"
 *   fake.next({ status: 429, retryDelay: "1s" }, { reply: { text: "hi" } });
 *   fake.always({ delayMs: 50 }); fake.always(null);
 *   fake.requests             // [{ method, path, query, headers (lower-case names), body }] in arrival order
 *   await fake.stop();
 *
 * Endpoints (model = the path segment after /v1beta/models/, up to the last ":")
 *   POST …/models/{model}:generateContent        a GenerateContentResponse
 *   POST …/models/{model}:streamGenerateContent  with ?alt=sse `data: {chunk}\r\n\r\n` events; without, a JSON
 *                                                array `[{chunk},\r\n{chunk}]` (Google's default)
 *   POST …/models/{model}:countTokens            {totalTokens}: words of the text parts
 *   POST …/models/{model}:embedContent           {embedding: {values}}; 8 dims, or outputDimensionality
 *   POST …/models/{model}:batchEmbedContents     {embeddings: [{values}]}; each request's `model` must be models/{model}
 *   GET  /v1beta/models, GET /v1beta/models/{model}
 *   anything else                                404 NOT_FOUND
 *
 * Keys: `x-goog-api-key` or `?key=`. None: 403 PERMISSION_DENIED; a wrong one: 400 INVALID_ARGUMENT
 *   "API key not valid" with an ErrorInfo detail of reason API_KEY_INVALID, as Google answers it.
 *
 * Default answer: text "This is a fake Gemini reply to: <first 8 words of the last user text>.",
 *   finishReason STOP; usage promptTokenCount = words of every text part (systemInstruction too),
 *   candidatesTokenCount = words of the text and of each function call's name and JSON args,
 *   totalTokenCount = their sum (+ thoughtsTokenCount). `generationConfig.maxOutputTokens` cuts the
 *   default text to that many words with finishReason MAX_TOKENS.
 *
 * Streams: one chunk per word of the thought (only with thinkingConfig.includeThoughts, parts with
 *   `thought: true`), one per word of the text (words keep their leading space), one per function call
 *   (whole: Gemini never splits arguments); the last content chunk also carries finishReason and the
 *   full usageMetadata (earlier chunks carry only promptTokenCount). `reply.thoughtSignature` goes on the
 *   first function-call part, else on the last text part. Every chunk has modelVersion and responseId.
 *
 * Behaviours: each request takes the first queued `next` one, else the `always` one, else the healthy
 *   default. Order: record -> delayMs -> reset | hang -> key check -> status -> endpoint. A `status`
 *   answers Google's error body for it (429 with a RetryInfo of `retryDelay`, when given). Streams:
 *   `cutAfterChunks` sends N content chunks then destroys the socket; `stallAfterChunks` sends N then
 *   nothing; `errorAfterChunks` sends N then `{"error":{code,message,status}}` and ends; `malformedChunk`
 *   sends a non-JSON event first.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { pieces, vector } from "./fake-openai";

export type GeminiRequest = { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: any };
export type GeminiReply = {
  text?: string;
  functionCalls?: { id?: string; name: string; args: Record<string, unknown> }[];
  thought?: string;
  thoughtSignature?: string;
  finishReason?: string;
  usage?: { promptTokenCount: number; candidatesTokenCount: number; cachedContentTokenCount?: number; thoughtsTokenCount?: number } | null;
  blockReason?: string;
};
export type GeminiBehaviour = {
  status?: number;
  errorBody?: unknown;
  retryDelay?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  reset?: boolean;
  hang?: boolean;
  reply?: GeminiReply;
  cutAfterChunks?: number;
  stallAfterChunks?: number;
  errorAfterChunks?: { after: number; code: number; message: string; status: string };
  malformedChunk?: boolean;
  chunkDelayMs?: number;
};
export type FakeGemini = {
  url: string;
  requests: GeminiRequest[];
  next(...behaviours: GeminiBehaviour[]): void;
  always(behaviour: GeminiBehaviour | null): void;
  stop(): Promise<void>;
};

export const FAKE_GEMINI_MODELS = ["gemini-2.0-flash", "gemini-2.5-pro", "text-embedding-004"];
const CUT_SETTLE_MS = 30;

type Json = Record<string, any>;
const words = (s: string) => s.split(/\s+/).filter(Boolean);
const STATUS: Record<number, string> = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED" };
const MESSAGES: Record<number, string> = {
  400: "Request contains an invalid argument.",
  403: "The caller does not have permission",
  429: "You exceeded your current quota, please check your plan and billing details.",
  500: "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  503: "The model is overloaded. Please try again later.",
  504: "Deadline expired before operation could complete.",
};

export function googleError(code: number, message?: string, details?: unknown[]): Json {
  return { error: { code, message: message ?? MESSAGES[code] ?? `Request failed with status ${code}.`, status: STATUS[code] ?? (code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"), ...(details ? { details } : {}) } };
}

const textsOf = (content: any): string[] => (Array.isArray(content?.parts) ? content.parts.flatMap((p: any) => (typeof p?.text === "string" && !p.thought ? [p.text] : [])) : []);

export async function startFakeGemini(opts: { apiKeys?: string[] } = {}): Promise<FakeGemini> {
  const queue: GeminiBehaviour[] = [];
  let standing: GeminiBehaviour | null = null;
  let stopped = false;
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = { timer: setTimeout(() => (timers.delete(entry), resolve()), ms), resolve };
      timers.add(entry);
    });

  const fake: FakeGemini = {
    url: "",
    requests: [],
    next: (...behaviours) => void queue.push(...behaviours),
    always: (behaviour) => void (standing = behaviour),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const entry of timers) (clearTimeout(entry.timer), entry.resolve());
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };

  const gone = (res: ServerResponse) => stopped || res.destroyed || res.writableEnded || !!res.socket?.destroyed;
  function sendJson(res: ServerResponse, status: number, body: unknown) {
    if (gone(res)) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8", "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  }
  const write = (res: ServerResponse, data: string) => new Promise<void>((resolve) => (gone(res) ? resolve() : res.write(data, () => resolve())));

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent || res.destroyed) return void req.socket.destroy();
      sendJson(res, 500, googleError(500, `fake-gemini crashed: ${error?.message ?? error}`));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: any = null;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    const method = req.method ?? "GET";
    fake.requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body });

    const behaviour: GeminiBehaviour = queue.shift() ?? standing ?? {};
    for (const [name, value] of Object.entries(behaviour.headers ?? {})) res.setHeader(name, value);
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (gone(res)) return;
    if (behaviour.reset) return void req.socket.destroy();
    if (behaviour.hang) return;

    const key = headers["x-goog-api-key"] ?? url.searchParams.get("key") ?? "";
    if (opts.apiKeys) {
      if (!key) return sendJson(res, 403, googleError(403, "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
      if (!opts.apiKeys.includes(key))
        return sendJson(res, 400, googleError(400, "API key not valid. Please pass a valid API key.", [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com", metadata: { service: "generativelanguage.googleapis.com" } }]));
    }
    if (behaviour.status && behaviour.status >= 400) {
      const details = behaviour.status === 429 && behaviour.retryDelay ? [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: behaviour.retryDelay }] : undefined;
      return sendJson(res, behaviour.status, behaviour.errorBody ?? googleError(behaviour.status, undefined, details));
    }

    const prefix = "/v1beta/models";
    if (method === "GET" && (url.pathname === prefix || url.pathname === `${prefix}/`))
      return sendJson(res, 200, { models: FAKE_GEMINI_MODELS.map(modelObject) });
    if (!url.pathname.startsWith(`${prefix}/`)) return sendJson(res, 404, googleError(404, `The requested URL ${url.pathname} was not found on this server.`));
    const target = decodeURIComponent(url.pathname.slice(prefix.length + 1));
    if (method === "GET") {
      if (!FAKE_GEMINI_MODELS.includes(target)) return sendJson(res, 404, googleError(404, `models/${target} is not found for API version v1beta`));
      return sendJson(res, 200, modelObject(target));
    }
    const colon = target.lastIndexOf(":");
    const model = target.slice(0, colon);
    const action = target.slice(colon + 1);
    if (method !== "POST" || colon <= 0) return sendJson(res, 404, googleError(404, `The requested URL ${url.pathname} was not found on this server.`));
    if (typeof body !== "object" || body === null || Array.isArray(body)) return sendJson(res, 400, googleError(400, "Invalid JSON payload received."));
    switch (action) {
      case "generateContent":
        return generate(req, res, body, model, behaviour, null);
      case "streamGenerateContent":
        return generate(req, res, body, model, behaviour, url.searchParams.get("alt") === "sse" ? "sse" : "array");
      case "countTokens":
        return sendJson(res, 200, { totalTokens: promptWords(body.generateContentRequest ?? body) });
      case "embedContent":
        return sendJson(res, 200, { embedding: { values: embed(body) } });
      case "batchEmbedContents": {
        const requests = Array.isArray(body.requests) ? body.requests : [];
        const stray = requests.find((r: any) => r?.model !== `models/${model}`);
        if (requests.length === 0 || stray) return sendJson(res, 400, googleError(400, `* BatchEmbedContentsRequest.model: unexpected model name format\n* BatchEmbedContentsRequest.requests[0].model: must be models/${model}`));
        return sendJson(res, 200, { embeddings: requests.map((r: any) => ({ values: embed(r) })) });
      }
      default:
        return sendJson(res, 404, googleError(404, `The requested URL ${url.pathname} was not found on this server.`));
    }
  }

  const modelObject = (id: string) => ({
    name: `models/${id}`,
    version: "001",
    displayName: id,
    description: `Fake ${id}`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 8192,
    supportedGenerationMethods: id.includes("embedding") ? ["embedContent"] : ["generateContent", "countTokens"],
  });

  function promptWords(body: Json): number {
    const texts = [...textsOf(body.systemInstruction ?? body.system_instruction), ...(Array.isArray(body.contents) ? body.contents.flatMap(textsOf) : [])];
    return texts.reduce((n, t) => n + words(t).length, 0);
  }

  function embed(request: Json): number[] {
    const text = textsOf(request?.content).join(" ");
    const dims = typeof request?.outputDimensionality === "number" ? request.outputDimensionality : 8;
    return vector(text, dims);
  }

  async function generate(req: IncomingMessage, res: ServerResponse, body: Json, model: string, behaviour: GeminiBehaviour, stream: "sse" | "array" | null) {
    if (!Array.isArray(body.contents) || body.contents.length === 0) return sendJson(res, 400, googleError(400, "* GenerateContentRequest.contents: contents is not specified"));
    const reply = behaviour.reply ?? {};
    const responseId = randomBytes(12).toString("base64url");
    const prompt = reply.usage?.promptTokenCount ?? promptWords(body);
    if (reply.blockReason) return sendJson(res, 200, { promptFeedback: { blockReason: reply.blockReason }, usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt }, modelVersion: model, responseId });

    const lastUser = [...body.contents].reverse().find((c: any) => (c?.role ?? "user") === "user" && textsOf(c).length);
    const userWords = words(textsOf(lastUser).join(" ")).slice(0, 8);
    let text = reply.text;
    let finishReason = reply.finishReason ?? "STOP";
    if (text === undefined && !reply.functionCalls?.length) {
      text = userWords.length ? `This is a fake Gemini reply to: ${userWords.join(" ")}.` : "This is a fake Gemini reply.";
      const max = body.generationConfig?.maxOutputTokens;
      const p = pieces(text);
      if (typeof max === "number" && p.length > max) {
        text = p.slice(0, max).join("").trimEnd();
        finishReason = reply.finishReason ?? "MAX_TOKENS";
      }
    }
    const includeThoughts = body.generationConfig?.thinkingConfig?.includeThoughts === true;
    const calls = (reply.functionCalls ?? []).map((c) => ({ functionCall: { ...(c.id ? { id: c.id } : {}), name: c.name, args: c.args } }));
    const candidates = words(text ?? "").length + calls.reduce((n, c) => n + words(c.functionCall.name).length + words(JSON.stringify(c.functionCall.args)).length, 0);
    const thoughts = reply.thought ? words(reply.thought).length : 0;
    const usage =
      reply.usage === null
        ? undefined
        : { promptTokenCount: prompt, candidatesTokenCount: reply.usage?.candidatesTokenCount ?? candidates, totalTokenCount: prompt + (reply.usage?.candidatesTokenCount ?? candidates) + (reply.usage?.thoughtsTokenCount ?? thoughts), ...(reply.usage?.cachedContentTokenCount ? { cachedContentTokenCount: reply.usage.cachedContentTokenCount } : {}), ...((reply.usage?.thoughtsTokenCount ?? thoughts) ? { thoughtsTokenCount: reply.usage?.thoughtsTokenCount ?? thoughts } : {}) };

    const thoughtParts = reply.thought && includeThoughts ? pieces(reply.thought).map((t) => ({ text: t, thought: true })) : [];
    const textParts: Json[] = text ? (stream ? pieces(text) : [text]).map((t) => ({ text: t })) : [];
    if (reply.thoughtSignature) {
      const target = calls[0] ?? textParts.at(-1);
      if (target) (target as Json).thoughtSignature = reply.thoughtSignature;
    }
    const parts: Json[] = [...thoughtParts, ...textParts, ...calls];
    const envelope = (candidate: Json, usageMetadata: Json | undefined) => ({ candidates: [{ ...candidate, index: 0 }], ...(usageMetadata ? { usageMetadata } : {}), modelVersion: model, responseId });

    if (!stream) return sendJson(res, 200, envelope({ content: { role: "model", parts }, finishReason }, usage));

    res.writeHead(200, { "content-type": stream === "sse" ? "text/event-stream" : "application/json; charset=UTF-8", "cache-control": "no-cache" });
    res.flushHeaders();
    let sent = 0;
    const send = async (payload: unknown | string) => {
      if (sent > 0 && behaviour.chunkDelayMs) await sleep(behaviour.chunkDelayMs);
      const json = typeof payload === "string" ? payload : JSON.stringify(payload);
      await write(res, stream === "sse" ? `data: ${json}\r\n\r\n` : `${sent === 0 ? "[" : ",\r\n"}${json}`);
      sent++;
    };
    const end = async () => {
      if (stream === "array") await write(res, sent === 0 ? "[]" : "]");
      if (!gone(res)) res.end();
    };
    if (behaviour.malformedChunk) await send('{"candidates": [{"content": ');
    const earlyUsage = usage ? { promptTokenCount: prompt, totalTokenCount: prompt } : undefined;
    const n = Math.max(parts.length, 1);
    for (let i = 0; i < n; i++) {
      if (gone(res)) return;
      if (behaviour.cutAfterChunks !== undefined && i === behaviour.cutAfterChunks) {
        await sleep(CUT_SETTLE_MS);
        return void req.socket.destroy();
      }
      if (behaviour.stallAfterChunks !== undefined && i === behaviour.stallAfterChunks) return;
      const e = behaviour.errorAfterChunks;
      if (e && i === e.after) {
        await send({ error: { code: e.code, message: e.message, status: e.status } });
        return end();
      }
      const last = i === n - 1;
      const candidate: Json = parts[i] ? { content: { role: "model", parts: [parts[i]] } } : {};
      await send(envelope(last ? { ...candidate, finishReason } : candidate, last ? usage : earlyUsage));
    }
    return end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  fake.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/v1beta`;
  return fake;
}
