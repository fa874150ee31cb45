/**
 * The Ollama-compatible surface under `/api`, beside AIMP's (`/api/runs`, …) and OpenRouter's
 * (`/api/v1/…`): chat and generate (NDJSON streams by default, or one object), embed and the
 * older embeddings, the model list (`tags`), `show`, `ps` and `version`, for tools that speak
 * only Ollama with their host changed and the ModelRoute key as `Authorization: Bearer`. Every
 * generation is an execution of the catalog model the name means (models.ts), held, metered and
 * listed in `/v1/executions`; its id is in the `x-execution-id` header. `pull` of a catalog model
 * succeeds at once; push, create, copy and delete are refused (the catalog is the operator's).
 * Errors come in Ollama's `{"error":"…"}` shape (dialects/errors.ts).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import type { Model } from "../../modules/catalog/service";
import type { Caller } from "../../modules/keys/service";
import { AppError } from "../../errors";
import { apiKeySecurity, operationDoc } from "../route-docs";
import { runCompleted, runStreaming } from "../run";
import { answerOf, loadAnswerOf, type Shape } from "./answers";
import { chatInputOf, loadsOnly as chatLoadsOnly, parseChatBody } from "./chat";
import { embedAnswer, embeddingAnswer, parseEmbedBody, parseEmbeddingsBody, type OllamaEmbed } from "./embed";
import { generateInputOf, loadsOnly as generateLoadsOnly, parseGenerateBody } from "./generate";
import { OllamaModel } from "./model";
import { modelNamed, OLLAMA_TASKS, parsePullBody, parseShowBody, running, show, tags } from "./models";
import type { OllamaRequest } from "./options";
import { ndjsonLine, ndjsonResponse } from "./stream";

/** The Ollama version whose API this surface follows: clients gate features (`think`, structured outputs) on it. */
export const OLLAMA_API_VERSION = "0.12.0";

type Http = { request: Request; idempotencyKey: string | undefined; server: { timeout(request: Request, seconds: number): void } | null; set: { headers: Record<string, string | number> } };

type Generation = { shape: Shape; path: string; req: OllamaRequest; model: Model; nothingToDo: boolean; input: () => Record<string, unknown> };

/** A chat or generate call: nothing to do answers the load at once; else one execution, whole or as an NDJSON stream. */
async function generate(ctx: AppContext, caller: Caller, g: Generation, http: Http) {
  const name = g.req.name as string;
  const headers = { "x-request-id": requestIdOf(http.request) };
  if (g.nothingToDo) {
    const answer = loadAnswerOf(g.shape, name, g.req.unload, ctx.clock.now());
    return g.req.stream ? ndjsonLine(answer, headers) : answer;
  }
  const run = { model: g.model.slug, input: g.input(), request: http.request, path: g.path, idempotencyKey: http.idempotencyKey, dialect: "ollama" };
  http.server?.timeout(http.request, 0); // a long generation must not hit the idle timeout
  if (!g.req.stream) {
    const row = await runCompleted(ctx, caller, run);
    http.set.headers["x-execution-id"] = row.id;
    return answerOf(g.shape, name, row);
  }
  const stream = await runStreaming(ctx, caller, run);
  return ndjsonResponse(stream, g.shape, name, () => ctx.clock.now(), { ...headers, "x-execution-id": stream.executionId });
}

async function embed(ctx: AppContext, caller: Caller, req: OllamaEmbed, path: string, http: Http) {
  const model = modelNamed(ctx, req.name, ["embedding"], "embeddings");
  const row = await runCompleted(ctx, caller, { model: model.slug, input: req.input, request: http.request, path, idempotencyKey: http.idempotencyKey, dialect: "ollama" });
  http.set.headers["x-execution-id"] = row.id;
  return row;
}

/** operationDoc with the NDJSON stream beside the JSON answer. */
const streamedDoc = (doc: Parameters<typeof operationDoc>[0]) => {
  const base = operationDoc(doc);
  const schema = doc.response[1] as never;
  return { ...base, responses: { 200: { description: doc.response[0], content: { "application/json": { schema }, "application/x-ndjson": { schema } } } } };
};

/** Models are the operator's catalog (docs/catalog.md): Ollama's model management cannot change it. */
const refuseCatalogChange = () => {
  throw new AppError("FORBIDDEN", "Models come from the gateway's catalog, which its operator manages: they cannot be pushed, created, copied or deleted through the Ollama API.");
};
const refusedDoc = (summary: string) => ({
  summary,
  description: 'Always 403 `{"error":"…"}`: models come from the gateway\'s catalog, which its operator manages (`PUT /admin/v1/catalog`).',
  security: apiKeySecurity,
});

