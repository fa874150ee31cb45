import { t } from "elysia";
import { enumOf, listOf, pageQuery, strictInteger, strictNumber, strictObject } from "../../http/schemas";

const STATUSES = ["PENDING", "PROCESSING", "AWAITING_WEBHOOK", "COMPLETED", "FAILED", "CANCELLED", "EXPIRED"] as const;
const EXAMPLE_ID = "exec_a1b2c3d4-e5f6-7890-abcd-ef1234567890";

const usage = t.Union(
  [
    t.Object({
      input_tokens: strictInteger(),
      output_tokens: strictInteger(),
      images: t.Optional(strictInteger()),
      seconds: t.Optional(strictNumber()),
    }),
    t.Null(),
  ],
  { description: "What the execution used; null until it ends." },
);

const executionError = t.Union([t.Object({ code: t.String({ examples: ["GENERATION_FAILED"] }), message: t.String() }), t.Null()], {
  description: "Why it did not complete; null unless FAILED, CANCELLED or EXPIRED.",
});

export namespace ExecutionModel {
  export const status = enumOf(STATUSES, { description: "PENDING → PROCESSING (→ AWAITING_WEBHOOK) → COMPLETED | FAILED | CANCELLED | EXPIRED." });

  export const createBody = strictObject(
    {
      model: t.String({ minLength: 1, maxLength: 128, description: "Model slug (GET /v1/models).", examples: ["mock-image"] }),
      input: t.Record(t.String(), t.Unknown(), { description: "Model-specific input, validated against the model's input_schema.", examples: [{ prompt: "a red fox in the snow", width: 512, height: 512 }] }),
      webhook_url: t.Optional(
        t.String({
          maxLength: 2048,
          description: "Receives this execution's terminal event, signed with the organization's signing secret.",
          examples: ["https://example.com/hooks/modelroute"],
        }),
      ),
      metadata: t.Optional(t.Record(t.String(), t.String(), { description: "Up to 16 string pairs; keys ≤ 64 chars, values ≤ 512.", examples: [{ customer: "42" }] })),
      mode: t.Optional(enumOf(["ASYNC", "SYNC", "STREAMING"], { description: "ASYNC (default): 202 at once. SYNC: wait up to 60 s (Prefer: wait=N, max 300). STREAMING: server-sent events." })),
    },
    { description: "Run a model." },
  );
  export type createBody = typeof createBody.static;

  export const execution = t.Object(
    {
      id: t.String({ examples: [EXAMPLE_ID] }),
      object: t.Literal("execution"),
      model: t.String({ examples: ["mock-image"] }),
      status,
      mode: enumOf(["ASYNC", "SYNC", "STREAMING"]),
      input: t.Union([t.Record(t.String(), t.Unknown()), t.Null()], { description: "As sent; null once purged by retention." }),
      output: t.Union([t.Record(t.String(), t.Unknown()), t.Null()], { description: "Canonical output once COMPLETED." }),
      error: executionError,
      usage,
      cost: t.Union([t.String({ examples: ["0.040"] }), t.Null()], { description: "USD charged; null until it ends." }),
      metadata: t.Record(t.String(), t.String()),
      webhook_url: t.Union([t.String(), t.Null()]),
      created_at: t.String({ format: "date-time" }),
      started_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
      completed_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
      latency_ms: t.Union([strictInteger(), t.Null()], { description: "completed_at − created_at." }),
    },
    { description: "An execution of a model." },
  );

  export const result = t.Object(
    {
      execution_id: t.String({ examples: [EXAMPLE_ID] }),
      status,
      output: t.Union([t.Record(t.String(), t.Unknown()), t.Null()], {
        examples: [{ images: [{ file_id: "file_f47ac10b-58cc-4372-a567-0e02b2c3d479", format: "png", width: 1024, height: 1024 }] }],
      }),
      error: t.Optional(executionError),
      usage,
      cost: t.Union([t.String({ examples: ["0.040"] }), t.Null()]),
      latency_ms: t.Union([strictInteger({ examples: [8420] }), t.Null()]),
    },
    { description: "The result of a finished execution (the polling guide's body)." },
  );

  export const listQuery = t.Object({
    ...pageQuery,
    status: t.Optional(status),
    model: t.Optional(t.String({ maxLength: 128, description: "Only this model slug." })),
  });
  export type listQuery = typeof listQuery.static;

  export const list = listOf(execution, "Executions, newest first.");

  export const idParams = t.Object({ id: t.String({ description: "Execution id (exec_…).", examples: [EXAMPLE_ID] }) });

  export const createHeaders = t.Object({
    prefer: t.Optional(t.String({ description: "`wait` or `wait=N` (seconds, max 300): answer when finished or after N s." })),
    "idempotency-key": t.Optional(t.String({ description: "1–255 printable ASCII characters; a retry with the same key and body replays the first answer for 24 h." })),
  });

  export const eventsHeaders = t.Object({
    "last-event-id": t.Optional(t.String({ description: "Resume after this event id." })),
  });
}
