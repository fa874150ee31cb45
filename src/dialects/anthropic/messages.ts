/**
 * Anthropic Messages ⇄ the canonical chat model. Requests: `system` on top, content blocks
 * (text, image by base64 or URL, tool_use, tool_result, thinking with its signature), tools with
 * `input_schema`, `tool_choice` (`any` is canonical `required`), `stop_sequences`, `thinking`.
 * Answers and streams as the `@anthropic-ai/sdk` parses them: every event named by its `event:`
 * line, `message_start` first with the input count, blocks started, delta'd and stopped in order,
 * `message_delta` with the stop reason and the cumulative output count, then `message_stop`.
 * Usage back in Anthropic's terms: `input_tokens` without the cache reads and writes.
 */
import type { ChatInput, ChatMessage, ChatOutput, ContentPart, FinishReason, ToolChoice } from "../../canonical/chat";
import type { StreamEvent } from "../../canonical/stream";
import { estimateTokens, type Usage } from "../../canonical/usage";
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { objectBody } from "../body";
import { errorOf, type DialectStream } from "../run";
import { namedFrame, sseResponse } from "../sse";
import { anthropicError } from "./errors";

const KNOWN = new Set(["model", "messages", "system", "max_tokens", "metadata", "stop_sequences", "stream", "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "output_config", "cache_control", "diagnostics", "inference_geo", "speed"]);
const REFUSED: Record<string, string> = { container: "Containers are not supported.", mcp_servers: "MCP servers are not supported." };

const bad = (param: string, message: string) => invalidField(param, "invalid_format", message);

function imagePart(block: any, at: string): ContentPart {
  const source = block?.source;
  if (source?.type === "base64" && typeof source.data === "string") return { type: "image", data: source.data, media_type: source.media_type };
  if (source?.type === "url" && typeof source.url === "string") return { type: "image", url: source.url };
  throw bad(`${at}.source`, `${at}.source must be {"type":"base64",…} or {"type":"url",…}.`);
}

function blocksOf(content: unknown, at: string): string | ContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw bad(at, `${at} must be a string or an array of content blocks.`);
  const parts: ContentPart[] = [];
  content.forEach((b: any, i) => {
    const here = `${at}[${i}]`;
    if (b?.type === "text") parts.push({ type: "text", text: String(b.text ?? "") });
    else if (b?.type === "image") parts.push(imagePart(b, here));
    else if (b?.type === "tool_use") parts.push({ type: "tool_use", id: String(b.id), name: String(b.name), input: (b.input ?? {}) as Record<string, unknown> });
    else if (b?.type === "tool_result") {
      const inner = b.content === undefined ? "" : blocksOf(b.content, `${here}.content`);
      parts.push({ type: "tool_result", tool_use_id: String(b.tool_use_id), content: typeof inner === "string" ? inner : (inner.filter((p) => p.type === "text" || p.type === "image") as never), ...(b.is_error ? { is_error: true } : {}) });
    } else if (b?.type === "thinking") parts.push({ type: "thinking", thinking: String(b.thinking ?? ""), ...(b.signature ? { signature: String(b.signature) } : {}) });
    else if (b?.type === "redacted_thinking") return; // opaque to every other upstream
    else throw bad(`${here}.type`, `${here}: unsupported content block type ${JSON.stringify(b?.type)}.`);
  });
  return parts;
}

function toolChoiceOf(choice: any): { choice?: ToolChoice; parallel?: boolean } {
  if (choice === undefined) return {};
  const parallel = choice?.disable_parallel_tool_use === true ? false : undefined;
  if (choice?.type === "auto") return { choice: "auto", parallel };
  if (choice?.type === "any") return { choice: "required", parallel };
  if (choice?.type === "none") return { choice: "none" };
  if (choice?.type === "tool" && typeof choice.name === "string") return { choice: { name: choice.name }, parallel };
  throw bad("tool_choice", 'tool_choice must be {"type":"auto"|"any"|"none"} or {"type":"tool","name":…}.');
}

export type MessagesRequest = { model: string; input: ChatInput; stream: boolean };

export function parseMessagesRequest(body: unknown, opts: { countOnly?: boolean } = {}): MessagesRequest {
  const b = objectBody(body, { known: KNOWN, refused: REFUSED, unknown: (key) => `${key}: Extra inputs are not permitted` });
  if (typeof b.model !== "string" || b.model === "") throw invalidField("model", "required", "model: Field required");
  if (!opts.countOnly && typeof b.max_tokens !== "number") throw invalidField("max_tokens", "required", "max_tokens: Field required");
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw invalidField("messages", "required", "messages: at least one message is required");
  const messages: ChatMessage[] = [];
  if (b.system !== undefined) {
    const system = blocksOf(b.system, "system");
    messages.push({ role: "system", content: typeof system === "string" ? system : system.filter((p) => p.type === "text") });
  }
  b.messages.forEach((m: any, i: number) => {
    if (m?.role !== "user" && m?.role !== "assistant") throw bad(`messages[${i}].role`, `messages[${i}].role must be "user" or "assistant".`);
    messages.push({ role: m.role, content: blocksOf(m.content, `messages[${i}].content`) });
  });
  const input: ChatInput = { messages };
  if (typeof b.max_tokens === "number") input.max_tokens = b.max_tokens;
  if (Array.isArray(b.tools) && b.tools.length)
    input.tools = b.tools.map((t: any, i: number) => {
      if (typeof t?.name !== "string") throw bad(`tools[${i}].name`, `tools[${i}].name is required.`);
      return { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.input_schema ?? { type: "object" } };
    });
  const { choice, parallel } = toolChoiceOf(b.tool_choice);
  if (choice !== undefined) input.tool_choice = choice;
  if (parallel === false) input.parallel_tool_calls = false;
  if (Array.isArray(b.stop_sequences) && b.stop_sequences.length) input.stop = b.stop_sequences;
  if (typeof b.temperature === "number") input.temperature = b.temperature;
  if (typeof b.top_p === "number") input.top_p = b.top_p;
  if (typeof b.top_k === "number") input.top_k = b.top_k;
  if (b.thinking?.type === "enabled" && typeof b.thinking.budget_tokens === "number") input.thinking = { budget_tokens: b.thinking.budget_tokens };
  if (typeof b.metadata?.user_id === "string") input.user = b.metadata.user_id;
  const format = b.output_config?.format;
  if (format !== undefined && format !== null) {
    if (format.type !== "json_schema" || typeof format.schema !== "object" || format.schema === null) throw bad("output_config.format", 'output_config.format must be {"type":"json_schema","schema":{…}}.');
    input.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema } };
  }
  return { model: b.model, input, stream: b.stream === true };
}