export const ollamaRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/ollama", seed: ctx.instanceId, prefix: "/api", tags: ["Ollama compatible"] })
    .use(auth(ctx))
    .post(
      "/chat",
      ({ body, caller, request, headers, server, set }) => {
        const req = parseChatBody(body);
        const model = modelNamed(ctx, req.name, ["chat"], "chat");
        const input = () => chatInputOf(req, model, req.name as string) as unknown as Record<string, unknown>;
        return generate(ctx, caller, { shape: "chat", path: "/api/chat", req, model, nothingToDo: chatLoadsOnly(req), input }, { request, idempotencyKey: headers["idempotency-key"], server, set }) as never;
      },
      {
        auth: "inference",
        detail: streamedDoc({
          summary: "Chat (Ollama)",
          description:
            "Ollama's chat for any chat model of the catalog, whatever its upstream: system, user (with base64 `images`), assistant and tool messages, `tools` and tool calls " +
            "(arguments as an object), `format` (\"json\" or a JSON schema), `options` (`temperature`, `top_p`, `seed`, `stop`, `num_predict`), `think`. " +
            "Streams NDJSON (`application/x-ndjson`) unless `stream` is false; the last line has `done: true`, `done_reason`, the token counts and durations in nanoseconds. " +
            "An error after the first line is a line `{\"error\":\"…\"}`. Held and charged like any execution (its id in `x-execution-id`); send `Idempotency-Key` to retry safely.",
          request: OllamaModel.chatRequest,
          response: ["The answer, or with streaming one NDJSON line per piece.", OllamaModel.chatResponse],
        }),
      },
    )
    .post(
      "/generate",
      ({ body, caller, request, headers, server, set }) => {
        const req = parseGenerateBody(body);
        const model = modelNamed(ctx, req.name, ["chat", "text-generation"], "generate");
        const input = () => generateInputOf(req, model, req.name as string);
        return generate(ctx, caller, { shape: "generate", path: "/api/generate", req, model, nothingToDo: generateLoadsOnly(req), input }, { request, idempotencyKey: headers["idempotency-key"], server, set }) as never;
      },
      {
        auth: "inference",
        detail: streamedDoc({
          summary: "Generate (Ollama)",
          description:
            "Ollama's completion of one `prompt`, for a chat model (the prompt is a user message, `system` and `images` beside it, `format` and `think` as on chat) or a text-generation model. " +
            "Streams NDJSON unless `stream` is false. `suffix`, `template`, `raw`, `context` and the image-generation fields are refused.",
          request: OllamaModel.generateRequest,
          response: ["The answer, or with streaming one NDJSON line per piece.", OllamaModel.generateResponse],
        }),
      },
    )
    .post(
      "/embed",
      async ({ body, caller, request, headers, set }) => {
        const req = parseEmbedBody(body);
        return embedAnswer(req.name as string, await embed(ctx, caller, req, "/api/embed", { request, idempotencyKey: headers["idempotency-key"], server: null, set }));
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Embed (Ollama)",
          description: "Ollama's embeddings for any embedding model of the catalog: `input` a string or a list, `dimensions`. An execution (its id in `x-execution-id`).",
          request: OllamaModel.embedRequest,
          response: ["The vectors, in input order.", OllamaModel.embedResponse],
        }),
      },
    )
    .post(
      "/embeddings",
      async ({ body, caller, request, headers, set }) => {
        const req = parseEmbeddingsBody(body);
        return embeddingAnswer(await embed(ctx, caller, req, "/api/embeddings", { request, idempotencyKey: headers["idempotency-key"], server: null, set }));
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Embeddings (Ollama, older)",
          description: "Ollama's older embeddings endpoint: one `prompt`, one `embedding`.",
          request: OllamaModel.embeddingsRequest,
          response: ["The vector.", OllamaModel.embeddingsResponse],
        }),
      },
    )
    .get("/tags", () => tags(ctx), {
      auth: "inference",
      detail: operationDoc({
        summary: "List models (Ollama)",
        description: "The catalog's chat, text-generation and embedding models as Ollama lists them: `name` with its tag (`slug:latest` for a slug without one), `digest`, `details`; `size` is 0 (nothing is downloaded).",
        response: ["The models.", OllamaModel.tags],
      }),
    })
    .post(
      "/show",
      ({ body }) => {
        const { name, field } = parseShowBody(body);
        return show(modelNamed(ctx, name, OLLAMA_TASKS, "show", field));
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Show a model (Ollama)",
          description:
            "A model's details: `capabilities` (completion, tools, thinking, vision, embedding: what its input schema takes), `model_info` (`general.architecture` is `modelroute`, " +
            "`modelroute.context_length` the context window when the catalog knows it). 404 for an unknown name.",
          request: OllamaModel.showRequest,
          response: ["The model's details.", OllamaModel.show],
        }),
      },
    )
    .post(
      "/pull",
      ({ body, request }) => {
        const req = parsePullBody(body);
        modelNamed(ctx, req.name, OLLAMA_TASKS, "pull", req.field);
        const done = { status: "success" };
        return req.stream ? ndjsonLine(done, { "x-request-id": requestIdOf(request) }) : done;
      },
      {
        auth: "inference",
        detail: streamedDoc({
          summary: "Pull a model (Ollama)",
          description: "Nothing to download: a model of the catalog answers `{\"status\":\"success\"}` at once (one NDJSON line unless `stream` is false), so clients that pull before they chat work; any other name is a 404.",
          request: OllamaModel.pullRequest,
          response: ["Success.", OllamaModel.status],
        }),
      },
    )
    .post("/push", refuseCatalogChange, { auth: "inference", detail: refusedDoc("Push a model (Ollama): refused") })
    .post("/create", refuseCatalogChange, { auth: "inference", detail: refusedDoc("Create a model (Ollama): refused") })
    .post("/copy", refuseCatalogChange, { auth: "inference", detail: refusedDoc("Copy a model (Ollama): refused") })
    .delete("/delete", refuseCatalogChange, { auth: "inference", detail: refusedDoc("Delete a model (Ollama): refused") })
    .get("/ps", ({ caller }) => running(ctx, caller), {
      auth: "inference",
      detail: operationDoc({ summary: "Running models (Ollama)", description: "The models the organization has executions waiting or running on.", response: ["The models.", OllamaModel.ps] }),
    })
    .get("/version", () => ({ version: OLLAMA_API_VERSION }), {
      auth: "inference",
      detail: operationDoc({ summary: "Version (Ollama)", description: "The Ollama API version this surface follows (not the gateway's own, which `GET /` shows).", response: ["The version.", OllamaModel.version] }),
    });
