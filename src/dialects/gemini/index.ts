/**
 * The Gemini-compatible surface under `/v1beta/models`, for `@google/genai` with only its
 * `httpOptions.baseUrl` and key changed (docs/compatibility.md "Gemini"): the model list, one
 * model, and per model the actions `:generateContent`, `:streamGenerateContent` (SSE with
 * `alt=sse`, else a JSON array), `:countTokens`, `:embedContent` and `:batchEmbedContents`. The
 * key comes as `x-goog-api-key`, as `?key=` or as a bearer token. Every generation and embedding
 * is an execution of the named model, whatever its upstream; errors come in Google's shape.
 */
import { Elysia } from "elysia";
import { promptText, type ChatOutput } from "../../canonical/chat";
import { estimateTokens } from "../../canonical/usage";
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { pathOf } from "../../http/request-target";
import type { Caller } from "../../modules/keys/service";
import { operationDoc } from "../route-docs";
import { runCompleted, runStreaming, type DialectRequest } from "../run";
import { embedResponseOf, parseEmbedRequest } from "./embeddings";
import { fieldsOf } from "./fields";
import { GeminiModel } from "./model";
import { listModels, geminiModel, servedModel } from "./models";
import { parseGenerateRequest } from "./request";
import { generateResponseOf } from "./response";
import { generateStream } from "./stream";

const ACTIONS = ["generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"] as const;
type Action = (typeof ACTIONS)[number];
const COUNT_REQUEST = new Set(["contents", "generateContentRequest"]);

/** The path parameters and query of the wildcard routes, as the API docs show them (`x-path`: see modules/docs). */
const modelParameter = { name: "model", in: "path", required: true, description: "A model's slug (`models/` before it is optional), as `GET /v1beta/models` lists them.", schema: { type: "string" }, example: "mock-chat" };
const keyParameter = { name: "key", in: "query", required: false, description: "The API key, when it is not sent as `x-goog-api-key` or a bearer token.", schema: { type: "string" } };
const actionParameters = [
  modelParameter,
  { name: "action", in: "path", required: true, description: "What to do with the model.", schema: { type: "string", enum: [...ACTIONS] } },
  { name: "alt", in: "query", required: false, description: "`sse` for server-sent events from `streamGenerateContent`; without it, a JSON array.", schema: { type: "string", enum: ["sse"] } },
  keyParameter,
];
const listParameters = [
  { name: "pageSize", in: "query", required: false, description: "Models per page (default 50, at most 1000).", schema: { type: "integer", minimum: 0, maximum: 1000 } },
  { name: "pageToken", in: "query", required: false, description: "The `nextPageToken` of the previous page.", schema: { type: "string" } },
  keyParameter,
];

