/**
 * The batch bodies and objects as the API docs show them. The request bodies document, they do
 * not validate: the routes check them so errors come in each surface's shape with its `param`.
 */
import { Type } from "@sinclair/typebox";
import { t } from "elysia";

const BATCH_ID = "batch_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";
const MSGBATCH_ID = "msgbatch_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";
const FILE_ID = "file_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d00";
const nullableInt = Type.Union([Type.Integer(), Type.Null()]);
const nullableString = Type.Union([Type.String(), Type.Null()]);

const batchExample = {
  id: BATCH_ID,
  object: "batch",
  endpoint: "/v1/chat/completions",
  errors: null,
  input_file_id: FILE_ID,
  completion_window: "24h",
  status: "completed",
  output_file_id: "file_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d11",
  error_file_id: null,
  created_at: 1764662400,
  in_progress_at: 1764662401,
  expires_at: 1764748800,
  finalizing_at: 1764662460,
  completed_at: 1764662461,
  failed_at: null,
  expired_at: null,
  cancelling_at: null,
  cancelled_at: null,
  request_counts: { total: 100, completed: 100, failed: 0 },
  metadata: { job: "nightly-eval" },
};

const messageBatchExample = {
  id: MSGBATCH_ID,
  type: "message_batch",
  processing_status: "ended",
  request_counts: { processing: 0, succeeded: 2, errored: 0, canceled: 0, expired: 0 },
  ended_at: "2025-12-02T08:01:01.000Z",
  created_at: "2025-12-02T08:00:00.000Z",
  expires_at: "2025-12-03T08:00:00.000Z",
  archived_at: null,
  cancel_initiated_at: null,
  results_url: `http://127.0.0.1:8080/v1/messages/batches/${MSGBATCH_ID}/results`,
};

export namespace BatchesModel {
  export const createRequest = Type.Object(
    {
      input_file_id: Type.String({ description: "A file uploaded with `purpose: batch`: JSONL, one `{custom_id, method: \"POST\", url, body}` per line.", examples: [FILE_ID] }),
      endpoint: Type.Union(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"].map((e) => Type.Literal(e)), { description: "Every line's `url` must be this." }),
      completion_window: Type.Literal("24h"),
      metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 }), Type.Null()])),
      output_expires_after: Type.Optional(Type.Object({ anchor: Type.Literal("created_at"), seconds: Type.Integer() }, { description: "Accepted; output files follow MODELROUTE_FILE_RETENTION_DAYS." })),
    },
    { examples: [{ input_file_id: FILE_ID, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { job: "nightly-eval" } }] },
  );

  const lineError = Type.Object({ code: Type.String({ examples: ["duplicate_custom_id"] }), message: Type.String(), param: nullableString, line: nullableInt });

  export const batch = Type.Object(
    {
      id: Type.String({ examples: [BATCH_ID] }),
      object: Type.Literal("batch"),
      endpoint: Type.String(),
      errors: Type.Union([Type.Object({ object: Type.Literal("list"), data: Type.Array(lineError) }), Type.Null()], { description: "Why validation failed: one entry per problem, with its 1-based `line`." }),
      input_file_id: Type.String(),
      completion_window: Type.String(),
      status: Type.Union(["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"].map((s) => Type.Literal(s))),
      output_file_id: nullableString,
      error_file_id: nullableString,
      created_at: Type.Integer({ description: "Unix seconds, like every time here." }),
      in_progress_at: nullableInt,
      expires_at: nullableInt,
      finalizing_at: nullableInt,
      completed_at: nullableInt,
      failed_at: nullableInt,
      expired_at: nullableInt,
      cancelling_at: nullableInt,
      cancelled_at: nullableInt,
      request_counts: Type.Object(
        { total: Type.Integer(), completed: Type.Integer({ description: "Lines in the output file." }), failed: Type.Integer({ description: "Lines in the error file: failed, cancelled and expired." }) },
      ),
      metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
    },
    { description: "An OpenAI batch.", examples: [batchExample] },
  );

  export const batchList = Type.Object(
    { object: Type.Literal("list"), data: Type.Array(batch), first_id: nullableString, last_id: nullableString, has_more: Type.Boolean() },
    { description: "Your batches, newest first." },
  );

  export const messageBatchRequest = Type.Object(
    {
      requests: Type.Array(
        Type.Object({
          custom_id: Type.String({ pattern: "^[a-zA-Z0-9_-]{1,64}$", examples: ["request-1"] }),
          params: Type.Record(Type.String(), Type.Unknown(), { description: "A Messages request body (`model`, `max_tokens`, `messages`, …), without `stream`." }),
        }),
        { minItems: 1, maxItems: 100_000 },
      ),
    },
    { examples: [{ requests: [{ custom_id: "request-1", params: { model: "mock-chat", max_tokens: 64, messages: [{ role: "user", content: "Hello" }] } }] }] },
  );

  export const messageBatch = Type.Object(
    {
      id: Type.String({ examples: [MSGBATCH_ID] }),
      type: Type.Literal("message_batch"),
      processing_status: Type.Union([Type.Literal("in_progress"), Type.Literal("canceling"), Type.Literal("ended")]),
      request_counts: Type.Object({ processing: Type.Integer(), succeeded: Type.Integer(), errored: Type.Integer(), canceled: Type.Integer(), expired: Type.Integer() }),
      ended_at: nullableString,
      created_at: Type.String({ format: "date-time" }),
      expires_at: Type.String({ format: "date-time" }),
      archived_at: Type.Null(),
      cancel_initiated_at: nullableString,
      results_url: Type.Union([Type.String(), Type.Null()], { description: "Where the results are, once ended." }),
    },
    { description: "An Anthropic message batch.", examples: [messageBatchExample] },
  );

  export const messageBatchList = Type.Object(
    { data: Type.Array(messageBatch), has_more: Type.Boolean(), first_id: nullableString, last_id: nullableString },
    { description: "Your message batches, newest first.", examples: [{ data: [messageBatchExample], has_more: false, first_id: MSGBATCH_ID, last_id: MSGBATCH_ID }] },
  );

  export const messageBatchDeleted = Type.Object({ id: Type.String(), type: Type.Literal("message_batch_deleted") }, { examples: [{ id: MSGBATCH_ID, type: "message_batch_deleted" }] });

  export const openaiListQuery = t.Object({
    after: t.Optional(t.String({ maxLength: 64, description: "A batch id: the page starts after it." })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, description: "1–100, default 20." })),
  });

  export const anthropicListQuery = t.Object({
    after_id: t.Optional(t.String({ maxLength: 64, description: "A batch id: the page holds older batches." })),
    before_id: t.Optional(t.String({ maxLength: 64, description: "A batch id: the page holds newer batches." })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 1000, description: "1–1000, default 20." })),
  });

  export const idParams = t.Object({ batch_id: t.String({ description: "The batch's id." }) });
}
