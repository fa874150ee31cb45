/**
 * The OpenAI-compatible surface under `/v1`: chat completions (streamed or not), legacy
 * completions, embeddings and image generation,
 * for the `openai` SDK with only its base URL and key changed. Every call is an execution of
 * the named model (its id is the answer's `id`), held, metered and settled like any other, and
 * listed in `/v1/executions`. Errors come in OpenAI's shape (dialects/errors.ts).
 */
import { operationDoc } from "../route-docs";
import { Elysia } from "elysia";
import type { ChatOutput } from "../../canonical/chat";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { errorOf, modelFor, runStreaming, runCompleted } from "../run";
import { dataFrame, sseResponse } from "../sse";
import { ChunkWriter, completionOf, errorChunk, parseChatRequest } from "./chat";
import { completionChunk, completionOf as legacyCompletionOf, inputFor, parseCompletionRequest, usageChunk } from "./completions";
import { embeddingsResponse, parseEmbeddingsRequest } from "./embeddings";
import { imagesResponse, parseImagesRequest } from "./images";
import { OpenAIModel } from "./model";


export const openaiRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/openai", seed: ctx.instanceId, prefix: "/v1", tags: ["OpenAI compatible"] })
    .use(auth(ctx))
    .post(
      "/chat/completions",
      async ({ body, caller, request, headers, server }) => {
        const req = parseChatRequest(body);
        const model = modelFor(ctx, req.model, ["chat"], "chat completions");
        const run = { model: req.model, input: req.input as unknown as Record<string, unknown>, request, path: "/v1/chat/completions", idempotencyKey: headers["idempotency-key"], dialect: "openai" };
        server?.timeout(request, 0); // a long generation must not hit the idle timeout
        if (!req.stream) {
          const row = await runCompleted(ctx, caller, run);
          return completionOf(row.id, row.model, row.createdAt, row.output as unknown as ChatOutput, row.usage);
        }
        const stream = await runStreaming(ctx, caller, run);
        const writer = new ChunkWriter(stream.executionId, model.slug, Math.floor(Date.now() / 1000), req.includeUsage);
        const response = sseResponse(
          stream,
          (item) => {
            if (item.kind === "event") {
              const chunk = writer.event(item.event);
              return chunk ? [dataFrame(chunk)] : [];
            }
            if (item.row.status !== "COMPLETED") return [dataFrame(errorChunk(errorOf(item.row)))];
            const output = item.row.output as unknown as ChatOutput;
            return [...writer.end(output.finish_reason, item.row.usage).map(dataFrame), "data: [DONE]\n\n"];
          },
          [dataFrame(writer.first())],
          { "x-request-id": requestIdOf(request) },
        );
        return response as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a chat completion",
          description:
            "OpenAI's chat completions for any chat model of the catalog, whatever its upstream: messages with text and images, tools and tool calls, " +
            "`tool_choice`, `response_format`, `n`, `stop`, `seed`, `logprobs`, `stream` with `stream_options.include_usage`. The answer's `id` is the " +
            "execution's (`GET /v1/executions/{id}`); it is held and charged like any execution. Send `Idempotency-Key` to retry safely. Errors are in OpenAI's shape.",
          request: OpenAIModel.chatRequest, response: ["A chat.completion, or with `stream: true` a text/event-stream of chat.completion.chunk objects ending with `data: [DONE]`.", OpenAIModel.chatCompletion],
        }),
      },
    )
    .post(
      "/embeddings",
      async ({ body, caller, request, headers }) => {
        const req = parseEmbeddingsRequest(body);
        modelFor(ctx, req.model, ["embedding"], "embeddings");
        const row = await runCompleted(ctx, caller, { model: req.model, input: req.input, request, path: "/v1/embeddings", idempotencyKey: headers["idempotency-key"], dialect: "openai" });
        return embeddingsResponse(row, req.encoding);
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create embeddings",
          description:
            "OpenAI's embeddings for any embedding model of the catalog: `input` a string or a list, `dimensions`, `encoding_format` float or base64 (little-endian float32, as OpenAI sends it).",
          request: OpenAIModel.embeddingsRequest, response: ["The vectors, in input order.", OpenAIModel.embeddings],
        }),
      },
    )
    .post(
      "/completions",
      async ({ body, caller, request, headers, server }) => {
        const req = parseCompletionRequest(body);
        const model = modelFor(ctx, req.model, ["text-generation", "chat"], "completions");
        const run = { model: req.model, input: inputFor(model, req), request, path: "/v1/completions", idempotencyKey: headers["idempotency-key"], dialect: "openai" };
        server?.timeout(request, 0);
        if (!req.stream) {
          const row = await runCompleted(ctx, caller, run);
          return legacyCompletionOf(row.id, row.model, row.createdAt, row.output, row.usage);
        }
        const stream = await runStreaming(ctx, caller, run);
        const created = Math.floor(Date.now() / 1000);
        const chunk = (text: string, finish: string | null) => dataFrame(completionChunk(stream.executionId, model.slug, created, text, finish, req.includeUsage));
        return sseResponse(
          stream,
          (item) => {
            if (item.kind === "event") return item.event.type === "text_delta" ? [chunk(item.event.text, null)] : [];
            if (item.row.status !== "COMPLETED") return [dataFrame(errorChunk(errorOf(item.row)))];
            const finish = (item.row.output as { finish_reason?: string } | null)?.finish_reason ?? "stop";
            return [chunk("", finish), ...(req.includeUsage ? [dataFrame(usageChunk(stream.executionId, model.slug, created, item.row.usage))] : []), "data: [DONE]\n\n"];
          },
          [],
          { "x-request-id": requestIdOf(request) },
        ) as never;
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create a completion (legacy)",
          description:
            "OpenAI's legacy text completions, for a text-generation model or a chat model (the prompt becomes one user message). One prompt per request; streamed or not.",
          request: OpenAIModel.completionRequest, response: ["A text_completion.", OpenAIModel.completion],
        }),
      },
    )
    .post(
      "/images/generations",
      async ({ body, caller, request, headers }) => {
        const req = parseImagesRequest(body);
        modelFor(ctx, req.model, ["text-to-image"], "image generation");
        const row = await runCompleted(ctx, caller, { model: req.model, input: req.input, request, path: "/v1/images/generations", idempotencyKey: headers["idempotency-key"], dialect: "openai" });
        return imagesResponse(ctx, caller.orgId, row, req.format);
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Create images",
          description:
            "OpenAI's image generation for any text-to-image model of the catalog: `prompt`, `n`, `size`; images as `b64_json` (default) or presigned `url`s of the organization's files.",
          request: OpenAIModel.imagesRequest, response: ["The images.", OpenAIModel.images],
        }),
      },
    );
