/**
 * Finished executions as Ollama's answers: `/api/chat` carries a `message`, `/api/generate` a
 * `response`, and both end with `done: true`, `done_reason` and the counts and durations Ollama
 * reports, in nanoseconds. The durations are the execution's own: `total_duration` from create to
 * completion, `load_duration` its wait before a provider took it, `prompt_eval_duration` until
 * its first content (0 when not streamed: an upstream reports no prompt time apart) and
 * `eval_duration` the rest. The counts are the upstream's usage.
 */
import type { AssistantMessage, ChatOutput, FinishReason, ThinkingPart, ToolUsePart } from "../../canonical/chat";
import type { ExecutionRow } from "../../modules/executions/store";
import { iso } from "../../time";

export type Shape = "chat" | "generate";

/** Ollama's reasons: `length` when the token limit cut the answer, else `stop` (a tool call too). */
export const doneReasonOf = (reason: FinishReason | undefined) => (reason === "length" ? "length" : "stop");

const ns = (ms: number) => Math.max(0, Math.round(ms * 1_000_000));

/** `firstContentAt` (ms) is when a stream's first content came. */
export function statsOf(row: ExecutionRow, firstContentAt?: number) {
  const started = row.startedAt ?? row.createdAt;
  const done = Math.max(row.completedAt ?? started, started);
  const first = Math.min(Math.max(firstContentAt ?? started, started), done);
  return {
    total_duration: ns(done - row.createdAt),
    load_duration: ns(started - row.createdAt),
    prompt_eval_count: row.usage?.inputTokens ?? 0,
    prompt_eval_duration: ns(first - started),
    eval_count: row.usage?.outputTokens ?? 0,
    eval_duration: ns(done - first),
  };
}

const textOfParts = (message: AssistantMessage) => message.content.map((p) => (p.type === "text" ? p.text : "")).join("");
const thinkingOfParts = (message: AssistantMessage) => message.content.map((p) => (p.type === "thinking" ? (p as ThinkingPart).thinking : "")).join("");

/** Tool calls with arguments as an object, as Ollama sends them; `id` is the upstream's, which a tool message may name back. */
export const toolCallsOf = (message: AssistantMessage) =>
  message.content.filter((p): p is ToolUsePart => p.type === "tool_use").map((c, index) => ({ id: c.id, function: { index, name: c.name, arguments: c.input } }));

/** The assistant's message of a chat output. */
export function messageOf(message: AssistantMessage) {
  const thinking = thinkingOfParts(message);
  const calls = toolCallsOf(message);
  return { role: "assistant" as const, content: textOfParts(message), ...(thinking ? { thinking } : {}), ...(calls.length ? { tool_calls: calls } : {}) };
}

/** The output of a chat or a text-generation model as text, thinking and message. */
function outputOf(row: ExecutionRow): { message: AssistantMessage; finish?: FinishReason } {
  const output = (row.output ?? {}) as Partial<ChatOutput> & { text?: string };
  if (output.message) return { message: output.message, finish: output.finish_reason };
  return { message: { role: "assistant", content: [{ type: "text", text: String(output.text ?? "") }] }, finish: output.finish_reason };
}

/** A finished execution as one Ollama answer; `name` is the model as the client named it. */
export function answerOf(shape: Shape, name: string, row: ExecutionRow) {
  const { message, finish } = outputOf(row);
  const head = { model: name, created_at: iso(row.completedAt ?? row.createdAt) };
  const tail = { done: true, done_reason: doneReasonOf(finish), ...statsOf(row) };
  if (shape === "chat") return { ...head, message: messageOf(message), ...tail };
  const thinking = thinkingOfParts(message);
  return { ...head, response: textOfParts(message), ...(thinking ? { thinking } : {}), ...tail };
}

/** The last line of a stream: no content, `done: true` and the figures. */
export function finalLineOf(shape: Shape, name: string, row: ExecutionRow, firstContentAt: number | undefined) {
  const head = { model: name, created_at: iso(row.completedAt ?? row.createdAt) };
  const body = shape === "chat" ? { message: { role: "assistant" as const, content: "" } } : { response: "" };
  return { ...head, ...body, done: true, done_reason: doneReasonOf(outputOf(row).finish), ...statsOf(row, firstContentAt) };
}

/**
 * The answer to a request with nothing to generate (no messages, an empty prompt): Ollama's way
 * to load a model, or with `keep_alive: 0` to unload it. Nothing runs and nothing is charged.
 */
export function loadAnswerOf(shape: Shape, name: string, unload: boolean, now: number) {
  const body = shape === "chat" ? { message: { role: "assistant" as const, content: "" } } : { response: "" };
  return { model: name, created_at: iso(now), ...body, done: true, done_reason: unload ? "unload" : "load" };
}

/** The assistant's tool calls of a finished stream, for the line before the last. */
export const streamedToolCalls = (row: ExecutionRow) => toolCallsOf(outputOf(row).message);
