/**
 * A fake Anthropic Messages API upstream for tests: a real HTTP server (node:http) on 127.0.0.1,
 * random free port, speaking the Messages wire format as the official `@anthropic-ai/sdk` parses it,
 * with injectable faults. Written from the public API docs and observed traffic, not from the
 * gateway's own adapter code.
 *
 *   const fake = await startFakeAnthropic({ apiKeys: ["k"] }); // apiKeys optional: omit to accept any key (or none)
 *   fake.url                  // "http://127.0.0.1:<port>" (no /v1: the SDK appends /v1/messages)
 *   fake.next({ status: 429, headers: { "retry-after": "2" } }, { reply: { text: "hi" } });
 *   fake.always({ delayMs: 50 }); fake.always(null);
 *   fake.requests             // [{ method, path, headers (lower-case names), body }] in arrival order
 *   await fake.stop();        // closes the server, destroys hanging/stalled connections
 *
 * Exports: startFakeAnthropic and the types RecordedRequest, Reply, Behaviour, FakeAnthropic.
 *
 *   type Reply = {
 *     text?: string;         // default: "This is a fake reply to: <first 8 words of the last user message>."
 *     thinking?: string;     // a thinking block (with a signature) before the text
 *     toolUses?: { id?: string; name: string; input: Record<string, unknown> }[]; // id default "toolu_01…"
 *     stopReason?: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";
 *     usage?: { input_tokens; output_tokens; cache_read_input_tokens?; cache_creation_input_tokens? };
 *   };
 *   type Behaviour = {
 *     status?; errorBody?; headers?; delayMs?; reset?; hang?; reply?;
 *     cutAfterDeltas?; stallAfterDeltas?; errorAfterStart?: { type, message };
 *     errorAfterDeltas?: { after, type, message }; deltaDelayMs?;   // the last five: streams only
 *   };
 *
 * Endpoints (all need an `anthropic-version` header shaped YYYY-MM-DD, else 400: the wire format
 *   here is 2023-06-01's, and the official SDK v1 sends "2026-10-21")
 *   POST /v1/messages               non-stream (a "message" object) and `stream: true` (SSE)
 *   POST /v1/messages/count_tokens  { input_tokens } (same count as /v1/messages; max_tokens not required)
 *   GET  /v1/models[?limit&after_id&before_id], GET /v1/models/<id>   (newest first: claude-opus-4-8,
 *                                   claude-opus-4-7, claude-sonnet-4-6, claude-haiku-4-5-20251001)
 *   anything else                   404 not_found_error "Not Found"
 *
 * Request validation (400 invalid_request_error, messages in the API's style, e.g. "max_tokens: Field
 *   required"): a JSON object body; `model` a string; `max_tokens` an integer >= 1 (messages only);
 *   `messages` a non-empty list of { role: "user" | "assistant" } (a "system" role is rejected as the
 *   API does), content a string or a list of known blocks (text, image with a base64/url source,
 *   document, tool_use, tool_result, thinking, redacted_thinking), non-empty except for a final
 *   assistant message; every tool_use id answered by a tool_result in the next (user) message and
 *   every tool_result matching a tool_use of the previous message; `system` a string or text blocks;
 *   `tools` with a `name` and an object `input_schema` (tools with their own `type`, i.e. server
 *   tools, are not checked); `tool_choice.type` auto|any|tool(+name)|none; `stop_sequences` strings;
 *   `temperature` 0..1; `thinking` enabled (budget_tokens >= 1024 and < max_tokens) | disabled | adaptive.
 *   Unknown model ids are accepted and echoed back.
 *
 * Default answers
 *   Usage: input_tokens = whitespace-separated words of all text in `system` + `messages` (string
 *   contents, text blocks and tool_result text); it excludes cache reads and writes, which are 0
 *   unless `reply.usage` gives them. output_tokens = words of thinking + text, plus for each tool use
 *   the words of its name and of its JSON input (usually 2). `reply.usage` replaces both counts. The
 *   usage object also carries `cache_creation: { ephemeral_5m_input_tokens (= cache writes),
 *   ephemeral_1h_input_tokens: 0 }` and `service_tier: "standard"`, as the real API sends them.
 *   Content order: thinking, text, tool_use blocks. With `reply.toolUses` and no `reply.text` there is
 *   no text block; an empty text gives no text block either.
 *   stop_sequences: the first one found in the text cuts the text before it (tool uses dropped) and
 *   answers stop_reason "stop_sequence" with `stop_sequence` set. max_tokens: thinking then text words
 *   beyond max_tokens are cut (tool uses dropped), stop_reason "max_tokens". Both apply to an explicit
 *   `reply.text` too. stop_reason default: "tool_use" with tool uses, else "end_turn";
 *   `reply.stopReason` overrides it (and "stop_sequence" then names the first requested sequence).
 *
 * Streams: `event: <type>\ndata: <json>\n\n` (LF only; the event name always equals data.type),
 *   Content-Type text/event-stream; charset=utf-8. message_start (content [], stop_reason null, usage
 *   with the real input_tokens and cache fields, output_tokens 1), ping, then per block
 *   content_block_start (text: {type:"text",text:""}; thinking: {type:"thinking",thinking:"",
 *   signature:""}; tool_use: {type:"tool_use",id,name,input:{}}), the deltas, content_block_stop;
 *   then message_delta { delta: { stop_reason, stop_sequence }, usage: { output_tokens } } (cumulative
 *   output tokens only, as the classic API sends it), then message_stop. Deltas: text_delta one per
 *   word (each keeps its leading whitespace, so the pieces concatenate to the text); thinking_delta
 *   one per word, then one signature_delta; input_json_delta first with partial_json "" (as the real
 *   API does), then the JSON of the input in 8-character pieces.
 *
 * Behaviours: each request takes the first queued `next` behaviour, else the `always` one, else the
 *   healthy default; every request consumes one (404s, count_tokens and model listings too). Order:
 *   record request -> delayMs -> reset | hang -> API key check (401) -> anthropic-version check ->
 *   status/errorBody -> endpoint. `headers` are added to whatever is answered. `status` (>= 400)
 *   answers that status with the Anthropic error body for it, or `errorBody` verbatim when given
 *   (errorBody alone, without status, does nothing).
 *   Stream faults count content_block_delta events of every kind (text, thinking, signature, input
 *   JSON); the fault fires just before the (N+1)th delta, or, when there are no more deltas, just
 *   before message_delta (so a stream is never complete after a fault). cutAfterDeltas waits 30 ms
 *   after the last event, then destroys the socket (a close in the same read makes Bun's fetch drop
 *   the bytes that came with it). stallAfterDeltas leaves the connection open until the client
 *   leaves or stop(). errorAfterDeltas / errorAfterStart (after message_start and ping) send
 *   `event: error` with the error body, then end the response cleanly. deltaDelayMs waits before
 *   every delta.
 *
 * Errors: {"type":"error","error":{"type","message"},"request_id"}: 400 invalid_request_error,
 *   401 authentication_error, 402 billing_error, 403 permission_error, 404 not_found_error,
 *   413 request_too_large, 429 rate_limit_error, 500 api_error, 504 timeout_error,
 *   529 overloaded_error; other 4xx invalid_request_error, other 5xx api_error. With `apiKeys`,
 *   the key comes from `x-api-key` or `Authorization: Bearer`: none -> 401 "x-api-key header is
 *   required", an unknown one -> 401 "invalid x-api-key" (the official SDK v1 sends its `apiKey` as
 *   `Authorization: Bearer`). Every answer has a `request-id` header (req_011C…), the same id as the
 *   body's request_id (reset and hang answer nothing).
 *
 * Recorded `body`: parsed JSON when it parses, the raw text otherwise, null when empty.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createHash, randomBytes } from "node:crypto";

export type RecordedRequest = { method: string; path: string; headers: Record<string, string>; body: any };
export type Reply = {
  text?: string; // default: a deterministic sentence derived from the last user text
  thinking?: string; // a thinking block before the text (with a signature)
  toolUses?: { id?: string; name: string; input: Record<string, unknown> }[];
  stopReason?: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "refusal";
  usage?: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number };
};
export type Behaviour = {
  status?: number; // answer this status with the Anthropic error body of that status
  errorBody?: unknown; // override that body (only together with status)
  headers?: Record<string, string>; // extra response headers, e.g. retry-after
  delayMs?: number; // wait before answering (headers included)
  reset?: boolean; // destroy the connection without answering
  hang?: boolean; // accept and never answer (until stop())
  reply?: Reply;
  // streams only:
  cutAfterDeltas?: number; // N content_block_delta events, then destroy the connection
  stallAfterDeltas?: number; // N deltas, then nothing more (connection stays open)
  errorAfterStart?: { type: string; message: string }; // message_start (+ping), then `event: error`, then close
  errorAfterDeltas?: { after: number; type: string; message: string }; // N deltas then event: error
  deltaDelayMs?: number; // wait before every delta
};
export type FakeAnthropic = {
  url: string; // base URL without /v1, e.g. http://127.0.0.1:43123 (the SDK appends /v1/messages)
  requests: RecordedRequest[]; // every request received, in order
  /** Behaviours for the next requests, consumed one per request in order; none queued = healthy default. */
  next(...behaviours: Behaviour[]): void;
  /** A behaviour for every request from now on (until always(null)); `next` ones take precedence. */
  always(behaviour: Behaviour | null): void;
  stop(): Promise<void>; // closes the server and destroys hanging connections
};

