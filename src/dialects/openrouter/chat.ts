/**
 * OpenRouter's chat completions: OpenAI's, plus OpenRouter's routing fields (routing.ts). `usage`
 * carries the `cost`. Streams start at once with `: OPENROUTER PROCESSING` comments while
 * waiting. An error after content is a chunk with a top-level `error` and a choice with
 * `finish_reason: "error"`.
 */
import type { ChatOutput } from "../../canonical/chat";
import type { AppError } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { ChunkWriter, completionOf, parseChatRequest, type ChatRequest } from "../openai/chat";
import { errorOf, servedModelOf } from "../run";
import { dataFrame } from "../sse";
import { splitRouting, usd, type Routing, type StreamRenderer } from "./routing";

/** OpenRouter's own fields, read by the routing or ignored; the rest is the dialect's own. */
export const OPENROUTER_FIELDS = ["models", "provider", "transforms", "usage", "route", "session_id", "trace", "plugins", "reasoning", "debug", "image_config", "cache_control"];

export type OpenRouterChat = Routing & { chat: ChatRequest };

export function parseOpenRouterChat(body: unknown): OpenRouterChat {
  const { rest, ...routing } = splitRouting(body, OPENROUTER_FIELDS);
  const chat = parseChatRequest(rest);
  return { chat, model: chat.model, ...routing };
}

/** OpenRouter's `usage` additions: the charge in USD, and no BYOK. */
export const costOf = (row: ExecutionRow) => ({ cost: usd(row.costMicros), is_byok: false });

/** OpenAI's chat.completion with OpenRouter's `usage.cost`. */
export function openrouterCompletion(row: ExecutionRow) {
  const completion = completionOf(row.id, servedModelOf(row), row.createdAt, row.output as unknown as ChatOutput, row.usage);
  return { ...completion, provider: "modelroute", usage: { ...completion.usage, ...costOf(row) } };
}

/** A failure in a stream, as OpenRouter sends it: a top-level `error` and a choice that ends with `finish_reason: "error"`. */
export const streamError = (e: AppError, id: string | undefined, object: string, choice: Record<string, unknown>) =>
  dataFrame({ ...(id ? { id, object } : {}), error: { code: e.status, message: e.message }, choices: [{ index: 0, ...choice, finish_reason: "error" }] });

/** Chat chunks as OpenAI's SDK reads them, with the cost on the usage chunk. */
export const chatRenderer = (includeUsage: boolean): StreamRenderer => ({
  failed: (e) => streamError(e, undefined, "chat.completion.chunk", { delta: { content: "" } }),
  open(model, id) {
    const writer = new ChunkWriter(id, model, Math.floor(Date.now() / 1000), includeUsage);
    return {
      first: [dataFrame(writer.first())],
      item(item) {
        if (item.kind === "event") {
          const chunk = writer.event(item.event);
          return chunk ? [dataFrame(chunk)] : [];
        }
        if (item.row.status !== "COMPLETED") return [streamError(errorOf(item.row), id, "chat.completion.chunk", { delta: { content: "" } })];
        const [finish, usage] = writer.end((item.row.output as unknown as ChatOutput).finish_reason, item.row.usage) as Record<string, any>[];
        return [dataFrame(finish), ...(usage ? [dataFrame({ ...usage, usage: { ...usage.usage, ...costOf(item.row) } })] : []), "data: [DONE]\n\n"];
      },
    };
  },
});
