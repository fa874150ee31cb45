/**
 * The Anthropic-compatible surface: `POST /v1/messages` (streamed or not) and
 * `POST /v1/messages/count_tokens`, for the `@anthropic-ai/sdk` clients with only their base URL
 * and key changed (`x-api-key` or a bearer token; `anthropic-version` accepted). Every message is
 * an execution of the named chat model, whatever its upstream; errors come in Anthropic's shape.
 */
import { Elysia } from "elysia";
import { promptText, type ChatOutput } from "../../canonical/chat";
import { estimateTokens } from "../../canonical/usage";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { errorOf, modelFor, runStreaming, runToEnd } from "../run";
import { namedFrame, sseResponse } from "../sse";
import { anthropicError } from "./errors";
import { AnthropicModel } from "./model";
import { EventWriter, messageOf, parseMessagesRequest } from "./messages";

const security = [{ apiKey: [] }];

export const anthropicRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/anthropic", seed: ctx.instanceId, prefix: "/v1/messages", tags: ["Anthropic compatible"] })
    .use(auth(ctx))
    .post(
      "/",
      async ({ body, caller, request, headers, server, set }) => {
        const req = parseMessagesRequest(body);
        const model = modelFor(ctx, req.model, ["chat"], "messages");
        const run = { model: req.model, input: req.input as unknown as Record<string, unknown>, request, path: "/v1/messages", idempotencyKey: headers["idempotency-key"], dialect: "anthropic" };
        set.headers["request-id"] = requestIdOf(request);
        server?.timeout(request, 0);
        if (!req.stream) {
          const row = await runToEnd(ctx, caller, run);
          if (row.status !== "COMPLETED") throw errorOf(row);
          return messageOf(row.id, row.model, row.output as unknown as ChatOutput, row.usage);
        }
        const stream = await runStreaming(ctx, caller, run);
        const writer = new EventWriter(stream.executionId, model.slug, req.input);
        return sseResponse(
          stream,
          (item) => {
            if (item.kind === "event") return writer.event(item.event);
            if (item.row.status !== "COMPLETED") return [namedFrame("error", anthropicError(errorOf(item.row), requestIdOf(request)).body)];
            return writer.end((item.row.output as unknown as ChatOutput).finish_reason, item.row.usage);
          },
          [],
          { "request-id": requestIdOf(request) },
          () => writer.start(),
        ) as never;
      },
      {
        auth: "inference",
        detail: {
          summary: "Create a message",
          description:
            "Anthropic's Messages API for any chat model of the catalog, whatever its upstream: `system`, text and image blocks, tools and `tool_choice`, " +
            "`stop_sequences`, `thinking`, `stream` with every event named. The answer's `id` is the execution's; it is held and charged like any execution. " +
            "Errors are in Anthropic's shape (529 `overloaded_error` when the model is at capacity).",
          security,
          requestBody: { required: true, content: { "application/json": { schema: AnthropicModel.messagesRequest as never } } },
          responses: { 200: { description: "A message, or with `stream: true` a text/event-stream of named events.", content: { "application/json": { schema: AnthropicModel.message as never } } } },
        },
      },
    )
    .post(
      "/count_tokens",
      ({ body }) => {
        const req = parseMessagesRequest(body, { countOnly: true });
        modelFor(ctx, req.model, ["chat"], "count_tokens");
        return { input_tokens: estimateTokens(promptText(req.input)) };
      },
      {
        auth: "inference",
        detail: {
          summary: "Count tokens",
          description: "The input tokens of a Messages request, estimated by the gateway (about four bytes a token); nothing is run or charged.",
          security,
          requestBody: { required: true, content: { "application/json": { schema: AnthropicModel.messagesRequest as never } } },
          responses: { 200: { description: "The estimate.", content: { "application/json": { schema: AnthropicModel.tokenCount as never } } } },
        },
      },
    );