const MODELS: { id: string; display_name: string; created_at: string }[] = [
  { id: "claude-opus-4-8", display_name: "Claude Opus 4.8", created_at: "2026-09-15T00:00:00Z" },
  { id: "claude-opus-4-7", display_name: "Claude Opus 4.7", created_at: "2026-06-10T00:00:00Z" },
  { id: "claude-sonnet-4-6", display_name: "Claude Sonnet 4.6", created_at: "2026-02-17T00:00:00Z" },
  { id: "claude-haiku-4-5-20251001", display_name: "Claude Haiku 4.5", created_at: "2025-10-15T00:00:00Z" },
];
const CUT_SETTLE_MS = 30;
const JSON_PIECE = 8;

type Json = Record<string, any>;
type Block = Json;
type StopReason = NonNullable<Reply["stopReason"]>;

const words = (s: string) => s.split(/\s+/).filter(Boolean);
const countWords = (s: string | null | undefined) => (s ? words(s).length : 0);
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Splits text into word pieces that keep their leading whitespace and concatenate back to the text. */
function pieces(text: string): string[] {
  const out: string[] = text.match(/\s*\S+/g) ?? [];
  const rest = text.slice(out.join("").length);
  if (rest) out.length ? (out[out.length - 1] += rest) : out.push(rest);
  return out;
}

