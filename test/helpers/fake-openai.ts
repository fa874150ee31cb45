/**
 * A fake OpenAI-compatible upstream for tests: a real HTTP server (node:http) on 127.0.0.1, random
 * free port, speaking the OpenAI wire format as the official `openai` SDK parses it, with faults
 * that real servers (OpenAI, vLLM, Ollama, llama.cpp) show. Written from the public API docs and
 * observed traffic, not from the gateway's own adapter code.
 *
 *   const fake = await startFakeOpenAI({ apiKeys: ["k"] });   // apiKeys optional: omit to accept any key
 *   fake.url                  // "http://127.0.0.1:<port>/v1"
 *   fake.next({ status: 429, headers: { "retry-after": "2" } }, { reply: { text: "hi" } });
 *   fake.always({ delayMs: 50 }); fake.always(null);
 *   startFakeOpenAI({ byModel: (model, nth) => ... })   // a scenario per model name (see FakeOpenAIOptions)
 *   fake.requests             // [{ method, path, headers (lower-case names), body }] in arrival order
 *   await fake.stop();        // closes the server, destroys hanging/stalled connections
 *
 * Endpoints
 *   POST /v1/chat/completions  non-stream ("chat.completion") and `stream: true` (SSE "chat.completion.chunk")
 *   POST /v1/completions       legacy text completions ("text_completion"), non-stream and stream; a string
 *                              or string[] prompt (n choices per prompt); max_tokens defaults to 16 as on OpenAI
 *   POST /v1/embeddings        deterministic vectors (8 dims, or `dimensions`); `encoding_format: "base64"`
 *                              answers base64 of little-endian float32 (values are float32-exact, so a
 *                              decoded base64 answer equals the float answer)
 *   POST /v1/images/generations `n` 1x1 PNGs as `b64_json`, or `url` (with `response_format: "url"`)
 *                              pointing at GET /files/<name>.png on this server
 *   GET  /v1/models, GET /v1/models/<id>
 *   anything else              404 `Invalid URL (METHOD /path)`; a non-JSON body on a POST: 400
 *
 * Default answers
 *   Text: "This is a fake reply to: <first 8 words of the last user message>." (completions: "... fake
 *   completion of: <prompt words>."). With `reply.toolCalls` and no `reply.text`, content is null.
 *   Usage: prompt_tokens = whitespace-separated words in all message text contents (string contents
 *   and `type: "text"` parts); completion_tokens = words of reasoning + text + each tool call's
 *   name and arguments (at least 1 per call), times `n`. `max_tokens`/`max_completion_tokens`
 *   truncate the *default* text to that many words and answer finish_reason "length" (an explicit
 *   `reply.text` is sent as given). finish_reason default: "tool_calls" with tool calls, else "stop".
 *   `prompt_tokens_details: { cached_tokens }` only when `reply.usage.cached_tokens` is given.
 *
 * Streams (chat): `data: {json}\n\n`, LF only, Content-Type text/event-stream. One id/created for
 *   every chunk. Chunk 1: delta { role: "assistant", content: "" } (the "role chunk"); then the
 *   "content chunks": one per word of `reasoning` (delta.reasoning_content), one per word of the
 *   text (delta.content; words keep their leading whitespace so the pieces concatenate to the text),
 *   and per tool call a head piece { index, id, type: "function", function: { name, arguments: "" } }
 *   followed by argument fragments (8 characters each) { index, function: { arguments } }; then a
 *   final chunk with delta {} and finish_reason; then, if `stream_options.include_usage` is true,
 *   a chunk with `choices: []` and `usage` (every other chunk then carries `usage: null`); then
 *   `data: [DONE]`. With `n` > 1 the choices' content chunks are interleaved.
 *
 * Behaviours: each request takes the first queued `next` behaviour, else its model's `byModel` one, else the `always` one, else the
 *   healthy default. Every request consumes one (also 401s, 404s and GET /v1/models), except
 *   GET /files/* (image downloads), which is never faulted nor authenticated. Order of effects:
 *   record request -> delayMs -> reset | hang -> API key check (401) -> status/errorBody -> endpoint.
 *   `headers` are added to whatever is answered. `cutAfterChunks`/`stallAfterChunks` count content
 *   chunks (not the role chunk); a count at or above the number of content chunks cuts/stalls just
 *   before the final chunk; a cut waits 30 ms after the last chunk before destroying the socket (a
 *   close that arrives in the same read makes Bun's fetch drop those bytes). `malformedChunk`
 *   inserts one non-JSON `data:` line before the middle content chunk. `ollamaToolQuirks` sends each tool call whole in one delta (id, type, name, full
 *   arguments), the first call without `index`, later calls with `index: 0` again (distinct ids).
 *   `errorAfterRole` sends the role chunk, then `data: {"error":{message,type:"server_error",param:null,
 *   code:null}}`, then closes cleanly (no [DONE]); for legacy completions the error is the first event.
 *
 * Errors: {"error":{"message","type","param","code"}}: 400/404/422 invalid_request_error (unknown
 *   model: 404 code model_not_found), 401 type invalid_request_error code invalid_api_key (as OpenAI
 *   really sends it), 403 request_forbidden, 429 type "requests" code rate_limit_exceeded,
 *   500/502/504 server_error, 503 server_error code "overloaded". Every response has `x-request-id`.
 *
 * Recorded `body`: parsed JSON when it parses, the raw text otherwise, null when empty.
 * Also exported: FAKE_MODELS (the ids GET /v1/models lists) and TINY_PNG (the image bytes served).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createHash, randomBytes } from "node:crypto";

export type RecordedRequest = { method: string; path: string; headers: Record<string, string>; body: any };
export type Reply = {
  text?: string; // assistant text (default: a deterministic sentence derived from the last user message)
  toolCalls?: { id?: string; name: string; arguments: string }[]; // arguments is a JSON string as OpenAI sends it
  finishReason?: "stop" | "length" | "tool_calls" | "content_filter";
  usage?: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number } | null; // null = report no usage at all
  reasoning?: string; // reasoning_content (as vLLM/DeepSeek send it), in the message and in deltas
};
export type Behaviour = {
  status?: number; // answer this HTTP status with an OpenAI error body {"error":{"message","type","param","code"}}
  errorBody?: unknown; // override that body
  headers?: Record<string, string>; // extra response headers (e.g. retry-after: "2", retry-after-ms, or an HTTP-date)
  delayMs?: number; // wait before answering (headers included)
  reset?: boolean; // destroy the connection without answering
  hang?: boolean; // accept and never answer (until stop())
  reply?: Reply;
  // streams only:
  cutAfterChunks?: number; // send N content chunks, then destroy the connection (no [DONE])
  stallAfterChunks?: number; // send N content chunks, then send nothing more (connection stays open)
  malformedChunk?: boolean; // one `data:` line whose payload is not JSON, in the middle
  noDone?: boolean; // end the stream cleanly but without `data: [DONE]`
  ollamaToolQuirks?: boolean; // tool calls whole, first without `index`, later ones with `index` 0 again
  errorAfterRole?: { message: string }; // the role-only first chunk, then an error chunk {"error":{...}}, then close
  chunkDelayMs?: number; // wait between chunks
  keepAliveComments?: boolean; // `: keep-alive` SSE comment lines between chunks
  noRoleInFirstChunk?: boolean; // first delta without `role`
};
export type FakeOpenAI = {
  url: string; // base URL ending in /v1, e.g. http://127.0.0.1:43123/v1
  requests: RecordedRequest[]; // every request received, in order (body parsed as JSON when it is JSON)
  /** Behaviours for the next requests, consumed one per request in order; when none is queued, the default healthy answer. */
  next(...behaviours: Behaviour[]): void;
  /** A behaviour for every request from now on (until cleared with always(null)); `next` ones take precedence. */
  always(behaviour: Behaviour | null): void;
  stop(): Promise<void>; // closes the server and destroys hanging connections
};

