/**
 * OpenAI's legacy completions ⇄ canonical text generation (or chat, for a chat model: the prompt
 * becomes one user message). One prompt string per call; `echo`, `suffix`, `best_of` and
 * token-array prompts cannot be honoured on other upstreams and are refused naming their param.
 */
import type { ChatOutput } from "../../canonical/chat";
import type { Usage } from "../../canonical/usage";
import { invalidField } from "../../errors";
import { objectBody, openaiUnknown } from "../body";
import type { Model } from "../../modules/catalog/service";

const KNOWN = new Set(["model", "prompt", "max_tokens", "temperature", "top_p", "stop", "seed", "n", "stream", "stream_options", "user", "presence_penalty", "frequency_penalty", "best_of"]);
const REFUSED: Record<string, string> = {
  echo: "echo is not supported.",
  suffix: "suffix (insertion) is not supported.",
  logit_bias: "logit_bias is not supported.",
  logprobs: "logprobs is not supported on legacy completions.",
};

export type CompletionRequest = { model: string; prompt: string; options: Record<string, unknown>; stream: boolean; includeUsage: boolean };

export function parseCompletionRequest(body: unknown): CompletionRequest {
  const b = objectBody(body, { known: KNOWN, refused: REFUSED, unknown: openaiUnknown });
  if (b.best_of !== undefined && b.best_of !== null && b.best_of !== 1) throw invalidField("best_of", "unsupported", "best_of is not supported.");
  const prompt = Array.isArray(b.prompt) && b.prompt.length === 1 && typeof b.prompt[0] === "string" ? b.prompt[0] : b.prompt;
  if (typeof prompt !== "string") throw invalidField("prompt", "invalid_type", "prompt must be a string (one prompt per request).");
  if (typeof b.n === "number" && b.n > 1) throw invalidField("n", "unsupported", "n greater than 1 is not supported on legacy completions.");
  const options: Record<string, unknown> = {};
  for (const key of ["max_tokens", "temperature", "top_p", "stop", "seed"] as const) if (b[key] !== undefined && b[key] !== null) options[key] = b[key];
  return { model: String(b.model ?? ""), prompt, options, stream: b.stream === true, includeUsage: b.stream === true && b.stream_options?.include_usage === true };
}

/** The execution input for the model: its prompt field (`prompt`, or `text` for models that call it so), or one chat message. */
export function inputFor(model: Model, req: Pick<CompletionRequest, "prompt" | "options">): Record<string, unknown> {
  if (model.task === "chat") return { messages: [{ role: "user", content: req.prompt }], ...req.options };
  const properties = (model.inputSchema.properties ?? {}) as Record<string, unknown>;
  const field = "prompt" in properties || !("text" in properties) ? "prompt" : "text";
  return { [field]: req.prompt, ...req.options };
}

export const textOf = (output: unknown) => String((output as { text?: string } | ChatOutput | null)?.text ?? "");

const usageOf = (u: Usage | null) => ({ prompt_tokens: u?.inputTokens ?? 0, completion_tokens: u?.outputTokens ?? 0, total_tokens: (u?.inputTokens ?? 0) + (u?.outputTokens ?? 0) });

export function completionOf(id: string, model: string, createdAt: number, output: unknown, usage: Usage | null) {
  const finish = (output as { finish_reason?: string } | null)?.finish_reason ?? "stop";
  return { id, object: "text_completion" as const, created: Math.floor(createdAt / 1000), model, choices: [{ text: textOf(output), index: 0, logprobs: null, finish_reason: finish }], usage: usageOf(usage) };
}

export function completionChunk(id: string, model: string, created: number, text: string, finish: string | null, includeUsage: boolean) {
  return { id, object: "text_completion" as const, created, model, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], ...(includeUsage ? { usage: null } : {}) };
}

export const usageChunk = (id: string, model: string, created: number, usage: Usage | null) => ({ id, object: "text_completion" as const, created, model, choices: [], usage: usageOf(usage) });
