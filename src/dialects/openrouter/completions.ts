/**
 * OpenRouter's legacy completions: OpenAI's (`prompt`, streamed or not; openai/completions.ts)
 * with the same routing fields as chat (`models`, `provider`) and `usage.cost`. A chat model
 * takes the prompt as one user message.
 */
import type { ExecutionRow } from "../../modules/executions/store";
import { completionChunk, completionOf, parseCompletionRequest, usageChunk, type CompletionRequest } from "../openai/completions";
import { errorOf, servedModelOf } from "../run";
import { dataFrame } from "../sse";
import { costOf, OPENROUTER_FIELDS, streamError } from "./chat";
import { splitRouting, type Routing, type StreamRenderer } from "./routing";

export const COMPLETION_TASKS = ["text-generation", "chat"] as const;

export type OpenRouterCompletion = Routing & { completion: CompletionRequest };

export function parseOpenRouterCompletion(body: unknown): OpenRouterCompletion {
  const { rest, ...routing } = splitRouting(body, OPENROUTER_FIELDS);
  const completion = parseCompletionRequest(rest);
  return { completion, model: completion.model, ...routing };
}

/** A text_completion with OpenRouter's `usage.cost`. */
export function openrouterTextCompletion(row: ExecutionRow) {
  const completion = completionOf(row.id, servedModelOf(row), row.createdAt, row.output, row.usage);
  return { ...completion, provider: "modelroute", usage: { ...completion.usage, ...costOf(row) } };
}

/** text_completion chunks; with `stream_options.include_usage`, a last one with the usage and its cost. */
export const completionRenderer = (includeUsage: boolean): StreamRenderer => ({
  failed: (e) => streamError(e, undefined, "text_completion", { text: "" }),
  open(model, id) {
    const created = Math.floor(Date.now() / 1000);
    const chunk = (text: string, finish: string | null) => dataFrame(completionChunk(id, model, created, text, finish, includeUsage));
    return {
      first: [],
      item(item) {
        if (item.kind === "event") return item.event.type === "text_delta" ? [chunk(item.event.text, null)] : [];
        if (item.row.status !== "COMPLETED") return [streamError(errorOf(item.row), id, "text_completion", { text: "" })];
        const finish = (item.row.output as { finish_reason?: string } | null)?.finish_reason ?? "stop";
        const usage = usageChunk(id, model, created, item.row.usage);
        return [chunk("", finish), ...(includeUsage ? [dataFrame({ ...usage, usage: { ...usage.usage, ...costOf(item.row) } })] : []), "data: [DONE]\n\n"];
      },
    };
  },
});
