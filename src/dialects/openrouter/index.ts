/**
 * The OpenRouter-compatible surface under `/api/v1`, for code written against OpenRouter: chat
 * completions, legacy completions and Anthropic's messages with OpenRouter's routing fields and
 * `usage.cost`, embeddings, the
 * account endpoints (`key`, `credits`, `generation`), key management (`keys`), the model list in
 * OpenRouter's shape (all, the key's own, a model's endpoints) and the providers. Errors come in
 * OpenRouter's shape (dialects/openrouter/errors.ts), and in Anthropic's on `/messages`.
 */
import { operationDoc } from "../route-docs";
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import type { ChatOutput } from "../../canonical/chat";
import { messageOf, messageStream } from "../anthropic/messages";
import { inputFor } from "../openai/completions";
import { embeddingsResponse, parseEmbeddingsRequest } from "../openai/embeddings";
import { OpenAIModel } from "../openai/model";
import { errorOf, modelFor, runCompleted, runStreaming, runToEnd, servedModelOf } from "../run";
import { chatRenderer, costOf, openrouterCompletion, parseOpenRouterChat } from "./chat";
import { COMPLETION_TASKS, completionRenderer, openrouterTextCompletion, parseOpenRouterCompletion } from "./completions";
import { activity, credits, generation, keyInfo, modelsFor, providers } from "./account";
import { parseOpenRouterMessages } from "./messages";
import { modelEndpoints, userModels } from "./models";
import { candidates, runOf, streamWithFallback } from "./routing";
import { createKey, deleteKey, getKey, listKeys, updateKey } from "./keys";
import { OpenRouterModel } from "./model";

const doc = (summary: string, description: string, schema: unknown) => operationDoc({ summary, description, response: [summary, schema] });

