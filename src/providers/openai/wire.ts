/**
 * Canonical chat ⇄ OpenAI chat completions: the request body, the answer, and the error shape.
 * OpenAI keeps tool results as `role: "tool"` messages and tool calls as `tool_calls` with
 * JSON-string arguments; canonical keeps both as typed parts (docs/tasks.md).
 */
import { partsOf, textOf, type ChatChoice, type ChatInput, type ChatMessage, type FinishReason, type ImagePart, type TextPart, type ToolUsePart } from "../../canonical/chat";
import type { Usage } from "../../canonical/usage";

/** The message of an OpenAI error body `{"error":{"message",…}}` (also OpenRouter's, and `{"detail"}` from vLLM). */
export function errorMessage(body: unknown): string | undefined {
  const b = body as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown } | null;
  if (typeof b?.error === "string") return b.error;
  if (typeof b?.error?.message === "string") return b.error.message;
  if (typeof b?.detail === "string") return b.detail;
  if (typeof b?.message === "string") return b.message;
  return undefined;
}

const imageUrl = (part: ImagePart) => ({ type: "image_url", image_url: { url: part.url ?? `data:${part.media_type ?? "image/png"};base64,${part.data}` } });

function userMessages(message: ChatMessage): unknown[] {
  if (typeof message.content === "string") return [{ role: message.role, content: message.content }];
  const out: unknown[] = [];
  const content: unknown[] = [];
  for (const part of message.content) {
    // One `tool` message per result, before the user's own words of the same turn.
    if (part.type === "tool_result") out.push({ role: "tool", tool_call_id: part.tool_use_id, content: textOf(part.content) || (part.is_error ? "error" : "") });
    else if (part.type === "text") content.push({ type: "text", text: part.text });
    else if (part.type === "image") content.push(imageUrl(part));
  }
  if (content.length > 0) {
    const onlyText = content.every((c) => (c as TextPart).type === "text");
    out.push({ role: message.role, content: onlyText ? content.map((c) => (c as TextPart).text).join("") : content });
  }
  return out;
}

function assistantMessage(message: ChatMessage): unknown {
  const parts = partsOf(message.content);
  const text = parts.filter((p): p is TextPart => p.type === "text").map((p) => p.text).join("");
  const calls = parts.filter((p): p is ToolUsePart => p.type === "tool_use");
  return {
    role: "assistant",
    content: text || (calls.length ? null : ""),
    ...(calls.length ? { tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: JSON.stringify(c.input) } })) } : {}),
  };
}

const PASSED_THROUGH = ["temperature", "top_p", "stop", "seed", "n", "response_format", "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty", "user", "parallel_tool_calls"] as const;

/** The chat completions body for a canonical input; route params are merged last (upstream-specific extras). */
export function chatRequest(input: ChatInput, upstreamModel: string, params: Record<string, unknown>, stream: boolean): Record<string, unknown> {
  const messages = input.messages.flatMap((m) => (m.role === "assistant" ? [assistantMessage(m)] : m.role === "system" ? [{ role: "system", content: textOf(m.content) }] : userMessages(m)));
  const body: Record<string, unknown> = { model: upstreamModel, messages };
  for (const field of PASSED_THROUGH) if (input[field] !== undefined) body[field] = input[field];
  if (input.max_tokens !== undefined) body.max_tokens = input.max_tokens;
  if (input.tools?.length) body.tools = input.tools.map((t) => ({ type: "function", function: { name: t.name, ...(t.description ? { description: t.description } : {}), parameters: t.parameters ?? { type: "object", properties: {} } } }));
  if (input.tool_choice !== undefined) body.tool_choice = typeof input.tool_choice === "string" ? input.tool_choice : { type: "function", function: { name: input.tool_choice.name } };
  if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
  return { ...body, ...params };
}

export function finishReason(reason: unknown, hasToolCalls: boolean): FinishReason {
  if (reason === "length") return "length";
  if (reason === "content_filter") return "content_filter";
  if (reason === "tool_calls" || reason === "function_call" || (hasToolCalls && reason !== "stop")) return "tool_calls";
  return hasToolCalls && reason === undefined ? "tool_calls" : "stop";
}

/** Tool-call arguments as an object; a server that sends something else keeps it, not loses it. */
export function parseArguments(raw: string): Record<string, unknown> {
  if (raw.trim() === "") return {};
  try {
    const value = JSON.parse(raw);
    return value && typeof value === "object" && !Array.isArray(value) ? value : { value };
  } catch {
    return { _unparsed_arguments: raw };
  }
}

type WireToolCall = { id?: string; function?: { name?: string; arguments?: string } };
type WireMessage = { content?: string | null; reasoning_content?: string | null; reasoning?: string | null; tool_calls?: WireToolCall[] | null };

export function choiceFrom(choice: { message?: WireMessage; finish_reason?: unknown; logprobs?: unknown }): ChatChoice {
  const m = choice.message ?? {};
  const content: ChatChoice["message"]["content"] = [];
  const thinking = m.reasoning_content ?? m.reasoning;
  if (thinking) content.push({ type: "thinking", thinking });
  if (m.content) content.push({ type: "text", text: m.content });
  for (const [i, call] of (m.tool_calls ?? []).entries())
    content.push({ type: "tool_use", id: call.id || `call_${i}`, name: call.function?.name ?? "", input: parseArguments(call.function?.arguments ?? "") });
  const hasCalls = (m.tool_calls?.length ?? 0) > 0;
  return { message: { role: "assistant", content }, finish_reason: finishReason(choice.finish_reason, hasCalls), ...(choice.logprobs ? { logprobs: choice.logprobs } : {}) };
}

type WireUsage = { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number }; completion_tokens_details?: { reasoning_tokens?: number } };

/** OpenAI's usage; `prompt_tokens` already includes the cached ones. Null when the server sent none. */
export function usageFrom(usage: WireUsage | null | undefined): Usage | null {
  if (!usage || typeof usage.prompt_tokens !== "number") return null;
  const cached = usage.prompt_tokens_details?.cached_tokens;
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens ?? 0,
    ...(cached ? { cachedInputTokens: cached } : {}),
    ...(reasoning ? { reasoningTokens: reasoning } : {}),
  };
}
