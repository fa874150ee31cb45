/**
 * The Anthropic-compatible surface: `POST /v1/messages` (streamed or not) and
 * `POST /v1/messages/count_tokens`, for the `@anthropic-ai/sdk` clients with only their base URL
 * and key changed (`x-api-key` or a bearer token; `anthropic-version` accepted). Every message is
 * an execution of the named chat model, whatever its upstream; errors come in Anthropic's shape.
 */
import { operationDoc } from "../route-docs";
import { Elysia } from "elysia";
import { promptText, type ChatOutput } from "../../canonical/chat";
import { estimateTokens } from "../../canonical/usage";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { modelFor, runCompleted, runStreaming } from "../run";
import { AnthropicModel } from "./model";
import { messageOf, messageStream, parseMessagesRequest } from "./messages";


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
          const row = await runCompleted(ctx, caller, run);
          return messageOf(row.id, row.model, row.output as unknown as ChatOutput, row.usage);
        }
        return messageStream(await runStreaming(ctx, caller, run), model.slug, req.input, requestIdOf(request)) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a message",
          description:
            "Anthropic's Messages API for any chat model of the catalog, whatever its upstream: `system`, text and image blocks, tools and `tool_choice`, " +
            "`stop_sequences`, `thinking`, `stream` with every event named. The answer's `id` is the execution's; it is held and charged like any execution. " +
            "Errors are in Anthropic's shape (529 `overloaded_error` when the model is at capacity).",
          request: AnthropicModel.messagesRequest, response: ["A message, or with `stream: true` a text/event-stream of named events.", AnthropicModel.message],
        }),
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
        detail: operationDoc({
          summary: "Count tokens",
          description:
            "The input tokens of a Messages request, estimated by the gateway (about four bytes a token); nothing is run or charged.",
          request: AnthropicModel.messagesRequest, response: ["The estimate.", AnthropicModel.tokenCount],
        }),
      },
    );