export const FAKE_MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "dall-e-3"];
/** A valid 1x1 RGBA PNG. */
export const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);
const MODELS_CREATED = 1_700_000_000;
const CUT_SETTLE_MS = 150; // 30 ms was not always enough for the gateway to read them on a loaded machine

type Json = Record<string, any>;

const words = (s: string) => s.split(/\s+/).filter(Boolean);
const countWords = (s: string | null | undefined) => (s ? words(s).length : 0);

/** Splits text into word pieces that keep their leading whitespace and concatenate back to the text. */
export function pieces(text: string): string[] {
  const out: string[] = text.match(/\s*\S+/g) ?? [];
  const rest = text.slice(out.join("").length);
  if (rest) out.length ? (out[out.length - 1] += rest) : out.push(rest);
  return out;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part: any) => (part && typeof part === "object" && typeof part.text === "string" ? part.text : ""))
      .filter(Boolean)
      .join(" ");
  return "";
}

const randomId = (prefix: string, length = 24) => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(length);
  let id = "";
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return prefix + id;
};

function errorBody(status: number, message?: string, model?: string): Json {
  const e = (message: string, type: string, code: string | null = null, param: string | null = null) => ({
    error: { message, type, param, code },
  });
  switch (status) {
    case 400:
      return e(message ?? "Invalid request.", "invalid_request_error");
    case 401:
      return e(
        message ?? "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
      );
    case 403:
      return e(message ?? "Country, region, or territory not supported", "request_forbidden", "unsupported_country_region_territory");
    case 404:
      return e(
        message ?? `The model \`${model ?? "unknown"}\` does not exist or you do not have access to it.`,
        "invalid_request_error",
        message ? null : "model_not_found",
        message ? null : "model",
      );
    case 429:
      return e(
        message ?? `Rate limit reached for ${model ?? "gpt-4o-mini"} on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`,
        "requests",
        "rate_limit_exceeded",
      );
    case 500:
      return e(message ?? "The server had an error while processing your request. Sorry about that!", "server_error");
    case 503:
      return e(message ?? "The server is overloaded or not ready yet.", "server_error", "overloaded");
    default:
      if (status >= 500) return e(message ?? "Bad gateway.", "server_error");
      return e(message ?? `Request failed with status ${status}.`, "invalid_request_error");
  }
}