/** The text of a message content / system / tool_result content: strings, text blocks, tool_result text. */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((block: any) => {
      if (!isObject(block)) return "";
      if (block.type === "text" && typeof block.text === "string") return block.text;
      if (block.type === "tool_result") return textOf(block.content);
      return "";
    })
    .filter(Boolean)
    .join(" ");
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function randomId(prefix: string, length = 22): string {
  let id = "";
  for (const b of randomBytes(length)) id += BASE62[b % BASE62.length];
  return prefix + id;
}

function signatureOf(thinking: string): string {
  const a = createHash("sha256").update(`sig\u0000${thinking}`).digest();
  const b = createHash("sha256").update(a).digest();
  return Buffer.concat([Buffer.from([0x12, 0x08]), a, b]).toString("base64");
}

const ERRORS: Record<number, [string, string]> = {
  400: ["invalid_request_error", "Invalid request."],
  401: ["authentication_error", "invalid x-api-key"],
  402: ["billing_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits."],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "Not Found"],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: ["rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute. Please try again later."],
  500: ["api_error", "Internal server error"],
  504: ["timeout_error", "Request timed out"],
  529: ["overloaded_error", "Overloaded"],
};

function errorTypeOf(status: number): [string, string] {
  return ERRORS[status] ?? (status >= 500 ? ["api_error", "Internal server error"] : ["invalid_request_error", `Request failed with status ${status}.`]);
}

