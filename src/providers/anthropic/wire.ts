/**
 * Canonical chat ⇄ Anthropic Messages: the request body, the answer, usage and errors.
 * Anthropic takes `system` at the top, requires `max_tokens`, keeps tool results as
 * `tool_result` blocks of a user turn and counts `input_tokens` without the cache reads and
 * writes, which canonical usage includes (each part is priced once at its own rate).
 */
import { partsOf, textOf, type ChatChoice, type ChatInput, type ContentPart, type FinishReason, type ImagePart } from "../../canonical/chat";
import type { Usage } from "../../canonical/usage";
import { classifyStatus, ProviderError, type FailureClass } from "../errors";

export const DEFAULT_MAX_TOKENS = 4096;

export function errorMessage(body: unknown): string | undefined {
  const b = body as { error?: { message?: unknown } } | null;
  return typeof b?.error?.message === "string" ? b.error.message : undefined;
}

const ERROR_TYPES: Record<string, FailureClass> = {
  overloaded_error: "overloaded",
  rate_limit_error: "rate_limited",
  api_error: "server",
  authentication_error: "auth",
  permission_error: "auth",
  billing_error: "auth",
  not_found_error: "bad_request",
  request_too_large: "bad_request",
  timeout_error: "timeout",
};

/** An `event: error` inside a stream, classified like the status it stands for. */
export function streamError(body: { error?: { type?: string; message?: string } }): ProviderError {
  const type = body.error?.type ?? "api_error";
  const message = body.error?.message ?? "stream error";
  const failure = ERROR_TYPES[type] ?? (type === "invalid_request_error" ? classifyStatus(400, message) : "server");
  return new ProviderError(failure, `stream error (${type}): ${message}`);
}

function imageBlock(part: ImagePart) {
  const dataUri = part.url?.match(/^data:([^;,]+);base64,(.*)$/s);
  if (dataUri) return { type: "image", source: { type: "base64", media_type: dataUri[1], data: dataUri[2] } };
  if (part.url) return { type: "image", source: { type: "url", url: part.url } };
  return { type: "image", source: { type: "base64", media_type: part.media_type ?? "image/png", data: part.data } };
}

function block(part: ContentPart): unknown | null {
  switch (part.type) {
    case "text":
      return part.text ? { type: "text", text: part.text } : null; // Anthropic refuses empty text blocks
    case "image":
      return imageBlock(part);
    case "tool_use":
      return { type: "tool_use", id: part.id, name: part.name, input: part.input };
    case "tool_result":
      return {
        type: "tool_result",
        tool_use_id: part.tool_use_id,
        content: typeof part.content === "string" ? part.content : part.content.map((p) => (p.type === "text" ? { type: "text", text: p.text } : imageBlock(p))),
        ...(part.is_error ? { is_error: true } : {}),
      };
    case "thinking":
      // Thinking goes back only with its signature; without one Anthropic refuses the turn.
      return part.signature ? { type: "thinking", thinking: part.thinking, signature: part.signature } : null;
  }
}

function toolChoice(input: ChatInput): unknown {
  const choice = input.tool_choice;
  const noParallel = input.parallel_tool_calls === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return input.parallel_tool_calls === false && input.tools?.length ? { type: "auto", ...noParallel } : undefined;
  if (choice === "auto") return { type: "auto", ...noParallel };
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any", ...noParallel };
  return { type: "tool", name: choice.name, ...noParallel };
}

/** The Messages body; `max_tokens` from the caller, else the route's params, else the model's limit. */
export function messagesRequest(input: ChatInput, route: { upstreamModel: string; params: Record<string, unknown>; maxOutputTokens: number | null }, stream: boolean) {
  const system = input.messages.filter((m) => m.role === "system").map((m) => textOf(m.content)).join("\n\n");
  const turns: { role: "user" | "assistant"; content: unknown[] }[] = [];
  for (const m of input.messages) {
    if (m.role === "system") continue;
    const blocks = partsOf(m.content).map(block).filter((b) => b !== null);
    const last = turns.at(-1);
    // Several canonical messages of one role (a user turn of tool results, then text) are one turn.
    if (last?.role === m.role) last.content.push(...blocks);
    else turns.push({ role: m.role, content: blocks });
  }
  const stop = input.stop === undefined ? undefined : Array.isArray(input.stop) ? input.stop : [input.stop];
  const { max_tokens: routeMax, ...params } = route.params as { max_tokens?: number };
  const body: Record<string, unknown> = {
    model: route.upstreamModel,
    max_tokens: input.max_tokens ?? routeMax ?? route.maxOutputTokens ?? DEFAULT_MAX_TOKENS,
    messages: turns,
    ...(system ? { system } : {}),
    ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
    ...(input.top_p !== undefined ? { top_p: input.top_p } : {}),
    ...(input.top_k !== undefined ? { top_k: input.top_k } : {}),
    ...(stop ? { stop_sequences: stop } : {}),
    ...(input.tools?.length ? { tools: input.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), input_schema: t.parameters ?? { type: "object", properties: {} } })) } : {}),
    ...(input.thinking ? { thinking: { type: "enabled", budget_tokens: input.thinking.budget_tokens } } : {}),
    ...(input.user ? { metadata: { user_id: input.user } } : {}),
    // Structured outputs: Anthropic takes the JSON schema itself (there is no schema-less JSON mode).
    ...(input.response_format?.type === "json_schema" ? { output_config: { format: { type: "json_schema", schema: input.response_format.json_schema.schema ?? { type: "object" } } } } : {}),
    ...(stream ? { stream: true } : {}),
  };
  const choice = toolChoice(input);
  if (choice !== undefined) body.tool_choice = choice;
  return { ...body, ...params };
}

export function finishReason(stopReason: unknown): FinishReason {
  if (stopReason === "max_tokens") return "length";
  if (stopReason === "tool_use") return "tool_calls";
  if (stopReason === "refusal") return "content_filter";
  return "stop";
}

type WireUsage = { input_tokens?: number; output_tokens?: number; cache_read_input_tokens?: number | null; cache_creation_input_tokens?: number | null };

/** Canonical usage: the whole prompt is input + cache reads + cache writes. */
export function usageFrom(usage: WireUsage): Usage {
  const cached = usage.cache_read_input_tokens ?? 0;
  const written = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (usage.input_tokens ?? 0) + cached + written,
    outputTokens: usage.output_tokens ?? 0,
    ...(cached ? { cachedInputTokens: cached } : {}),
    ...(written ? { cacheWriteTokens: written } : {}),
  };
}

type WireBlock = { type: string; text?: string; thinking?: string; signature?: string; id?: string; name?: string; input?: Record<string, unknown> };

export function contentFrom(blocks: WireBlock[]): ChatChoice["message"]["content"] {
  const content: ChatChoice["message"]["content"] = [];
  for (const b of blocks) {
    if (b.type === "text") content.push({ type: "text", text: b.text ?? "" });
    else if (b.type === "thinking") content.push({ type: "thinking", thinking: b.thinking ?? "", ...(b.signature ? { signature: b.signature } : {}) });
    else if (b.type === "tool_use") content.push({ type: "tool_use", id: b.id ?? "", name: b.name ?? "", input: b.input ?? {} });
  }
  return content;
}
