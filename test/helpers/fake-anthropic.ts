/**
 * A fake Anthropic Messages API for tests: a real HTTP server (node:http) on 127.0.0.1, random
 * free port, answering `POST /v1/messages` as the official SDK parses it, with injectable faults.
 *
 *   const fake = await startFakeAnthropic({ apiKeys: ["k"] });   // apiKeys optional: any key passes
 *   fake.url                      // "http://127.0.0.1:<port>" (the SDK's baseURL: it appends /v1/messages)
 *   fake.next({ status: 529 }, { reply: { text: "hi" } });
 *   fake.always({ deltaDelayMs: 10 }); fake.always(null);
 *   fake.requests                 // [{ method, path, headers (lower-case), body }] in arrival order
 *   await fake.stop();
 *
 * Answers: `{id: "msg_…", type: "message", role: "assistant", model, content, stop_reason,
 * stop_sequence: null, usage: {input_tokens, output_tokens, cache_creation_input_tokens,
 * cache_read_input_tokens}}`. Default text: "This is a fake reply to: <last user text>." Default
 * usage: input_tokens = words of the system prompt and every text block, output_tokens = words of
 * the reply. `max_tokens` is required (400 otherwise) and truncates the default reply
 * (`stop_reason: "max_tokens"`). `input_tokens` excludes cache reads and writes, as Anthropic's does.
 *
 * Streams (`stream: true`): every event has `event:` equal to its data's `type`: message_start
 * (empty content, the real input and cache counts, output_tokens 1), ping, then per block
 * content_block_start / content_block_delta… / content_block_stop (thinking: thinking_delta per
 * word then one signature_delta; text: a text_delta per word; tool_use: input_json_delta in
 * 8-character pieces), message_delta (stop_reason, cumulative output_tokens), message_stop.
 *
 * Faults (one behaviour per request; `next` first, then `always`, else healthy): `status` (the
 * error body of that status, or `errorBody`), `headers`, `delayMs`, `reset` (destroy the socket),
 * `hang`, and for streams `cutAfterDeltas` (N deltas, then destroy the socket), `stallAfterDeltas`,
 * `errorAfterStart` (message_start and ping, then `event: error`), `errorAfterDeltas`,
 * `deltaDelayMs`. Errors: `{"type":"error","error":{"type","message"},"request_id"}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type RecordedRequest = { method: string; path: string; headers: Record<string, string>; body: any };
export type Reply = {
  text?: string;
  thinking?: string;
  toolUses?: { id?: string; name: string; input: Record<string, unknown> }[];
  stopReason?: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
};
export type Behaviour = {
  status?: number;
  errorBody?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  reset?: boolean;
  hang?: boolean;
  reply?: Reply;
  cutAfterDeltas?: number;
  stallAfterDeltas?: number;
  errorAfterStart?: { type: string; message: string };
  errorAfterDeltas?: { after: number; type: string; message: string };
  deltaDelayMs?: number;
};
export type FakeAnthropic = {
  url: string;
  requests: RecordedRequest[];
  next(...behaviours: Behaviour[]): void;
  always(behaviour: Behaviour | null): void;
  stop(): Promise<void>;
};

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

const words = (text: string) => (text.match(/\S+/g) ?? []).length;

function textsOf(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((b: any) => (b?.type === "text" ? [String(b.text)] : b?.type === "tool_result" ? textsOf(b.content) : []));
}

let counter = 0;
const newId = (prefix: string) => `${prefix}_${Date.now().toString(36)}${(++counter).toString(36).padStart(6, "0")}`;

type Block = { type: "thinking"; thinking: string; signature: string } | { type: "text"; text: string } | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

export async function startFakeAnthropic(opts: { apiKeys?: string[] } = {}): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  const queue: Behaviour[] = [];
  let standing: Behaviour | null = null;
  const sockets = new Set<Socket>();

  const errorBody = (status: number, message: string) => ({ type: "error", error: { type: ERROR_TYPES[status] ?? "api_error", message }, request_id: newId("req") });

  function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { "content-type": "application/json", "request-id": newId("req"), ...headers });
    res.end(JSON.stringify(body));
  }

  function build(body: any, reply: Reply) {
    const system = textsOf(body.system);
    const messages = (body.messages ?? []) as { role: string; content: unknown }[];
    const lastUser = [...messages].reverse().find((m) => m.role === "user");
    const lastText = lastUser ? textsOf(lastUser.content).join(" ") : "";
    let text = reply.text ?? (reply.toolUses ? undefined : `This is a fake reply to: ${lastText.split(/\s+/).slice(0, 8).join(" ")}.`);
    let stopReason = reply.stopReason ?? (reply.toolUses?.length ? "tool_use" : "end_turn");
    if (reply.text === undefined && text !== undefined && words(text) > body.max_tokens) {
      text = text.split(/\s+/).slice(0, body.max_tokens).join(" ");
      stopReason = "max_tokens";
    }
    const blocks: Block[] = [];
    if (reply.thinking) blocks.push({ type: "thinking", thinking: reply.thinking, signature: `sig_${Buffer.from(reply.thinking).toString("base64")}` });
    if (text !== undefined) blocks.push({ type: "text", text });
    for (const t of reply.toolUses ?? []) blocks.push({ type: "tool_use", id: t.id ?? newId("toolu"), name: t.name, input: t.input });
    const inputTokens = [...system, ...messages.flatMap((m) => textsOf(m.content))].reduce((n, t) => n + words(t), 0);
    const outputTokens = blocks.reduce((n, b) => n + (b.type === "text" ? words(b.text) : b.type === "thinking" ? words(b.thinking) : Math.max(1, words(JSON.stringify(b.input)))), 0);
    const usage = {
      input_tokens: reply.usage?.input_tokens ?? inputTokens,
      output_tokens: reply.usage?.output_tokens ?? outputTokens,
      cache_creation_input_tokens: reply.usage?.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: reply.usage?.cache_read_input_tokens ?? 0,
    };
    return { id: newId("msg"), type: "message", role: "assistant", model: body.model, content: blocks, stop_reason: stopReason, stop_sequence: null, usage };
  }

  async function stream(res: ServerResponse, message: ReturnType<typeof build>, b: Behaviour) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", "request-id": newId("req"), ...b.headers });
    const send = (data: { type: string } & Record<string, unknown>) => res.write(`event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`);
    send({ type: "message_start", message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } });
    send({ type: "ping" });
    if (b.errorAfterStart) {
      send({ type: "error", error: b.errorAfterStart });
      return res.end();
    }
    let deltas = 0;
    const delta = async (index: number, d: Record<string, unknown>): Promise<boolean> => {
      if (b.errorAfterDeltas && deltas === b.errorAfterDeltas.after) {
        send({ type: "error", error: { type: b.errorAfterDeltas.type, message: b.errorAfterDeltas.message } });
        res.end();
        return false;
      }
      if (b.cutAfterDeltas !== undefined && deltas === b.cutAfterDeltas) {
        await Bun.sleep(30); // let the bytes sent so far reach the client before the cut
        res.socket?.destroy();
        return false;
      }
      if (b.stallAfterDeltas !== undefined && deltas === b.stallAfterDeltas) return false; // nothing more, connection open
      if (b.deltaDelayMs) await Bun.sleep(b.deltaDelayMs);
      send({ type: "content_block_delta", index, delta: d });
      deltas++;
      return true;
    };
    for (const [index, blk] of message.content.entries()) {
      if (blk.type === "thinking") {
        send({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
        for (const w of blk.thinking.split(/(?=\s)/)) if (!(await delta(index, { type: "thinking_delta", thinking: w }))) return;
        if (!(await delta(index, { type: "signature_delta", signature: blk.signature }))) return;
      } else if (blk.type === "text") {
        send({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
        for (const w of blk.text.split(/(?=\s)/)) if (!(await delta(index, { type: "text_delta", text: w }))) return;
      } else {
        send({ type: "content_block_start", index, content_block: { type: "tool_use", id: blk.id, name: blk.name, input: {} } });
        const json = JSON.stringify(blk.input);
        for (let i = 0; i < json.length; i += 8) if (!(await delta(index, { type: "input_json_delta", partial_json: json.slice(i, i + 8) }))) return;
      }
      send({ type: "content_block_stop", index });
    }
    send({ type: "message_delta", delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
    send({ type: "message_stop" });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: any = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]));
    const path = (req.url ?? "/").split("?")[0]!;
    requests.push({ method: req.method ?? "GET", path, headers, body });
    const b = queue.shift() ?? standing ?? {};
    if (b.delayMs) await Bun.sleep(b.delayMs);
    if (b.reset) return req.socket.destroy();
    if (b.hang) return;
    const key = headers["x-api-key"] || headers.authorization?.replace(/^Bearer /, "");
    if (opts.apiKeys && !opts.apiKeys.includes(key ?? "")) return answer(res, 401, errorBody(401, "invalid x-api-key"));
    if (b.status) return answer(res, b.status, b.errorBody ?? errorBody(b.status, `fake failure ${b.status}`), b.headers);
    if (req.method === "GET" && path === "/v1/models")
      return answer(res, 200, { data: [{ type: "model", id: "claude-fake", display_name: "Claude Fake", created_at: "2026-01-01T00:00:00Z" }], has_more: false, first_id: "claude-fake", last_id: "claude-fake" });
    if (req.method !== "POST" || (path !== "/v1/messages" && path !== "/v1/messages/count_tokens")) return answer(res, 404, errorBody(404, `Not found: ${req.method} ${path}`));
    if (!body || typeof body !== "object") return answer(res, 400, errorBody(400, "The request body is not valid JSON."));
    if (path === "/v1/messages/count_tokens") return answer(res, 200, { input_tokens: build({ ...body, max_tokens: 1e9 }, {}).usage.input_tokens });
    if (typeof body.max_tokens !== "number") return answer(res, 400, errorBody(400, "max_tokens: Field required"));
    const message = build(body, b.reply ?? {});
    if (body.stream) return stream(res, message, b);
    answer(res, 200, message, b.headers);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) answer(res, 500, errorBody(500, String(error)));
      else res.end();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    next: (...behaviours) => void queue.push(...behaviours),
    always: (behaviour) => void (standing = behaviour),
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
