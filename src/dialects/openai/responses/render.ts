/**
 * The Responses API object of an execution, as the `openai` SDK reads it: the output as items
 * (a `message` per text part, a `function_call` per tool call, a `reasoning` item per thinking
 * part with the upstream's signature as `encrypted_content`), the status from the execution's,
 * usage in Responses terms, and the request's parameters echoed. Item ids derive from the
 * execution id and the part's position, so a streamed item and the stored one agree.
 */
import type { ChatInput, ChatMessage, ChatOutput, ContentPart } from "../../../canonical/chat";
import type { Usage } from "../../../canonical/usage";
import type { ExecutionRow } from "../../../modules/executions/store";
import type { ResponsesEcho } from "./request";

/** What a Response shows beside its execution: the stored row's fields, or the request's when not stored. */
export type ResponseContext = { instructions: string | null; previousResponseId: string | null; store: boolean; echo: ResponsesEcho };

const suffixOf = (executionId: string) => executionId.slice(executionId.indexOf("_") + 1).replaceAll("-", "");
export const itemId = (executionId: string, kind: "msg" | "fc" | "rs", index: number) => `${kind}_${suffixOf(executionId)}${index.toString(16).padStart(4, "0")}`;

export const outputTextPart = (text: string) => ({ type: "output_text" as const, text, annotations: [] as unknown[], logprobs: [] as unknown[] });

type Part = ChatOutput["message"]["content"][number];

/** One output item of a finished part. */
export function itemOf(executionId: string, index: number, part: Part) {
  if (part.type === "text") return { id: itemId(executionId, "msg", index), type: "message" as const, status: "completed" as const, role: "assistant" as const, content: [outputTextPart(part.text)] };
  if (part.type === "tool_use")
    return { id: itemId(executionId, "fc", index), type: "function_call" as const, status: "completed" as const, call_id: part.id, name: part.name, arguments: JSON.stringify(part.input) };
  return {
    id: itemId(executionId, "rs", index),
    type: "reasoning" as const,
    summary: [] as unknown[],
    content: [{ type: "reasoning_text" as const, text: part.thinking }],
    ...(part.signature ? { encrypted_content: part.signature } : {}),
  };
}

export function usageOf(usage: Usage | null | undefined) {
  const u = usage ?? { inputTokens: 0, outputTokens: 0 };
  return {
    input_tokens: u.inputTokens,
    input_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0 },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: u.reasoningTokens ?? 0 },
    total_tokens: u.inputTokens + u.outputTokens,
  };
}

type Status = "queued" | "in_progress" | "completed" | "incomplete" | "failed" | "cancelled";

function statusOf(row: ExecutionRow, output: ChatOutput | null): { status: Status; incomplete: { reason: string } | null } {
  if (row.status === "PENDING") return { status: "queued", incomplete: null };
  if (row.status === "PROCESSING" || row.status === "AWAITING_WEBHOOK") return { status: "in_progress", incomplete: null };
  if (row.status === "CANCELLED") return { status: "cancelled", incomplete: null };
  if (row.status !== "COMPLETED") return { status: "failed", incomplete: null };
  if (output?.finish_reason === "length") return { status: "incomplete", incomplete: { reason: "max_output_tokens" } };
  if (output?.finish_reason === "content_filter") return { status: "incomplete", incomplete: { reason: "content_filter" } };
  return { status: "completed", incomplete: null };
}

/** The error object of a failed response (Responses codes: server_error, rate_limit_exceeded, …). */
export function responseErrorOf(row: ExecutionRow) {
  if (row.status !== "FAILED" && row.status !== "EXPIRED") return null;
  const code = row.errorCode === "RATE_LIMITED" ? "rate_limit_exceeded" : row.errorCode === "INPUT_VALIDATION_ERROR" ? "invalid_prompt" : "server_error";
  return { code, message: row.errorMessage ?? "The provider failed." };
}

