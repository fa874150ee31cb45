/**
 * Anthropic's Messages API as OpenRouter serves it (`POST /api/v1/messages`): Anthropic's request
 * and answer (anthropic/messages.ts), plus OpenRouter's routing fields (`models`, `provider`)
 * and `usage.cost`. Errors on this path are Anthropic's, which is what the `@anthropic-ai/sdk`
 * client parses. A stream commits at its first content, as on `/v1/messages`, so a call that
 * fails before any is answered with its status and the SDK raises its own error class.
 */
import { invalidField } from "../../errors";
import { parseMessagesRequest, type MessagesRequest } from "../anthropic/messages";
import { splitRouting, type Routing } from "./routing";

/** Read by the routing, or accepted and ignored (`speed`, tracing, `cache_control`: caching is the upstream's). */
const DROPPED = ["models", "provider", "plugins", "route", "user", "session_id", "trace", "speed", "cache_control", "transforms", "usage"];
const REFUSED: Record<string, string> = {
  output_config: "output_config is not supported: no upstream can honour it the same way.",
  context_management: "context_management is not supported.",
};

export type OpenRouterMessages = Routing & { messages: MessagesRequest };

export function parseOpenRouterMessages(body: unknown): OpenRouterMessages {
  const { rest, ...routing } = splitRouting(body, DROPPED);
  for (const [param, reason] of Object.entries(REFUSED)) if (rest[param] !== undefined && rest[param] !== null) throw invalidField(param, "unsupported", reason);
  const messages = parseMessagesRequest(Object.fromEntries(Object.entries(rest).filter(([k]) => !(k in REFUSED))));
  const user = (body as Record<string, unknown>).user;
  if (typeof user === "string" && messages.input.user === undefined) messages.input.user = user;
  return { messages, model: messages.model, ...routing };
}