/** Deterministic float32-exact unit vector for `seed`. */
export function vector(seed: string, dims: number): number[] {
  const out: number[] = [];
  let block = Buffer.alloc(0);
  for (let i = 0; out.length < dims; i++) {
    if (block.length < 4) block = createHash("sha256").update(`${seed}\u0000${i}`).digest();
    const v = block.readUInt32LE(0) / 0xffffffff - 0.5;
    block = block.subarray(4);
    out.push(v);
  }
  const norm = Math.sqrt(out.reduce((s, v) => s + v * v, 0)) || 1;
  return out.map((v) => Math.fround(v / norm));
}

function float32Base64(values: number[]): string {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString("base64");
}

export type FakeOpenAIOptions = {
  apiKeys?: string[];
  /**
   * A behaviour chosen by the request's `model`: `nth` counts that model's earlier requests (0 for
   * the first), so one server can play a scenario per model name (one 500 then healthy, a flapping
   * primary). Used when no `next` behaviour is queued, before `always`; undefined falls through.
   */
  byModel?: (model: string, nth: number) => Behaviour | undefined;
};

export async function startFakeOpenAI(opts: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const queue: Behaviour[] = [];
  let standing: Behaviour | null = null;
  let stopped = false;
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  const files = new Set<string>();
  let fileCounter = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      timers.add(entry);
    });

  const fake: FakeOpenAI = {
    url: "",
    requests: [],
    next: (...behaviours) => void queue.push(...behaviours),
    always: (behaviour) => void (standing = behaviour),
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const entry of timers) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent || res.destroyed) return void req.socket.destroy();
      sendJson(res, 500, errorBody(500, `fake-openai crashed: ${error?.message ?? error}`));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const seenByModel = new Map<string, number>();
  function scenarioOf(body: any): Behaviour | undefined {
    if (!opts.byModel || typeof body?.model !== "string") return undefined;
    const nth = seenByModel.get(body.model) ?? 0;
    seenByModel.set(body.model, nth + 1);
    return opts.byModel(body.model, nth);
  }

  const gone = (res: ServerResponse) => stopped || res.destroyed || res.writableEnded || !!res.socket?.destroyed;

  function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    if (gone(res)) return;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      ...headers,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  }

  const write = (res: ServerResponse, data: string) =>
    new Promise<void>((resolve) => {
      if (gone(res)) return resolve();
      res.write(data, () => resolve());
    });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: any = null;
    let bodyIsJson = raw.length === 0;
    if (raw.length) {
      try {
        body = JSON.parse(raw);
        bodyIsJson = true;
      } catch {
        body = raw;
      }
    }
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
    fake.requests.push({ method, path, headers, body });
    res.setHeader("x-request-id", `req_${randomBytes(16).toString("hex")}`);
    res.setHeader("openai-version", "2020-10-01");

    // Image downloads: never faulted, never authenticated.
    if (method === "GET" && path.startsWith("/files/")) {
      const name = path.slice("/files/".length);
      if (!files.has(name)) return sendJson(res, 404, errorBody(404, `No such file: ${name}`));
      res.writeHead(200, { "content-type": "image/png", "content-length": String(TINY_PNG.length) });
      return void res.end(TINY_PNG);
    }

    const behaviour: Behaviour = queue.shift() ?? scenarioOf(body) ?? standing ?? {};
    const extra = behaviour.headers ?? {};
    for (const [name, value] of Object.entries(extra)) res.setHeader(name, value);

    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (gone(res)) return;
    if (behaviour.reset) return void req.socket.destroy();
    if (behaviour.hang) return; // the socket is destroyed by stop()

    if (opts.apiKeys) {
      const auth = headers.authorization ?? "";
      const key = auth.startsWith("Bearer ") ? auth.slice("Bearer ".length).trim() : "";
      if (!opts.apiKeys.includes(key)) {
        const shown = key ? `${key.slice(0, 3)}*****${key.slice(-4)}` : "";
        return sendJson(
          res,
          401,
          key
            ? errorBody(401, `Incorrect API key provided: ${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`)
            : errorBody(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."),
        );
      }
    }

    const model = body && typeof body === "object" && typeof body.model === "string" ? body.model : undefined;
    if (behaviour.status && behaviour.status >= 400) {
      return sendJson(res, behaviour.status, behaviour.errorBody !== undefined ? behaviour.errorBody : errorBody(behaviour.status, undefined, model));
    }

    const route = `${method} ${path}`;
    const known = ["POST /v1/chat/completions", "POST /v1/completions", "POST /v1/embeddings", "POST /v1/images/generations", "GET /v1/models"];
    if (!known.includes(route) && !(method === "GET" && path.startsWith("/v1/models/"))) {
      return sendJson(res, 404, errorBody(404, `Invalid URL (${method} ${path})`));
    }
    if (method === "POST") {
      if (!bodyIsJson || raw.length === 0 || typeof body !== "object" || body === null || Array.isArray(body)) {
        return sendJson(
          res,
          400,
          errorBody(
            400,
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
          ),
        );
      }
      if (!model) return sendJson(res, 400, { error: { message: "you must provide a model parameter", type: "invalid_request_error", param: null, code: null } });
    }

    switch (route) {
      case "POST /v1/chat/completions":
        return chat(req, res, body, behaviour);
      case "POST /v1/completions":
        return completions(req, res, body, behaviour);
      case "POST /v1/embeddings":
        return embeddings(res, body);
      case "POST /v1/images/generations":
        return images(res, body);
      case "GET /v1/models":
        return sendJson(res, 200, { object: "list", data: FAKE_MODELS.map(modelObject) });
      default: {
        const id = decodeURIComponent(path.slice("/v1/models/".length));
        if (!FAKE_MODELS.includes(id)) return sendJson(res, 404, errorBody(404, undefined, id));
        return sendJson(res, 200, modelObject(id));
      }
    }
  }

  const modelObject = (id: string) => ({ id, object: "model", created: MODELS_CREATED, owned_by: id.startsWith("dall") ? "system" : "openai" });

  const invalid = (res: ServerResponse, message: string, param: string) =>
    sendJson(res, 400, { error: { message, type: "invalid_request_error", param, code: null } });

  function maxTokensOf(body: Json): number | undefined {
    const m = body.max_completion_tokens ?? body.max_tokens;
    return typeof m === "number" && m >= 0 ? Math.floor(m) : undefined;
  }

  function usageOf(reply: Reply, promptTokens: number, completionTokens: number): Json | null {
    if (reply.usage === null) return null;
    const p = reply.usage?.prompt_tokens ?? promptTokens;
    const c = reply.usage?.completion_tokens ?? completionTokens;
    const usage: Json = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c };
    if (reply.usage?.cached_tokens !== undefined) usage.prompt_tokens_details = { cached_tokens: reply.usage.cached_tokens };
    if (reply.reasoning) usage.completion_tokens_details = { reasoning_tokens: countWords(reply.reasoning) };
    return usage;
  }

  /** Writes an SSE stream: prelude events, content events (faults apply), tail events, [DONE]. */
  async function stream(
    req: IncomingMessage,
    res: ServerResponse,
    behaviour: Behaviour,
    parts: { prelude: Json[]; content: Json[]; tail: Json[]; malformed: string },
  ) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    let first = true;
    const send = async (text: string) => {
      if (!first) {
        if (behaviour.chunkDelayMs) await sleep(behaviour.chunkDelayMs);
        if (behaviour.keepAliveComments) await write(res, ": keep-alive\n\n");
      }
      first = false;
      await write(res, text);
    };
    const event = (payload: unknown) => send(`data: ${JSON.stringify(payload)}\n\n`);

    for (const payload of parts.prelude) await event(payload);
    if (behaviour.errorAfterRole) {
      await event({ error: { message: behaviour.errorAfterRole.message, type: "server_error", param: null, code: null } });
      if (!gone(res)) res.end();
      return;
    }
    const n = parts.content.length;
    const middle = Math.floor(n / 2);
    const cut = behaviour.cutAfterChunks;
    const stall = behaviour.stallAfterChunks;
    for (let i = 0; i <= n; i++) {
      if (gone(res)) return;
      if (cut !== undefined && i === Math.min(cut, n)) {
        // Let the written chunks reach the client first: a close that lands in the same read makes
        // some clients (Bun's fetch) drop the body bytes that came with it.
        await sleep(CUT_SETTLE_MS);
        return void req.socket.destroy();
      }
      if (stall !== undefined && i === Math.min(stall, n)) return; // stays open until the client leaves or stop()
      if (behaviour.malformedChunk && i === middle) await send(`data: ${parts.malformed}\n\n`);
      if (i < n) await event(parts.content[i]);
    }
    for (const payload of parts.tail) await event(payload);
    if (!behaviour.noDone) await send("data: [DONE]\n\n");
    if (!gone(res)) res.end();
  }

  async function chat(req: IncomingMessage, res: ServerResponse, body: Json, behaviour: Behaviour) {
    if (!Array.isArray(body.messages)) return invalid(res, "Missing required parameter: 'messages'.", "messages");
    if (body.messages.length === 0) return invalid(res, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages");
    const reply = behaviour.reply ?? {};
    const n = typeof body.n === "number" && body.n >= 1 ? Math.floor(body.n) : 1;
    const promptTokens = body.messages.reduce((sum: number, m: any) => sum + countWords(contentText(m?.content)), 0);
    const lastUser = [...body.messages].reverse().find((m: any) => m?.role === "user");
    const userWords = words(contentText(lastUser?.content)).slice(0, 8);

    let text: string | null;
    let truncated = false;
    if (reply.text !== undefined) text = reply.text;
    else if (reply.toolCalls?.length) text = null;
    else {
      text = userWords.length ? `This is a fake reply to: ${userWords.join(" ")}.` : "This is a fake reply.";
      const max = maxTokensOf(body);
      const p = pieces(text);
      if (max !== undefined && p.length > max) {
        text = p.slice(0, max).join("").trimEnd();
        truncated = true;
      }
    }
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({ id: call.id ?? randomId("call_"), name: call.name, arguments: call.arguments }));
    const finishReason = reply.finishReason ?? (toolCalls.length ? "tool_calls" : truncated ? "length" : "stop");
    const perChoice =
      countWords(reply.reasoning) + countWords(text) + toolCalls.reduce((s, c) => s + Math.max(1, countWords(c.name) + countWords(c.arguments)), 0);
    const usage = usageOf(reply, promptTokens, perChoice * n);

    const id = randomId("chatcmpl-", 29);
    const created = Math.floor(Date.now() / 1000);
    const model: string = body.model;
    const base = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_fake" };

    if (body.stream !== true) {
      const message: Json = { role: "assistant", content: text, refusal: null };
      if (reply.reasoning !== undefined) message.reasoning_content = reply.reasoning;
      if (toolCalls.length)
        message.tool_calls = toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
      const answer: Json = {
        id,
        object: "chat.completion",
        created,
        model,
        choices: Array.from({ length: n }, (_, index) => ({ index, message, logprobs: null, finish_reason: finishReason })),
        system_fingerprint: "fp_fake",
      };
      if (usage) answer.usage = usage;
      return sendJson(res, 200, answer);
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const chunk = (choices: Json[]): Json => (includeUsage ? { ...base, choices, usage: null } : { ...base, choices });
    const choice = (index: number, delta: Json, finish: string | null = null) => ({ index, delta, logprobs: null, finish_reason: finish });

    const deltasFor = (): Json[] => {
      const deltas: Json[] = [];
      for (const piece of pieces(reply.reasoning ?? "")) deltas.push({ reasoning_content: piece });
      for (const piece of pieces(text ?? "")) deltas.push({ content: piece });
      toolCalls.forEach((call, index) => {
        if (behaviour.ollamaToolQuirks) {
          const whole: Json = { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } };
          deltas.push({ tool_calls: [index === 0 ? whole : { index: 0, ...whole }] });
          return;
        }
        deltas.push({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] });
        for (let at = 0; at < call.arguments.length; at += 8)
          deltas.push({ tool_calls: [{ index, function: { arguments: call.arguments.slice(at, at + 8) } }] });
      });
      return deltas;
    };
    const perIndex = Array.from({ length: n }, () => deltasFor());
    const content: Json[] = [];
    for (let step = 0; perIndex.some((d) => step < d.length); step++)
      for (let index = 0; index < n; index++) if (step < perIndex[index]!.length) content.push(chunk([choice(index, perIndex[index]![step]!)]));

    const roleDelta = behaviour.noRoleInFirstChunk ? { content: "" } : { role: "assistant", content: "" };
    const prelude = Array.from({ length: n }, (_, index) => chunk([choice(index, roleDelta)]));
    const tail: Json[] = Array.from({ length: n }, (_, index) => chunk([choice(index, {}, finishReason)]));
    if (includeUsage && usage) tail.push({ ...base, choices: [], usage });
    const malformed = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"choices":[{"index":0,"delta":{"content":" oops`;
    return stream(req, res, behaviour, { prelude, content, tail, malformed });
  }

  async function completions(req: IncomingMessage, res: ServerResponse, body: Json, behaviour: Behaviour) {
    const prompts: string[] =
      typeof body.prompt === "string" ? [body.prompt] : Array.isArray(body.prompt) && body.prompt.every((p: unknown) => typeof p === "string") ? body.prompt : [];
    if (!prompts.length) return invalid(res, "Missing required parameter: 'prompt'.", "prompt");
    const reply = behaviour.reply ?? {};
    const n = typeof body.n === "number" && body.n >= 1 ? Math.floor(body.n) : 1;
    const max = maxTokensOf(body) ?? 16; // the legacy endpoint's default max_tokens is 16
    const texts = prompts.map((prompt) => {
      if (reply.text !== undefined) return { text: reply.text, truncated: false };
      const pw = words(prompt).slice(0, 8);
      const full = pw.length ? ` This is a fake completion of: ${pw.join(" ")}.` : " This is a fake completion.";
      const p = pieces(full);
      return p.length > max ? { text: p.slice(0, max).join("").trimEnd(), truncated: true } : { text: full, truncated: false };
    });
    const choicesSpec = texts.flatMap((t) => Array.from({ length: n }, () => t));
    const finishOf = (t: { truncated: boolean }) => reply.finishReason ?? (t.truncated ? "length" : "stop");
    const promptTokens = prompts.reduce((s, p) => s + countWords(p), 0);
    const usage = usageOf(reply, promptTokens, choicesSpec.reduce((s, t) => s + countWords(t.text), 0));
    const id = randomId("cmpl-", 29);
    const created = Math.floor(Date.now() / 1000);
    const model: string = body.model;

    if (body.stream !== true) {
      const answer: Json = {
        id,
        object: "text_completion",
        created,
        model,
        choices: choicesSpec.map((t, index) => ({ text: t.text, index, logprobs: null, finish_reason: finishOf(t) })),
      };
      if (usage) answer.usage = usage;
      return sendJson(res, 200, answer);
    }
    const includeUsage = body.stream_options?.include_usage === true;
    const base = { id, object: "text_completion", created, model };
    const chunk = (choice: Json): Json => (includeUsage ? { ...base, choices: [choice], usage: null } : { ...base, choices: [choice] });
    const content: Json[] = [];
    const perIndex = choicesSpec.map((t) => pieces(t.text));
    for (let step = 0; perIndex.some((p) => step < p.length); step++)
      perIndex.forEach((p, index) => {
        if (step < p.length) content.push(chunk({ text: p[step], index, logprobs: null, finish_reason: null }));
      });
    const tail: Json[] = choicesSpec.map((t, index) => chunk({ text: "", index, logprobs: null, finish_reason: finishOf(t) }));
    if (includeUsage && usage) tail.push({ ...base, choices: [], usage });
    const malformed = `{"id":"${id}","object":"text_completion","choices":[{"text":" oops`;
    return stream(req, res, behaviour, { prelude: [], content, tail, malformed });
  }

  function embeddings(res: ServerResponse, body: Json) {
    const input = body.input;
    let items: (string | number[])[];
    if (typeof input === "string") items = [input];
    else if (Array.isArray(input) && input.length && input.every((i) => typeof i === "string")) items = input;
    else if (Array.isArray(input) && input.length && input.every((i) => typeof i === "number")) items = [input];
    else if (Array.isArray(input) && input.length && input.every((i) => Array.isArray(i) && i.every((t) => typeof t === "number"))) items = input;
    else return invalid(res, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input");
    const dims = body.dimensions === undefined ? 8 : body.dimensions;
    if (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1) return invalid(res, "Invalid 'dimensions': must be a positive integer.", "dimensions");
    const format = body.encoding_format ?? "float";
    if (format !== "float" && format !== "base64")
      return invalid(res, `Invalid value for 'encoding_format': '${format}'. Supported values are: 'float' and 'base64'.`, "encoding_format");
    const tokens = items.reduce((s: number, item) => s + (typeof item === "string" ? countWords(item) : item.length), 0);
    const data = items.map((item, index) => {
      const v = vector(typeof item === "string" ? item : JSON.stringify(item), dims);
      return { object: "embedding", index, embedding: format === "base64" ? float32Base64(v) : v };
    });
    return sendJson(res, 200, { object: "list", data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  function images(res: ServerResponse, body: Json) {
    if (typeof body.prompt !== "string" || !body.prompt) return invalid(res, "Missing required parameter: 'prompt'.", "prompt");
    const n = body.n === undefined ? 1 : body.n;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > 10) return invalid(res, "Invalid 'n': must be an integer between 1 and 10.", "n");
    const data = Array.from({ length: n }, () => {
      if (body.response_format === "url") {
        const name = `img-${++fileCounter}.png`;
        files.add(name);
        return { url: `http://127.0.0.1:${port}/files/${name}` };
      }
      return { b64_json: TINY_PNG.toString("base64") };
    });
    return sendJson(res, 200, { created: Math.floor(Date.now() / 1000), data });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  fake.url = `http://127.0.0.1:${port}/v1`;
  return fake;
}