/** The output items of a finished execution, in the order of its message's parts. */
export function outputItems(row: ExecutionRow): ReturnType<typeof itemOf>[] {
  const output = row.output as unknown as ChatOutput | null;
  return (output?.message?.content ?? []).map((part, index) => itemOf(row.id, index, part));
}

/** The Response object; `output` overrides the execution's (a stream in progress shows what it has). */
export function responseOf(row: ExecutionRow, context: ResponseContext, output: unknown[] = outputItems(row)) {
  const chat = row.output as unknown as ChatOutput | null;
  const { status, incomplete } = statusOf(row, chat);
  const echo = context.echo;
  const finished = status !== "queued" && status !== "in_progress";
  return {
    id: row.id,
    object: "response" as const,
    created_at: Math.floor(row.createdAt / 1000),
    status,
    background: echo.background ?? false,
    error: responseErrorOf(row),
    incomplete_details: incomplete,
    instructions: context.instructions,
    max_output_tokens: echo.max_output_tokens ?? null,
    max_tool_calls: null,
    model: row.model,
    output,
    parallel_tool_calls: echo.parallel_tool_calls ?? true,
    previous_response_id: context.previousResponseId,
    reasoning: echo.reasoning ?? { effort: null, summary: null },
    service_tier: "default",
    store: context.store,
    temperature: echo.temperature ?? 1,
    text: echo.text ?? { format: { type: "text" } },
    tool_choice: echo.tool_choice ?? "auto",
    tools: echo.tools ?? [],
    top_logprobs: echo.top_logprobs ?? 0,
    top_p: echo.top_p ?? 1,
    truncation: "disabled",
    usage: finished && row.usage ? usageOf(row.usage) : null,
    user: echo.user ?? null,
    metadata: echo.metadata ?? {},
    ...(row.completedAt && finished ? { completed_at: Math.floor(row.completedAt / 1000) } : {}),
  };
}

/** A canonical message as input items (GET /v1/responses/{id}/input_items). */
function messageItems(message: ChatMessage, at: string): unknown[] {
  const parts: ContentPart[] = typeof message.content === "string" ? [{ type: "text", text: message.content }] : message.content;
  const items: unknown[] = [];
  let content: unknown[] = [];
  const flush = () => {
    if (content.length) items.push({ id: `${at}${items.length}`, type: "message", role: message.role === "system" ? "developer" : message.role, status: "completed", content });
    content = [];
  };
  for (const part of parts) {
    if (part.type === "text") content.push(message.role === "assistant" ? outputTextPart(part.text) : { type: "input_text", text: part.text });
    else if (part.type === "image") content.push({ type: "input_image", image_url: part.url ?? `data:${part.media_type};base64,${part.data}`, detail: "auto" });
    else {
      flush();
      if (part.type === "tool_use") items.push({ id: `${at}${items.length}`, type: "function_call", status: "completed", call_id: part.id, name: part.name, arguments: JSON.stringify(part.input) });
      else if (part.type === "tool_result")
        items.push({ id: `${at}${items.length}`, type: "function_call_output", status: "completed", call_id: part.tool_use_id, output: typeof part.content === "string" ? part.content : JSON.stringify(part.content) });
      else items.push({ id: `${at}${items.length}`, type: "reasoning", summary: [], content: [{ type: "reasoning_text", text: part.thinking }] });
    }
  }
  flush();
  return items;
}

/** The items of the response's own input (the continued conversation and the instructions left out). */
export function inputItems(row: ExecutionRow, context: ResponseContext, previousMessages: number): unknown[] {
  const input = row.input as unknown as ChatInput | null;
  const messages = (input?.messages ?? []).slice((context.instructions !== null ? 1 : 0) + previousMessages);
  return messages.flatMap((m, i) => messageItems(m, `in_${suffixOf(row.id)}${i.toString(16).padStart(4, "0")}_`));
}
