/**
 * OpenAI chat completions ⇄ the canonical chat model. Requests: every parameter OpenAI documents
 * is either translated, ignored where that is harmless, or refused naming its `param`; an unknown
 * one is refused as OpenAI does. Answers and stream chunks are shaped as the `openai` SDK's
 * strict stream helper requires: `role` on the first delta, `index`, `id`, `type` and
 * `function.name` on a tool call's first piece, `finish_reason` on every choice, one usage chunk
 * with `choices: []` when `stream_options.include_usage` is set, the same `id` on every chunk.
 */
import { appendToolResult, type ChatInput, type ChatMessage, type ChatOutput, type ChatTool, type ContentPart, type FinishReason, type ToolChoice } from "../../canonical/chat";
import type { StreamEvent } from "../../canonical/stream";
import type { Usage } from "../../canonical/usage";
import { AppError, invalidField } from "../../errors";
import { objectBody, openaiUnknown } from "../body";

/** Translated into the canonical input. */
const TRANSLATED = new Set([
  "model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_tokens", "max_completion_tokens", "temperature", "top_p",
  "stop", "seed", "n", "response_format", "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "user", "stream", "stream_options",
]);
/** Accepted and ignored: they change nothing the caller can see, or are about OpenAI's own storage and tiers. */
const IGNORED = new Set(["metadata", "store", "service_tier", "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "safety_identifier", "verbosity", "reasoning_effort"]);
/** Documented by OpenAI, but not something the gateway can honour on any upstream: refused with the reason. */
const REFUSED: Record<string, string> = {
  audio: "Audio output is not supported on this endpoint.",
  modalities: "Only text output is supported on this endpoint.",
  prediction: "Predicted outputs are not supported.",
  web_search_options: "Web search is not supported.",
  logit_bias: "logit_bias is not supported.",
  moderation: "Moderated completions are not supported.",
  functions: "The deprecated `functions` parameter is not supported; use `tools`.",
  function_call: "The deprecated `function_call` parameter is not supported; use `tool_choice`.",
};

const ACCEPTED = new Set([...TRANSLATED, ...IGNORED]);

export type ChatRequest = { model: string; input: ChatInput; stream: boolean; includeUsage: boolean };

const bad = (param: string, message: string) => invalidField(param, "invalid_format", message);

function contentParts(content: unknown, at: string): string | ContentPart[] {
  if (typeof content === "string") return content;
  if (content === null || content === undefined) return "";
  if (!Array.isArray(content)) throw bad(at, `${at} must be a string or an array of content parts.`);
  return content.map((part: any, i): ContentPart => {
    const here = `${at}[${i}]`;
    if (part?.type === "text" && typeof part.text === "string") return { type: "text", text: part.text };
    if (part?.type === "image_url") {
      const url = typeof part.image_url === "string" ? part.image_url : part.image_url?.url;
      if (typeof url !== "string") throw bad(`${here}.image_url.url`, `${here}.image_url.url must be a string.`);
      return { type: "image", url };
    }
    if (part?.type === "refusal" && typeof part.refusal === "string") return { type: "text", text: part.refusal };
    throw bad(`${here}.type`, `${here}: unsupported content part type ${JSON.stringify(part?.type)}.`);
  });
}

/** A tool call's `arguments`: a JSON object encoded as a string (empty means `{}`). */
export function parseArguments(raw: unknown, at: string): Record<string, unknown> {
  if (typeof raw !== "string") throw bad(at, `${at} must be a JSON string.`);
  try {
    const value = raw.trim() === "" ? {} : JSON.parse(raw);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // fall through
  }
  throw bad(at, `${at} must be a JSON object encoded as a string.`);
}

/** OpenAI's messages as canonical ones: tool results become tool_result parts of one user turn. */
function messagesOf(messages: unknown): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw bad("messages", "messages must be a non-empty array.");
  const out: ChatMessage[] = [];
  messages.forEach((m: any, i) => {
    const at = `messages[${i}]`;
    const role = m?.role;
    if (role === "system" || role === "developer") out.push({ role: "system", content: contentParts(m.content, `${at}.content`) });
    else if (role === "user") out.push({ role: "user", content: contentParts(m.content, `${at}.content`) });
    else if (role === "assistant") {
      const text = contentParts(m.content, `${at}.content`);
      const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
      if (calls.length === 0) return void out.push({ role: "assistant", content: text });
      const parts: ContentPart[] = typeof text === "string" ? (text ? [{ type: "text", text }] : []) : [...text];
      calls.forEach((c: any, j: number) => {
        const here = `${at}.tool_calls[${j}]`;
        if (typeof c?.id !== "string" || typeof c?.function?.name !== "string") throw bad(here, `${here} needs an id and function.name.`);
        parts.push({ type: "tool_use", id: c.id, name: c.function.name, input: parseArguments(c.function.arguments, `${here}.function.arguments`) });
      });
      out.push({ role: "assistant", content: parts });
    } else if (role === "tool") {
      if (typeof m.tool_call_id !== "string") throw bad(`${at}.tool_call_id`, `${at}.tool_call_id is required.`);
      const content = contentParts(m.content, `${at}.content`);
      appendToolResult(out, { type: "tool_result", tool_use_id: m.tool_call_id, content: typeof content === "string" ? content : (content.filter((p) => p.type === "text" || p.type === "image") as never) });
    } else throw bad(`${at}.role`, `${at}.role must be system, developer, user, assistant or tool.`);
  });
  return out;
}

/** `[{"type":"function","function":{name,description,parameters}}]` (OpenAI's and Ollama's tools) as canonical tools; undefined when none. */
export function functionTools(tools: unknown): ChatTool[] | undefined {
  if (!Array.isArray(tools) || tools.length === 0) return undefined;
  return tools.map((t: any, i: number) => {
    if (t?.type !== "function" || typeof t.function?.name !== "string") throw bad(`tools[${i}]`, `tools[${i}] must be {"type":"function","function":{"name":…}}.`);
    return { name: t.function.name, ...(t.function.description ? { description: t.function.description } : {}), ...(t.function.parameters ? { parameters: t.function.parameters } : {}) };
  });
}

function toolChoiceOf(choice: any): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (choice?.type === "function" && typeof choice.function?.name === "string") return { name: choice.function.name };
  throw bad("tool_choice", 'tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":…}}.');
}