const errorJson = (type: string, message: string, requestId: string) => ({ type: "error", error: { type, message }, request_id: requestId });

const BLOCK_TYPES = ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result"];
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/** Validates a Messages (or count_tokens) body; returns the API's error message or null. */
function validate(body: Json, needMaxTokens: boolean): string | null {
  if (typeof body.model !== "string" || !body.model) return body.model === undefined ? "model: Field required" : "model: Input should be a valid string";
  if (needMaxTokens) {
    if (body.max_tokens === undefined) return "max_tokens: Field required";
    if (typeof body.max_tokens !== "number" || !Number.isInteger(body.max_tokens)) return "max_tokens: Input should be a valid integer";
    if (body.max_tokens < 1) return "max_tokens: Input should be greater than or equal to 1";
  }
  if (body.messages === undefined) return "messages: Field required";
  if (!Array.isArray(body.messages)) return "messages: Input should be a valid list";
  if (body.messages.length === 0) return "messages: at least one message is required";

  if (body.system !== undefined) {
    if (Array.isArray(body.system)) {
      for (const [i, block] of body.system.entries()) {
        if (!isObject(block) || block.type !== "text") return `system.${i}.type: Input should be 'text'`;
        if (typeof block.text !== "string") return `system.${i}.text: Field required`;
      }
    } else if (typeof body.system !== "string") return "system: Input should be a valid string or a list of text blocks";
  }

  const messages: any[] = body.messages;
  for (const [i, m] of messages.entries()) {
    if (!isObject(m)) return `messages.${i}: Input should be a valid dictionary`;
    if (m.role === "system")
      return 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
    if (m.role !== "user" && m.role !== "assistant") return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    const last = i === messages.length - 1;
    if (typeof m.content === "string") {
      if (!m.content && !(last && m.role === "assistant"))
        return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
      continue;
    }
    if (!Array.isArray(m.content)) return m.content === undefined ? `messages.${i}.content: Field required` : `messages.${i}.content: Input should be a valid string or list`;
    if (!m.content.length && !(last && m.role === "assistant"))
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    for (const [j, block] of (m.content as any[]).entries()) {
      const at = `messages.${i}.content.${j}`;
      if (!isObject(block) || typeof block.type !== "string") return `${at}.type: Field required`;
      if (!BLOCK_TYPES.includes(block.type))
        return `${at}.type: Input tag '${block.type}' found using 'type' does not match any of the expected tags: ${BLOCK_TYPES.map((t) => `'${t}'`).join(", ")}`;
      switch (block.type) {
        case "text":
          if (typeof block.text !== "string") return `${at}.text: Field required`;
          break;
        case "image": {
          const source = block.source;
          if (!isObject(source)) return `${at}.source: Field required`;
          if (source.type === "base64") {
            if (!IMAGE_TYPES.includes(source.media_type)) return `${at}.source.base64.media_type: Input should be ${IMAGE_TYPES.map((t) => `'${t}'`).join(", ")}`;
            if (typeof source.data !== "string" || !source.data) return `${at}.source.base64.data: Field required`;
          } else if (source.type === "url") {
            if (typeof source.url !== "string" || !source.url) return `${at}.source.url.url: Field required`;
          } else if (source.type !== "file") return `${at}.source.type: Input tag '${source.type}' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'`;
          break;
        }
        case "tool_use":
          if (m.role !== "assistant") return `${at}: tool_use blocks are only allowed in assistant messages`;
          if (typeof block.id !== "string" || !block.id) return `${at}.id: Field required`;
          if (typeof block.name !== "string" || !block.name) return `${at}.name: Field required`;
          if (!isObject(block.input)) return `${at}.input: Input should be a valid dictionary`;
          break;
        case "tool_result":
          if (m.role !== "user") return `${at}: tool_result blocks are only allowed in user messages`;
          if (typeof block.tool_use_id !== "string" || !block.tool_use_id) return `${at}.tool_use_id: Field required`;
          if (block.content !== undefined && typeof block.content !== "string" && !Array.isArray(block.content))
            return `${at}.content: Input should be a valid string or list`;
          if (block.is_error !== undefined && typeof block.is_error !== "boolean") return `${at}.is_error: Input should be a valid boolean`;
          break;
        case "thinking":
          if (typeof block.thinking !== "string") return `${at}.thinking: Field required`;
          if (typeof block.signature !== "string") return `${at}.signature: Field required`;
          break;
      }
    }
  }

  // tool_use ids must be answered by tool_result blocks in the very next message, and only those.
  const toolUseIds = (m: any): string[] =>
    Array.isArray(m?.content) ? m.content.filter((b: any) => isObject(b) && b.type === "tool_use").map((b: any) => b.id) : [];
  for (const [i, m] of messages.entries()) {
    const results: string[] = Array.isArray(m.content)
      ? m.content.filter((b: any) => isObject(b) && b.type === "tool_result").map((b: any) => b.tool_use_id)
      : [];
    const previous = i > 0 ? toolUseIds(messages[i - 1]) : [];
    const stray = results.filter((id) => !previous.includes(id));
    if (stray.length)
      return `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${stray.join(", ")}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
    const uses = toolUseIds(m);
    if (uses.length) {
      const following = messages[i + 1];
      const answered: string[] = Array.isArray(following?.content)
        ? following.content.filter((b: any) => isObject(b) && b.type === "tool_result").map((b: any) => b.tool_use_id)
        : [];
      const missing = uses.filter((id) => !answered.includes(id));
      if (missing.length)
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }

  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return "tools: Input should be a valid list";
    for (const [i, tool] of (body.tools as any[]).entries()) {
      if (!isObject(tool)) return `tools.${i}: Input should be a valid dictionary`;
      if (tool.type !== undefined && tool.type !== "custom") continue; // server tools (web_search_…, bash_…)
      if (typeof tool.name !== "string" || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name))
        return tool.name === undefined ? `tools.${i}.custom.name: Field required` : `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`;
      if (tool.input_schema === undefined) return `tools.${i}.custom.input_schema: Field required`;
      if (!isObject(tool.input_schema)) return `tools.${i}.custom.input_schema: Input should be a valid dictionary`;
      if (tool.description !== undefined && typeof tool.description !== "string") return `tools.${i}.custom.description: Input should be a valid string`;
    }
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice;
    if (!isObject(choice) || !["auto", "any", "tool", "none"].includes(choice.type))
      return "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'";
    if (choice.type === "tool" && (typeof choice.name !== "string" || !choice.name)) return "tool_choice.tool.name: Field required";
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((s: unknown) => typeof s === "string"))
      return "stop_sequences: Input should be a valid list of strings";
  }
  if (body.temperature !== undefined) {
    if (typeof body.temperature !== "number") return "temperature: Input should be a valid number";
    if (body.temperature < 0 || body.temperature > 1) return `temperature: range: 0..1`;
  }
  if (body.stream !== undefined && typeof body.stream !== "boolean") return "stream: Input should be a valid boolean";
  if (body.thinking !== undefined) {
    const t = body.thinking;
    if (!isObject(t) || !["enabled", "disabled", "adaptive"].includes(t.type))
      return "thinking: Input tag found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'";
    if (t.type === "enabled") {
      if (typeof t.budget_tokens !== "number" || !Number.isInteger(t.budget_tokens)) return "thinking.enabled.budget_tokens: Field required";
      if (t.budget_tokens < 1024) return "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024";
      if (needMaxTokens && body.max_tokens <= t.budget_tokens) return "`max_tokens` must be greater than `thinking.budget_tokens`";
    }
  }
  return null;
}

function inputTokensOf(body: Json): number {
  return countWords(textOf(body.system)) + (body.messages as any[]).reduce((sum: number, m: any) => sum + countWords(textOf(m.content)), 0);
}

/** The answer to one /v1/messages request: content blocks, stop reason and usage. */
function compose(body: Json, reply: Reply) {
  const lastUser = [...(body.messages as any[])].reverse().find((m) => m.role === "user");
  const userWords = words(textOf(lastUser?.content)).slice(0, 8);
  let text = reply.text ?? (reply.toolUses?.length ? "" : userWords.length ? `This is a fake reply to: ${userWords.join(" ")}.` : "This is a fake reply.");
  let thinking = reply.thinking;
  let toolUses = (reply.toolUses ?? []).map((t) => ({ id: t.id ?? randomId("toolu_01"), name: t.name, input: t.input }));
  let stopReason: StopReason = toolUses.length ? "tool_use" : "end_turn";
  let stopSequence: string | null = null;

  const sequences: string[] = Array.isArray(body.stop_sequences) ? body.stop_sequences.filter((s: string) => s.length > 0) : [];
  let firstAt = -1;
  for (const seq of sequences) {
    const at = text.indexOf(seq);
    if (at >= 0 && (firstAt < 0 || at < firstAt)) {
      firstAt = at;
      stopSequence = seq;
    }
  }
  if (stopSequence !== null) {
    text = text.slice(0, firstAt);
    toolUses = [];
    stopReason = "stop_sequence";
  }

  const max: number = body.max_tokens;
  const thinkingPieces = pieces(thinking ?? "");
  const textPieces = pieces(text);
  if (thinkingPieces.length > max) {
    thinking = thinkingPieces.slice(0, max).join("");
    text = "";
    toolUses = [];
    stopReason = "max_tokens";
    stopSequence = null;
  } else if (thinkingPieces.length + textPieces.length > max) {
    text = textPieces.slice(0, max - thinkingPieces.length).join("");
    toolUses = [];
    stopReason = "max_tokens";
    stopSequence = null;
  }
  if (reply.stopReason) {
    stopReason = reply.stopReason;
    if (stopReason === "stop_sequence") stopSequence ??= sequences[0] ?? null;
    else stopSequence = null;
  }

  const content: Block[] = [];
  if (thinking !== undefined) content.push({ type: "thinking", thinking, signature: signatureOf(thinking) });
  if (text) content.push({ type: "text", text });
  for (const t of toolUses) content.push({ type: "tool_use", id: t.id, name: t.name, input: t.input });

  const outputTokens =
    countWords(thinking) + countWords(text) + toolUses.reduce((s, t) => s + Math.max(1, countWords(t.name) + countWords(JSON.stringify(t.input))), 0);
  const cacheRead = reply.usage?.cache_read_input_tokens ?? 0;
  const cacheWrite = reply.usage?.cache_creation_input_tokens ?? 0;
  const usage = {
    input_tokens: reply.usage?.input_tokens ?? inputTokensOf(body),
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: cacheWrite, ephemeral_1h_input_tokens: 0 },
    output_tokens: reply.usage?.output_tokens ?? outputTokens,
    service_tier: "standard",
  };
  return { content, stopReason, stopSequence, usage };
}

export async function startFakeAnthropic(opts: { apiKeys?: string[] } = {}): Promise<FakeAnthropic> {
  const queue: Behaviour[] = [];
  let standing: Behaviour | null = null;
  let stopped = false;
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();

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

  const fake: FakeAnthropic = {
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
      const id = randomId("req_011C", 20);
      sendJson(res, 500, errorJson("api_error", `fake-anthropic crashed: ${error?.message ?? error}`, id));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const gone = (res: ServerResponse) => stopped || res.destroyed || res.writableEnded || !!res.socket?.destroyed;

  function sendJson(res: ServerResponse, status: number, body: unknown) {
    if (gone(res)) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
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
    let bodyIsJson = false;
    if (raw.length) {
      try {
        body = JSON.parse(raw);
        bodyIsJson = true;
      } catch {
        body = raw;
      }
    }
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = url.pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
    fake.requests.push({ method, path, headers, body });

    const requestId = randomId("req_011C", 20);
    res.setHeader("request-id", requestId);
    const fail = (status: number, message?: string, type?: string) => {
      const [defaultType, defaultMessage] = errorTypeOf(status);
      sendJson(res, status, errorJson(type ?? defaultType, message ?? defaultMessage, requestId));
    };

    const behaviour: Behaviour = queue.shift() ?? standing ?? {};
    for (const [name, value] of Object.entries(behaviour.headers ?? {})) res.setHeader(name, value);

    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (gone(res)) return;
    if (behaviour.reset) return void req.socket.destroy();
    if (behaviour.hang) return; // the socket is destroyed by stop() or by the client leaving

    if (opts.apiKeys) {
      const auth = headers.authorization ?? "";
      const key = headers["x-api-key"] ?? (/^bearer /i.test(auth) ? auth.slice("bearer ".length).trim() : "");
      if (!key) return fail(401, "x-api-key header is required");
      if (!opts.apiKeys.includes(key)) return fail(401, "invalid x-api-key");
    }
    const version = headers["anthropic-version"];
    if (!version) return fail(400, "anthropic-version: header is required");
    if (!/^\d{4}-\d{2}-\d{2}$/.test(version)) return fail(400, `anthropic-version: "${version}" is not a valid version`);

    if (behaviour.status && behaviour.status >= 400) {
      if (behaviour.errorBody !== undefined) return sendJson(res, behaviour.status, behaviour.errorBody);
      return fail(behaviour.status);
    }

    const route = `${method} ${path}`;
    const modelPath = method === "GET" && path.startsWith("/v1/models/");
    if (route !== "POST /v1/messages" && route !== "POST /v1/messages/count_tokens" && route !== "GET /v1/models" && !modelPath) return fail(404);

    if (method === "POST") {
      if (!raw.length) return fail(400, "Request body is required");
      if (!bodyIsJson || !isObject(body)) return fail(400, "There was an error parsing the body of your request: expected a JSON object");
      const problem = validate(body, route === "POST /v1/messages");
      if (problem) return fail(400, problem);
    }

    if (route === "POST /v1/messages/count_tokens")
      return sendJson(res, 200, { input_tokens: behaviour.reply?.usage?.input_tokens ?? inputTokensOf(body) });
    if (route === "GET /v1/models") return listModels(res, url, fail);
    if (modelPath) {
      const id = decodeURIComponent(path.slice("/v1/models/".length));
      const model = MODELS.find((m) => m.id === id);
      if (!model) return fail(404, `model: ${id}`);
      return sendJson(res, 200, { type: "model", ...model });
    }
    return messages(req, res, body, behaviour, requestId);
  }

  function listModels(res: ServerResponse, url: URL, fail: (status: number, message?: string) => void) {
    const limitParam = url.searchParams.get("limit");
    const limit = limitParam === null ? 20 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return fail(400, "limit: Input should be between 1 and 1000");
    const all = MODELS.map((m) => ({ type: "model", ...m }));
    const after = url.searchParams.get("after_id");
    const before = url.searchParams.get("before_id");
    let page: typeof all;
    let hasMore: boolean;
    if (before) {
      const end = all.findIndex((m) => m.id === before);
      const upto = end < 0 ? 0 : end;
      page = all.slice(Math.max(0, upto - limit), upto);
      hasMore = upto - limit > 0;
    } else {
      const start = after ? all.findIndex((m) => m.id === after) + 1 : 0;
      page = start <= 0 && after ? [] : all.slice(start, start + limit);
      hasMore = start + limit < all.length && !(start <= 0 && after);
    }
    return sendJson(res, 200, { data: page, has_more: hasMore, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
  }

  async function messages(req: IncomingMessage, res: ServerResponse, body: Json, behaviour: Behaviour, requestId: string) {
    const { content, stopReason, stopSequence, usage } = compose(body, behaviour.reply ?? {});
    const id = randomId("msg_01");
    const model: string = body.model;
    if (body.stream !== true) {
      return sendJson(res, 200, { id, type: "message", role: "assistant", model, content, stop_reason: stopReason, stop_sequence: stopSequence, usage });
    }

    type Event = { type: string } & Json;
    const events: Event[] = [
      {
        type: "message_start",
        message: { id, type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
      },
      { type: "ping" },
    ];
    content.forEach((block, index) => {
      const delta = (d: Json) => events.push({ type: "content_block_delta", index, delta: d });
      if (block.type === "thinking") {
        events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
        for (const piece of pieces(block.thinking)) delta({ type: "thinking_delta", thinking: piece });
        delta({ type: "signature_delta", signature: block.signature });
      } else if (block.type === "text") {
        events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
        for (const piece of pieces(block.text)) delta({ type: "text_delta", text: piece });
      } else {
        events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
        delta({ type: "input_json_delta", partial_json: "" });
        const json = Array.from(JSON.stringify(block.input));
        for (let at = 0; at < json.length; at += JSON_PIECE) delta({ type: "input_json_delta", partial_json: json.slice(at, at + JSON_PIECE).join("") });
      }
      events.push({ type: "content_block_stop", index });
    });
    events.push({ type: "message_delta", delta: { stop_reason: stopReason, stop_sequence: stopSequence }, usage: { output_tokens: usage.output_tokens } });
    events.push({ type: "message_stop" });

    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    const send = (event: Event) => write(res, `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    const sendError = async (type: string, message: string) => {
      await send(errorJson(type, message, requestId));
      if (!gone(res)) res.end();
    };

    let deltas = 0;
    for (const event of events) {
      if (gone(res)) return;
      if (event.type === "content_block_delta" || event.type === "message_delta") {
        // At message_delta every remaining fault fires: its count was at or above the number of deltas.
        const due = (n: number) => event.type === "message_delta" || deltas >= n;
        if (behaviour.cutAfterDeltas !== undefined && due(behaviour.cutAfterDeltas)) {
          // Let the written events reach the client first: a close that lands in the same read makes
          // some clients (Bun's fetch) drop the body bytes that came with it.
          await sleep(CUT_SETTLE_MS);
          return void req.socket.destroy();
        }
        if (behaviour.stallAfterDeltas !== undefined && due(behaviour.stallAfterDeltas)) return; // open until the client leaves or stop()
        if (behaviour.errorAfterDeltas && due(behaviour.errorAfterDeltas.after))
          return sendError(behaviour.errorAfterDeltas.type, behaviour.errorAfterDeltas.message);
      }
      if (event.type === "content_block_delta") {
        if (behaviour.deltaDelayMs) await sleep(behaviour.deltaDelayMs);
        if (gone(res)) return;
        deltas++;
      }
      await send(event);
      if (event.type === "ping" && behaviour.errorAfterStart) return sendError(behaviour.errorAfterStart.type, behaviour.errorAfterStart.message);
    }
    if (!gone(res)) res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