export const openrouterRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/openrouter", seed: ctx.instanceId, prefix: "/api/v1", tags: ["OpenRouter compatible"] })
    .use(auth(ctx))
    .get("/key", ({ caller }) => keyInfo(ctx, caller), {
      auth: "inference",
      detail: doc("The calling key", "The key's label, spend (all time, today, this week, this month, in USD), spend limit and what is left of it, reset, expiry and rate limit.", OpenRouterModel.key),
    })
    .get("/credits", ({ caller }) => credits(ctx, caller), {
      auth: "inference",
      detail: doc("Credits", "Everything credited to the organization and everything charged, in USD. Management (full-permission) keys only.", OpenRouterModel.credits),
    })
    .get("/generation", ({ caller, query }) => generation(ctx, caller, query.id), {
      auth: "inference",
      query: t.Object({ id: t.Optional(t.String({ description: "The generation's id: the `id` of a completion (an execution id)." })) }),
      detail: doc("A generation's record", "Cost, tokens, latency, provider, whether it was streamed or cancelled. 404 until the generation has ended.", OpenRouterModel.generation),
    })
    .get("/activity", ({ caller, query }) => activity(ctx, caller, query.date), {
      auth: "inference",
      query: t.Object({ date: t.Optional(t.String({ description: "One UTC day of the last 30 (YYYY-MM-DD); default all 30." })) }),
      detail: doc("Activity", "Spend, requests and tokens per UTC day and model, newest day first. Management keys only.", OpenRouterModel.activity),
    })
    .get("/models", ({ query }) => ({ data: modelsFor(ctx, query.output_modalities) }), {
      auth: "inference",
      query: t.Object({ output_modalities: t.Optional(t.String({ description: 'A comma-separated list (text, image, embeddings) or "all"; default text.' })) }),
      detail: doc("List models", "The catalog in OpenRouter's model shape: per-token prices as decimal strings, context length, modalities, supported parameters.", OpenRouterModel.models),
    })
    .get("/models/count", ({ query }) => ({ data: { count: modelsFor(ctx, query.output_modalities).length } }), {
      auth: "inference",
      query: t.Object({ output_modalities: t.Optional(t.String({ description: 'A comma-separated list (text, image, embeddings) or "all"; default text.' })) }),
      detail: doc("Count models", "How many models the list would show.", OpenRouterModel.count),
    })
    .get("/models/user", ({ caller, query }) => userModels(ctx, caller, query.output_modalities), {
      auth: "inference",
      query: t.Object({ output_modalities: t.Optional(t.String({ description: 'A comma-separated list (text, image, embeddings) or "all"; default text.' })) }),
      detail: doc(
        "List the key's models",
        "The models the calling key can run, in OpenRouter's model shape: those its guardrail allows (allowed and blocked models) that have at least one route. 404 when there is none.",
        OpenRouterModel.models,
      ),
    })
    .get("/models/:author/:slug/endpoints", ({ params }) => modelEndpoints(ctx, params.author, params.slug), {
      auth: "inference",
      params: t.Object({
        author: t.String({ description: "The part of the model's slug before its `/`, or the model's owner when its slug has none." }),
        slug: t.String({ description: "The rest of the model's slug." }),
      }),
      detail: doc(
        "List a model's endpoints",
        "The model's routes in failover order as OpenRouter endpoints: the catalog provider's id (what `provider.order` and `only` take), the model's prices and limits, supported parameters, " +
          "`status` (0 taking calls, -1 cooling down or probing, -2 breaker open) and `uptime_last_30m` (percent of this process's calls on the route that did not fail by the provider's fault; null before the first). " +
          "Upstream addresses, upstream model names and keys are never shown.",
        OpenRouterModel.endpoints,
      ),
    })
    .get("/providers", () => providers(ctx), {
      auth: "inference",
      detail: doc("List providers", "The catalog's providers.", OpenRouterModel.providers),
    })
    .get("/keys", ({ caller, query }) => listKeys(ctx, caller, query), {
      auth: "inference",
      query: t.Object({ include_disabled: t.Optional(t.String({ description: '"true" to list disabled, expired and revoked keys too.' })), offset: t.Optional(t.String({ description: "Keys to skip." })) }),
      detail: doc("List keys", "The organization's API keys in OpenRouter's key shape, with their spend. Management keys only.", OpenRouterModel.keys),
    })
    .post("/keys", ({ caller, body, set }) => {
      set.status = 201;
      return createKey(ctx, caller, body);
    }, {
      auth: "inference",
      detail: {
        ...doc("Create a key", "A new inference key with an optional spend limit (`limit` in USD, `limit_reset` daily, weekly or monthly at midnight UTC) and expiry; the secret is shown once, in `key`. Management keys only.", OpenRouterModel.createdKey),
        responses: { 201: { description: "The key and its secret.", content: { "application/json": { schema: OpenRouterModel.createdKey as never } } } },
        requestBody: { required: true, content: { "application/json": { schema: OpenRouterModel.createKeyRequest as never } } },
      },
    })
    .get("/keys/:hash", ({ caller, params }) => getKey(ctx, caller, params.hash), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: doc("Get a key", "One key in OpenRouter's key shape. Management keys only.", OpenRouterModel.oneKey),
    })
    .patch("/keys/:hash", ({ caller, params, body }) => updateKey(ctx, caller, params.hash, body), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: {
        ...doc("Update a key", "Rename, disable, or change the spend limit. Management keys only.", OpenRouterModel.oneKey),
        requestBody: { required: true, content: { "application/json": { schema: OpenRouterModel.updateKeyRequest as never } } },
      },
    })
    .delete("/keys/:hash", ({ caller, params }) => deleteKey(ctx, caller, params.hash), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: doc("Delete a key", "Revokes the key at once. Management keys only.", OpenRouterModel.deleted),
    })
    .post(
      "/chat/completions",
      async ({ body, caller, request, headers, server }) => {
        const req = parseOpenRouterChat(body);
        const models = candidates(ctx, req, ["chat"], "chat completions");
        server?.timeout(request, 0);
        const run = runOf(request, headers, "/api/v1/chat/completions", req.routing, models, () => req.chat.input as unknown as Record<string, unknown>);
        if (!req.chat.stream) return openrouterCompletion(await runCompleted(ctx, caller, run));
        return streamWithFallback(ctx, caller, run, chatRenderer(req.chat.includeUsage), { "x-request-id": requestIdOf(request) }) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a chat completion (OpenRouter)",
          description:
            "OpenAI's chat completions with OpenRouter's routing: `models` (a fallback list), `provider` (`order`, `only`, `ignore`, `allow_fallbacks`, `max_price`). " +
            "`usage.cost` is the charge in USD; the `id` is the execution's (`GET /api/v1/generation?id=`). Streams send `: OPENROUTER PROCESSING` while waiting.",
          request: OpenAIModel.chatRequest, response: ["A chat.completion with usage.cost, or a stream of chunks.", OpenAIModel.chatCompletion],
        }),
      },
    )
    .post(
      "/completions",
      async ({ body, caller, request, headers, server }) => {
        const req = parseOpenRouterCompletion(body);
        const models = candidates(ctx, req, COMPLETION_TASKS, "completions");
        server?.timeout(request, 0);
        const run = runOf(request, headers, "/api/v1/completions", req.routing, models, (model) => inputFor(model, req.completion));
        if (!req.completion.stream) return openrouterTextCompletion(await runCompleted(ctx, caller, run));
        return streamWithFallback(ctx, caller, run, completionRenderer(req.completion.includeUsage), { "x-request-id": requestIdOf(request) }) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a completion (OpenRouter, legacy)",
          description:
            "OpenAI's legacy text completions (one `prompt`) for a text-generation or chat model, with OpenRouter's `models` and `provider` routing and `usage.cost` in USD. " +
            "Streams send `: OPENROUTER PROCESSING` while waiting; an error after text is a chunk with a top-level `error` and `finish_reason: \"error\"`.",
          request: OpenRouterModel.completionRequest, response: ["A text_completion with usage.cost, or with `stream: true` a stream of text_completion chunks ending with `data: [DONE]`.", OpenRouterModel.completion],
        }),
      },
    )
    .post(
      "/messages",
      async ({ body, caller, request, headers, server, set }) => {
        const req = parseOpenRouterMessages(body);
        const models = candidates(ctx, req, ["chat"], "messages");
        const requestId = requestIdOf(request);
        set.headers["request-id"] = requestId;
        server?.timeout(request, 0);
        const run = runOf(request, headers, "/api/v1/messages", req.routing, models, () => req.messages.input as unknown as Record<string, unknown>);
        if (!req.messages.stream) {
          const row = await runCompleted(ctx, caller, run);
          const message = messageOf(row.id, servedModelOf(row), row.output as unknown as ChatOutput, row.usage);
          return { ...message, usage: { ...message.usage, ...costOf(row) } };
        }
        const stream = await runStreaming(ctx, caller, run);
        return messageStream(stream, stream.servedModel, req.messages.input, requestId, costOf) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a message (OpenRouter)",
          description:
            "Anthropic's Messages API as OpenRouter serves it, for the `@anthropic-ai/sdk` client with base URL `/api`: any chat model of the catalog, with `models` (a fallback list), " +
            "`provider` preferences and `usage.cost` in USD. Errors on this path are in Anthropic's shape. A stream starts at its first content, so a failure before it is a plain error.",
          request: OpenRouterModel.messagesRequest, response: ["A message with usage.cost, or with `stream: true` a text/event-stream of named events.", OpenRouterModel.message],
        }),
      },
    )
    .post(
      "/embeddings",
      async ({ body, caller, request, headers }) => {
        const req = parseEmbeddingsRequest(Object.fromEntries(Object.entries((body ?? {}) as Record<string, unknown>).filter(([k]) => k !== "provider" && k !== "input_type")));
        modelFor(ctx, req.model, ["embedding"], "embeddings");
        const row = await runToEnd(ctx, caller, { model: req.model, input: req.input, request, path: "/api/v1/embeddings", idempotencyKey: headers["idempotency-key"], dialect: "openrouter" });
        if (row.status !== "COMPLETED") throw errorOf(row);
        const answer = embeddingsResponse(row, req.encoding);
        return { ...answer, id: row.id, usage: { ...answer.usage, cost: (row.costMicros ?? 0) / 1_000_000 } };
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create embeddings (OpenRouter)",
          description:
            "OpenAI's embeddings with OpenRouter's `usage.cost` and the execution's `id`.",
          request: OpenAIModel.embeddingsRequest, response: ["The vectors.", OpenAIModel.embeddings],
        }),
      },
    );