export function stopReasonOf(reason: FinishReason | undefined): string {
  if (reason === "length") return "max_tokens";
  if (reason === "tool_calls") return "tool_use";
  if (reason === "content_filter") return "refusal";
  return "end_turn";
}

/** Canonical usage in Anthropic's terms: `input_tokens` is the prompt without its cache reads and writes. */
export function usageOf(usage: Usage | null | undefined) {
  const u = usage ?? { inputTokens: 0, outputTokens: 0 };
  const cached = u.cachedInputTokens ?? 0;
  const written = u.cacheWriteTokens ?? 0;
  return { input_tokens: Math.max(0, u.inputTokens - cached - written), output_tokens: u.outputTokens, cache_creation_input_tokens: written, cache_read_input_tokens: cached };
}

function blockOf(part: ChatOutput["message"]["content"][number]) {
  if (part.type === "text") return { type: "text" as const, text: part.text };
  if (part.type === "thinking") return { type: "thinking" as const, thinking: part.thinking, signature: part.signature ?? "" };
  return { type: "tool_use" as const, id: part.id, name: part.name, input: part.input };
}

/** A finished execution as an Anthropic message; its id is the execution's. */
export function messageOf(id: string, model: string, output: ChatOutput, usage: Usage | null) {
  return { id, type: "message" as const, role: "assistant" as const, model, content: output.message.content.map(blockOf), stop_reason: stopReasonOf(output.finish_reason), stop_sequence: null, usage: usageOf(usage) };
}

/** Renders canonical stream events as Anthropic's named SSE events, blocks strictly in order. */
export class EventWriter {
  private open: { index: number; type: string } | null = null;
  private blocks = 0;
  private byPart = new Map<number, number>();
  private inputTokens: number;

  constructor(
    private id: string,
    private model: string,
    input: ChatInput,
  ) {
    this.inputTokens = estimateTokens(JSON.stringify(input.messages));
  }