/** A model's name (and action) from the path, decoded; a stray `%` leaves it as sent, which no model has. */
function targetName(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** `gemini-flash:generateContent` → the model and the action (split on the last `:`, since a slug may hold one). */
function targetOf(raw: string): { model: string; action: Action } {
  const decoded = targetName(raw);
  const colon = decoded.lastIndexOf(":");
  const action = decoded.slice(colon + 1);
  if (colon <= 0 || !(ACTIONS as readonly string[]).includes(action))
    throw new AppError("NOT_FOUND", `The method ${colon > 0 ? `"${action}" ` : ""}is not found: use ${ACTIONS.map((a) => `:${a}`).join(", ")}.`);
  return { model: decoded.slice(0, colon), action: action as Action };
}

/** Google's clients send the key as `x-goog-api-key` or `?key=`; the auth macro reads a bearer token. */
function googleKeyAsBearer(headers: Record<string, string | undefined>, query: Record<string, string | undefined>) {
  if (headers.authorization !== undefined) return;
  const key = headers["x-goog-api-key"] ?? query.key;
  if (key) headers.authorization = `Bearer ${key}`;
}

function runOf(request: Request, headers: Record<string, string | undefined>, slug: string, input: Record<string, unknown>): DialectRequest {
  return { model: slug, input, request, path: pathOf(request), idempotencyKey: headers["idempotency-key"], dialect: "gemini" };
}

async function generate(ctx: AppContext, caller: Caller, request: Request, headers: Record<string, string | undefined>, slug: string, body: unknown, stream: boolean, sse: boolean) {
  const req = parseGenerateRequest(body);
  if (stream && (req.input.n ?? 1) > 1) throw invalidField("generationConfig.candidateCount", "unsupported", "A streamed answer has one candidate; candidateCount must be 1.");
  const run = runOf(request, headers, slug, req.input as unknown as Record<string, unknown>);
  if (!stream) {
    const row = await runCompleted(ctx, caller, run);
    return generateResponseOf(row.output as unknown as ChatOutput, row.usage, { responseId: row.id, modelVersion: row.model, includeThoughts: req.includeThoughts });
  }
  const started = await runStreaming(ctx, caller, run);
  return generateStream(started, { responseId: started.executionId, modelVersion: slug, includeThoughts: req.includeThoughts }, sse, requestIdOf(request));
}

function countTokens(body: unknown) {
  const b = fieldsOf(body, "", COUNT_REQUEST);
  const inner = b.generateContentRequest ?? { contents: b.contents };
  const { input } = parseGenerateRequest(inner);
  const tokens = estimateTokens(promptText(input));
  return { totalTokens: tokens, promptTokensDetails: [{ modality: "TEXT", tokenCount: tokens }] };
}

const ACTION_DOC =
  "One route per model and action, as Google names them: `POST /v1beta/models/{model}:generateContent` (a GenerateContentResponse), " +
  "`:streamGenerateContent` (with `?alt=sse` server-sent events, else a JSON array of chunks), `:countTokens` (an estimate, about four bytes a token; nothing is run or charged), " +
  "`:embedContent` and `:batchEmbedContents` (an embedding model's vectors). Contents of roles `user` and `model` with text, `inlineData` and `fileData` images, " +
  "`functionCall` and `functionResponse` parts; `systemInstruction`; `tools[].functionDeclarations`; `toolConfig.functionCallingConfig` (AUTO, ANY, NONE, `allowedFunctionNames`); " +
  "`generationConfig` (`temperature`, `topP`, `topK`, `maxOutputTokens`, `stopSequences`, `candidateCount`, `seed`, penalties, logprobs, `responseMimeType` with " +
  "`responseSchema` or `responseJsonSchema`, `thinkingConfig`). `responseId` is the execution's id (`GET /v1/executions/{id}`); it is held and charged like any execution. " +
  "The key goes in `x-goog-api-key`, `?key=` or `Authorization: Bearer`. Errors are in Google's shape `{\"error\":{\"code\",\"message\",\"status\"}}`.";

export const geminiRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/gemini", seed: ctx.instanceId, prefix: "/v1beta/models", tags: ["Gemini compatible"] })
    .onTransform(({ headers, query }) => googleKeyAsBearer(headers, query))
    .use(auth(ctx))
    .get("/", ({ query }) => listModels(ctx, query), {
      auth: "inference",
      detail: {
        ...operationDoc({
          summary: "List models (Gemini)",
          description: "The chat and embedding models of the catalog as Gemini's `models` resource, with the methods each takes; `pageSize` (default 50, at most 1000) and `pageToken` page it.",
          response: ["A page of models.", GeminiModel.modelList],
        }),
        parameters: listParameters as never,
      },
    })
    .get("/*", ({ params }) => geminiModel(servedModel(ctx, targetName(params["*"]))), {
      auth: "inference",
      detail: {
        ...operationDoc({ summary: "Get a model (Gemini)", description: "One chat or embedding model by name: `models/{model}`.", response: ["The model.", GeminiModel.model] }),
        parameters: [modelParameter, keyParameter] as never,
        "x-path": "/v1beta/models/{model}",
      },
    })
    .post(
      "/*",
      async ({ params, body, caller, request, headers, query, server }) => {
        const { model: name, action } = targetOf(params["*"]);
        const model = servedModel(ctx, name);
        const needs = action === "embedContent" || action === "batchEmbedContents" ? "embedding" : "chat";
        if (model.task !== needs) throw new AppError("NOT_FOUND", `models/${model.slug} is a ${model.task} model; it is not supported for ${action}.`);
        server?.timeout(request, 0); // a long generation must not hit the idle timeout
        switch (action) {
          case "generateContent":
          case "streamGenerateContent":
            return (await generate(ctx, caller, request, headers, model.slug, body, action === "streamGenerateContent", query.alt === "sse")) as never;
          case "countTokens":
            return countTokens(body);
          default: {
            const req = parseEmbedRequest(body, model.slug, action === "batchEmbedContents");
            const row = await runCompleted(ctx, caller, runOf(request, headers, model.slug, req.input));
            return embedResponseOf(row, req.batch);
          }
        }
      },
      {
        auth: "inference",
        detail: {
          ...operationDoc({ summary: "Run a model action (Gemini)", description: ACTION_DOC, request: GeminiModel.generateRequest, response: ["The action's answer: a GenerateContentResponse (or a stream of them), a token count, or embeddings.", GeminiModel.generateResponse] }),
          parameters: actionParameters as never,
          "x-path": "/v1beta/models/{model}:{action}",
        },
      },
    );
