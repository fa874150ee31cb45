/**
 * Batch routes: OpenAI's Batch API under `/v1/batches` and Anthropic's Message Batches under
 * `/v1/messages/batches`, each in its surface's shapes and errors (dialects/errors.ts), both on
 * the batches service (docs/batches.md).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { objectBody, openaiUnknown } from "../../dialects/body";
import { operationDoc } from "../../dialects/route-docs";
import { invalidField } from "../../errors";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { BatchesModel } from "./model";
import * as Batches from "./service";
import { anthropicBatchView, openaiBatchView } from "./view";
import { publicUrl } from "../../context";

const OPENAI_CREATE_FIELDS = new Set(["input_file_id", "endpoint", "completion_window", "metadata", "output_expires_after"]);

function parseOpenAICreate(body: unknown): Batches.OpenAICreate {
  const b = objectBody(body, { known: OPENAI_CREATE_FIELDS, unknown: openaiUnknown });
  for (const field of ["input_file_id", "endpoint", "completion_window"] as const)
    if (typeof b[field] !== "string" || b[field] === "") throw invalidField(field, "required", `${field} is required.`);
  const metadata = b.metadata;
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== "object" || Array.isArray(metadata)) throw invalidField("metadata", "invalid_type", "metadata must be an object of strings.");
    const entries = Object.entries(metadata);
    if (entries.length > 16) throw invalidField("metadata", "too_long", "metadata holds at most 16 pairs.");
    for (const [key, value] of entries)
      if (key.length > 64 || typeof value !== "string" || value.length > 512) throw invalidField("metadata", "invalid_format", "metadata keys are at most 64 characters, values strings of at most 512.");
  }
  return b as Batches.OpenAICreate;
}

function parseAnthropicCreate(body: unknown): Batches.AnthropicCreate {
  const b = objectBody(body, { known: new Set(["requests"]), unknown: (key) => `${key}: Extra inputs are not permitted` });
  if (!Array.isArray(b.requests)) throw invalidField("requests", "required", "requests: Field required");
  b.requests.forEach((r: unknown, i: number) => {
    const request = r as Record<string, unknown> | null;
    if (!request || typeof request !== "object" || typeof request.custom_id !== "string") throw invalidField(`requests[${i}].custom_id`, "required", `requests.${i}.custom_id: Field required`);
    if (!request.params || typeof request.params !== "object" || Array.isArray(request.params)) throw invalidField(`requests[${i}].params`, "required", `requests.${i}.params: Field required`);
    const extra = Object.keys(request).find((k) => k !== "custom_id" && k !== "params");
    if (extra) throw invalidField(`requests[${i}].${extra}`, "unknown_field", `requests.${i}.${extra}: Extra inputs are not permitted`);
  });
  return b as Batches.AnthropicCreate;
}

export const openaiBatchRoutes = (ctx: AppContext) =>
  new Elysia({ name: "batches/openai", seed: ctx.instanceId, prefix: "/v1/batches", tags: ["OpenAI compatible"] })
    .use(auth(ctx))
    .post("/", ({ body, caller }) => Batches.createOpenAI(ctx, caller, parseOpenAICreate(body)), {
      auth: "inference",
      detail: operationDoc({
        summary: "Create a batch",
        description:
          "OpenAI's Batch API: `input_file_id` (a JSONL file uploaded with `purpose: batch`), `endpoint` (`/v1/chat/completions`, `/v1/completions`, `/v1/embeddings` or `/v1/responses`), `completion_window: \"24h\"`, `metadata`. " +
          "The file is validated first (`validating`): a line that is not JSON, a repeated `custom_id`, a `method` other than POST, a `url` other than the endpoint or a body the endpoint refuses fails the batch with `errors`. " +
          "Then each line runs as an execution (`in_progress`), in the background beside interactive calls, held and charged at the batch discount (MODELROUTE_BATCH_DISCOUNT_PERCENT, 50 % by default). " +
          "When every line has ended, `output_file_id` (the lines that succeeded) and `error_file_id` (the rest) are JSONL of `{id, custom_id, response: {status_code, request_id, body}, error}`.",
        request: BatchesModel.createRequest,
        response: ["The batch, `validating`.", BatchesModel.batch],
      }),
    })
    .get("/", ({ query, caller }) => Batches.listOpenAI(ctx, caller.orgId, query), {
      auth: "inference",
      query: BatchesModel.openaiListQuery,
      detail: operationDoc({ summary: "List batches", description: "Your OpenAI batches, newest first; page with `after` (the last id of the previous page) and `limit` (1–100, default 20).", response: ["A page of batches.", BatchesModel.batchList] }),
    })
    .get("/:batch_id", ({ params, caller }) => Batches.getOpenAI(ctx, caller.orgId, params.batch_id), {
      auth: "inference",
      params: BatchesModel.idParams,
      detail: operationDoc({ summary: "Retrieve a batch", description: "Its status, `request_counts` and, once ended, its output and error files (read them with `GET /v1/files/{id}/content`).", response: ["The batch.", BatchesModel.batch] }),
    })
    .post("/:batch_id/cancel", async ({ params, caller }) => openaiBatchView(await Batches.cancel(ctx, caller, params.batch_id, "openai")), {
      auth: "inference",
      params: BatchesModel.idParams,
      detail: operationDoc({
        summary: "Cancel a batch",
        description:
          "`cancelling` at once: lines not started never start, running lines are cancelled and their holds released; `cancelled` when every line has ended, with the lines that ran in the output file and the rest in the error file (`batch_cancelled`). 409 once the batch is finalizing or has ended.",
        response: ["The batch, `cancelling` (or `cancelled` when nothing was left).", BatchesModel.batch],
      }),
    });

export const anthropicBatchRoutes = (ctx: AppContext) =>
  new Elysia({ name: "batches/anthropic", seed: ctx.instanceId, prefix: "/v1/messages/batches", tags: ["Anthropic compatible"] })
    .use(auth(ctx))
    .onBeforeHandle(({ request, set }) => {
      set.headers["request-id"] = requestIdOf(request);
    })
    .post("/", ({ body, caller }) => Batches.createAnthropic(ctx, caller, parseAnthropicCreate(body)), {
      auth: "inference",
      detail: operationDoc({
        summary: "Create a message batch",
        description:
          "Anthropic's Message Batches: `requests` of `{custom_id, params}`, each `params` a Messages body. Each runs as an execution in the background, held and charged at the batch discount. " +
          "A request whose params the Messages API refuses is an `errored` result. The body is a JSON request, so at most 1 MiB.",
        request: BatchesModel.messageBatchRequest,
        response: ["The batch, `in_progress`.", BatchesModel.messageBatch],
      }),
    })
    .get("/", ({ query, caller }) => Batches.listAnthropic(ctx, caller.orgId, query), {
      auth: "inference",
      query: BatchesModel.anthropicListQuery,
      detail: operationDoc({ summary: "List message batches", description: "Newest first; page with `after_id` or `before_id` and `limit` (1–1000, default 20).", response: ["A page of message batches.", BatchesModel.messageBatchList] }),
    })
    .get("/:batch_id", ({ params, caller }) => Batches.getAnthropic(ctx, caller.orgId, params.batch_id), {
      auth: "inference",
      params: BatchesModel.idParams,
      detail: operationDoc({ summary: "Retrieve a message batch", description: "`processing_status`, `request_counts` and, once ended, `results_url`.", response: ["The message batch.", BatchesModel.messageBatch] }),
    })
    .post("/:batch_id/cancel", async ({ params, caller }) => anthropicBatchView(await Batches.cancel(ctx, caller, params.batch_id, "anthropic"), publicUrl(ctx)), {
      auth: "inference",
      params: BatchesModel.idParams,
      detail: operationDoc({
        summary: "Cancel a message batch",
        description: "`canceling` at once: requests not started end `canceled`, running ones are cancelled and their holds released; `ended` when all have.",
        response: ["The message batch.", BatchesModel.messageBatch],
      }),
    })
    .get(
      "/:batch_id/results",
      async ({ params, caller }) => {
        const download = await Batches.results(ctx, caller.orgId, params.batch_id);
        return new Response(download.body, { headers: { "content-type": "application/x-jsonl", "content-length": download.headers["content-length"]! } });
      },
      {
        auth: "inference",
        params: BatchesModel.idParams,
        detail: {
          summary: "Message batch results",
          description: "JSONL, one line per request in the order sent: `{custom_id, result: {type: succeeded, message} | {type: errored, error} | {type: canceled} | {type: expired}}`. 404 until the batch has ended.",
          security: [{ apiKey: [] }],
          responses: { 200: { description: "The results.", content: { "application/x-jsonl": { schema: { type: "string" } } } } },
        },
      },
    )
    .delete("/:batch_id", ({ params, caller }) => Batches.remove(ctx, caller.orgId, params.batch_id), {
      auth: "inference",
      params: BatchesModel.idParams,
      detail: operationDoc({ summary: "Delete a message batch", description: "Only once ended (409 before: cancel it first); its results go with it.", response: ["Deleted.", BatchesModel.messageBatchDeleted] }),
    });