  /** An upstream's own count (Anthropic's message_start) beats the estimate. */
  setUsage(usage: Usage) {
    if (usage.inputTokens > 0) this.inputTokens = usageOf(usage).input_tokens;
  }

  start(): string[] {
    return [
      namedFrame("message_start", {
        type: "message_start",
        message: { id: this.id, type: "message", role: "assistant", model: this.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: this.inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 } },
      }),
      namedFrame("ping", { type: "ping" }),
    ];
  }

  private blockFor(part: number, type: string, startBlock: () => Record<string, unknown>): { index: number; frames: string[] } | null {
    const known = this.byPart.get(part);
    if (known !== undefined) return this.open?.index === known ? { index: known, frames: [] } : null; // a part after its block closed: kept only in the final answer
    const frames: string[] = [];
    if (this.open) frames.push(namedFrame("content_block_stop", { type: "content_block_stop", index: this.open.index }));
    const index = this.blocks++;
    this.byPart.set(part, index);
    this.open = { index, type };
    frames.push(namedFrame("content_block_start", { type: "content_block_start", index, content_block: startBlock() }));
    return { index, frames };
  }

  event(event: StreamEvent): string[] {
    switch (event.type) {
      case "usage":
        this.setUsage(event.usage);
        return [];
      case "text_delta": {
        const b = this.blockFor(event.index, "text", () => ({ type: "text", text: "" }));
        return b ? [...b.frames, namedFrame("content_block_delta", { type: "content_block_delta", index: b.index, delta: { type: "text_delta", text: event.text } })] : [];
      }
      case "thinking_delta": {
        const b = this.blockFor(event.index, "thinking", () => ({ type: "thinking", thinking: "", signature: "" }));
        return b ? [...b.frames, namedFrame("content_block_delta", { type: "content_block_delta", index: b.index, delta: { type: "thinking_delta", thinking: event.thinking } })] : [];
      }
      case "thinking_signature": {
        const b = this.blockFor(event.index, "thinking", () => ({ type: "thinking", thinking: "", signature: "" }));
        return b ? [...b.frames, namedFrame("content_block_delta", { type: "content_block_delta", index: b.index, delta: { type: "signature_delta", signature: event.signature } })] : [];
      }
      case "tool_call_start": {
        const b = this.blockFor(event.index, "tool_use", () => ({ type: "tool_use", id: event.id, name: event.name, input: {} }));
        return b ? b.frames : [];
      }
      case "tool_call_delta": {
        const index = this.byPart.get(event.index);
        if (index === undefined || this.open?.index !== index) return [];
        return [namedFrame("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: event.arguments } })];
      }
      default:
        return [];
    }
  }

  /** `extraUsage` joins the usage of `message_delta` (OpenRouter's `cost`). */
  end(finishReason: FinishReason | undefined, usage: Usage | null, extraUsage: Record<string, unknown> = {}): string[] {
    const frames: string[] = [];
    if (this.open) frames.push(namedFrame("content_block_stop", { type: "content_block_stop", index: this.open.index }));
    this.open = null;
    const u = usageOf(usage);
    frames.push(namedFrame("message_delta", { type: "message_delta", delta: { stop_reason: stopReasonOf(finishReason), stop_sequence: null }, usage: { output_tokens: u.output_tokens, input_tokens: u.input_tokens, cache_read_input_tokens: u.cache_read_input_tokens, cache_creation_input_tokens: u.cache_creation_input_tokens, ...extraUsage } }));
    frames.push(namedFrame("message_stop", { type: "message_stop" }));
    return frames;
  }
}

/**
 * A started stream as Anthropic's named events; an error after content is `event: error`.
 * `extraUsage` adds fields to the final usage (OpenRouter's `cost`).
 */
export function messageStream(stream: DialectStream, model: string, input: ChatInput, requestId: string, extraUsage?: (row: ExecutionRow) => Record<string, unknown>): Response {
  const writer = new EventWriter(stream.executionId, model, input);
  return sseResponse(
    stream,
    (item) => {
      if (item.kind === "event") return writer.event(item.event);
      if (item.row.status !== "COMPLETED") return [namedFrame("error", anthropicError(errorOf(item.row), requestId).body)];
      return writer.end((item.row.output as unknown as ChatOutput).finish_reason, item.row.usage, extraUsage?.(item.row));
    },
    [],
    { "request-id": requestId },
    () => writer.start(),
  );
}