/** The request body of `POST /v1/chat/completions` as a canonical input, or a 400 naming the param. */
export function parseChatRequest(body: unknown): ChatRequest {
  const b = objectBody(body, { known: ACCEPTED, refused: REFUSED, unknown: openaiUnknown });
  if (typeof b.model !== "string" || b.model === "") throw bad("model", "model is required.");
  const stream = b.stream === true;
  if (stream && typeof b.n === "number" && b.n > 1) throw bad("n", "n greater than 1 is not supported when streaming.");
  const input: ChatInput = { messages: messagesOf(b.messages) };
  const tools = functionTools(b.tools);
  if (tools) input.tools = tools;
  const choice = toolChoiceOf(b.tool_choice);
  if (choice !== undefined) input.tool_choice = choice;
  const maxTokens = b.max_completion_tokens ?? b.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) input.max_tokens = maxTokens;
  for (const key of ["temperature", "top_p", "stop", "seed", "n", "response_format", "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "user", "parallel_tool_calls"] as const)
    if (b[key] !== undefined && b[key] !== null) (input as Record<string, unknown>)[key] = b[key];
  return { model: b.model, input, stream, includeUsage: stream && b.stream_options?.include_usage === true };
}

export const finishReasonOf = (reason: FinishReason | undefined) => reason ?? "stop";

export function usageOf(usage: Usage | null | undefined) {
  const u = usage ?? { inputTokens: 0, outputTokens: 0 };
  return {
    prompt_tokens: u.inputTokens,
    completion_tokens: u.outputTokens,
    total_tokens: u.inputTokens + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
  };
}

function messageOf(message: ChatOutput["message"]) {
  const text = message.content.filter((p) => p.type === "text").map((p) => (p as { text: string }).text).join("");
  const thinking = message.content.filter((p) => p.type === "thinking").map((p) => (p as { thinking: string }).thinking).join("");
  const calls = message.content.filter((p) => p.type === "tool_use") as { id: string; name: string; input: Record<string, unknown> }[];
  return {
    role: "assistant" as const,
    content: text || (calls.length ? null : ""),
    refusal: null,
    ...(thinking ? { reasoning_content: thinking } : {}),
    ...(calls.length ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: JSON.stringify(c.input) } })) } : {}),
  };
}

/** A finished execution as a chat.completion object; its id is the execution's. */
export function completionOf(id: string, model: string, createdAt: number, output: ChatOutput, usage: Usage | null) {
  const choices = output.choices ?? [{ message: output.message, finish_reason: output.finish_reason, logprobs: output.logprobs }];
  return {
    id,
    object: "chat.completion" as const,
    created: Math.floor(createdAt / 1000),
    model,
    choices: choices.map((c, index) => ({ index, message: messageOf(c.message), finish_reason: finishReasonOf(c.finish_reason), logprobs: c.logprobs ?? null })),
    usage: usageOf(usage),
    system_fingerprint: null,
  };
}

/** Renders canonical stream events as chat.completion.chunk payloads (one choice, index 0). */
export class ChunkWriter {
  private toolIndex = new Map<number, number>();
  constructor(
    private id: string,
    private model: string,
    private created: number,
    private includeUsage: boolean,
  ) {}

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null) {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      system_fingerprint: null,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      ...(this.includeUsage ? { usage: null } : {}),
    };
  }

  first() {
    return this.chunk({ role: "assistant", content: "" });
  }

  event(event: StreamEvent): unknown | null {
    switch (event.type) {
      case "text_delta":
        return this.chunk({ content: event.text });
      case "thinking_delta":
        return this.chunk({ reasoning_content: event.thinking });
      case "tool_call_start": {
        const index = this.toolIndex.size;
        this.toolIndex.set(event.index, index);
        return this.chunk({ tool_calls: [{ index, id: event.id, type: "function", function: { name: event.name, arguments: "" } }] });
      }
      case "tool_call_delta": {
        const index = this.toolIndex.get(event.index);
        if (index === undefined) return null;
        return this.chunk({ tool_calls: [{ index, function: { arguments: event.arguments } }] });
      }
      default:
        return null; // usage and signatures are in the final chunks
    }
  }

  /** The finish chunk, and the usage chunk when asked for. */
  end(finishReason: FinishReason | undefined, usage: Usage | null): unknown[] {
    const finish = this.chunk({}, finishReasonOf(finishReason));
    if (!this.includeUsage) return [finish];
    return [finish, { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, system_fingerprint: null, choices: [], usage: usageOf(usage) }];
  }
}

/** An error after content: a chunk with a top-level `error`, which the SDK raises as APIError. */
export const errorChunk = (error: AppError) => ({ error: { message: error.message, type: error.status >= 500 ? "server_error" : "invalid_request_error", param: null, code: error.code.toLowerCase() } });
