import { t } from "elysia";
import { enumOf, listOf, pageQuery, strictInteger, strictNumber, strictObject } from "../../http/schemas";

const STATUSES = ["PENDING", "PROCESSING", "AWAITING_WEBHOOK", "COMPLETED", "FAILED", "CANCELLED", "EXPIRED"] as const;
const EXAMPLE_ID = "exec_01a22bba-60e0-72d2-9799-f779f6a5dcce";

/**
 * Whole examples, as the server sends them (view.ts) for the demo model mock-image: a SYNC run that
 * completed, an ASYNC one just accepted, and one cancelled while it ran. Its image is the file
 * the execution stored; cost is the catalog's $0.040 per image; latency_ms = completed_at − created_at.
 */
const EXAMPLE_INPUT = { prompt: "a red fox in the snow", width: 512, height: 512 };
const EXAMPLE_OUTPUT = { images: [{ file_id: "file_01a22bba-6190-7646-8930-9a957506bfdb", format: "png", width: 512, height: 512 }] };
const EXAMPLE_USAGE = { input_tokens: 6, output_tokens: 0, images: 1 };
const EXAMPLE_METADATA = { customer: "acme" };

const completedExample = {
  id: EXAMPLE_ID,
  object: "execution",
  model: "mock-image",
  status: "COMPLETED",
  mode: "SYNC",
  input: EXAMPLE_INPUT,
  output: EXAMPLE_OUTPUT,
  error: null,
  usage: EXAMPLE_USAGE,
  cost: "0.040",
  metadata: EXAMPLE_METADATA,
  webhook_url: null,
  created_at: "2026-11-30T09:12:44.512Z",
  started_at: "2026-11-30T09:12:44.519Z",
  completed_at: "2026-11-30T09:12:44.696Z",
  latency_ms: 184,
  served_by: { model: "mock-image", route_id: "route_01a22b90-1c44-7b0e-9f0e-3c1d2b6a7e10" },
  cached: false,
  cache: null,
};

const acceptedExample = {
  id: "exec_01a22bc1-2177-76e7-86b8-2761dddba1c9",
  object: "execution",
  model: "mock-image",
  status: "PENDING",
  mode: "ASYNC",
  input: { prompt: "a lighthouse at dusk, oil painting" },
  output: null,
  error: null,
  usage: null,
  cost: null,
  metadata: EXAMPLE_METADATA,
  webhook_url: "https://example.com/hooks/modelroute",
  created_at: "2026-11-30T09:20:07.031Z",
  started_at: null,
  completed_at: null,
  latency_ms: null,
  served_by: null,
  cached: false,
  cache: null,
};

const cancelledExample = {
  id: "exec_01a22bc5-c282-7a4b-b55b-4cadc8e42c6d",
  object: "execution",
  model: "mock-image",
  status: "CANCELLED",
  mode: "ASYNC",
  input: { prompt: "a city skyline at night", num_images: 4 },
  output: null,
  error: { code: "CANCELLED", message: "The execution was cancelled by request." },
  usage: null,
  cost: "0.000",
  metadata: EXAMPLE_METADATA,
  webhook_url: null,
  created_at: "2026-11-30T09:25:10.402Z",
  started_at: "2026-11-30T09:25:10.410Z",
  completed_at: "2026-11-30T09:25:13.877Z",
  latency_ms: 3475,
  served_by: null,
  cached: false,
  cache: null,
};

const usage = t.Union(
  [
    t.Object({
      input_tokens: strictInteger({ description: "The whole prompt, cache reads and writes included." }),
      output_tokens: strictInteger(),
      cached_input_tokens: t.Optional(strictInteger({ description: "Of input_tokens, read from the provider's prompt cache (priced at its own rate)." })),
      cache_write_tokens: t.Optional(strictInteger({ description: "Of input_tokens, written to the provider's prompt cache (priced at its own rate)." })),
      reasoning_tokens: t.Optional(strictInteger({ description: "Of output_tokens, spent on reasoning." })),
      images: t.Optional(strictInteger()),
      seconds: t.Optional(strictNumber({ description: "Compute time a prediction server reported, or the seconds of audio transcribed." })),
      characters: t.Optional(strictInteger({ description: "Characters of text spoken (speech synthesis)." })),
      estimated: t.Optional(t.Literal(true, { description: "Present when the provider reported no usage and the gateway counted." })),
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
      input: t.Record(t.String(), t.Unknown(), { description: "Model-specific input, validated against the model's input_schema.", examples: [EXAMPLE_INPUT] }),
      webhook_url: t.Optional(
        t.String({
          maxLength: 2048,
          description: "Receives this execution's terminal event, signed with the organization's signing secret.",
          examples: ["https://example.com/hooks/modelroute"],
        }),
      ),
      metadata: t.Optional(t.Record(t.String(), t.String(), { description: "Up to 16 string pairs; keys ≤ 64 chars, values ≤ 512.", examples: [EXAMPLE_METADATA] })),
      mode: t.Optional(enumOf(["ASYNC", "SYNC", "STREAMING"], { description: "ASYNC (default): 202 at once. SYNC: wait up to 60 s (Prefer: wait=N, max 300). STREAMING: server-sent events." })),
    },
    {
      description: "Run a model.",
      examples: [{ model: "mock-image", input: EXAMPLE_INPUT, metadata: EXAMPLE_METADATA, mode: "SYNC" }],
    },
  );
  export type createBody = typeof createBody.static;

  export const execution = t.Object(
    {
      id: t.String({ examples: [EXAMPLE_ID] }),
      object: t.Literal("execution"),
      model: t.String({ examples: ["mock-image"] }),
      status,
      mode: enumOf(["ASYNC", "SYNC", "STREAMING"]),
      input: t.Union([t.Record(t.String(), t.Unknown(), { examples: [EXAMPLE_INPUT] }), t.Null()], { description: "As sent; null once purged by retention." }),
      output: t.Union([t.Record(t.String(), t.Unknown(), { examples: [EXAMPLE_OUTPUT] }), t.Null()], { description: "Canonical output once COMPLETED." }),
      error: executionError,
      usage,
      cost: t.Union([t.String({ examples: ["0.040"] }), t.Null()], { description: "USD charged; null until it ends." }),
      metadata: t.Record(t.String(), t.String(), { description: "As sent; {} when none.", examples: [EXAMPLE_METADATA] }),
      webhook_url: t.Union([t.String(), t.Null()], { description: "As sent; null when none." }),
      created_at: t.String({ format: "date-time" }),
      started_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
      completed_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
      latency_ms: t.Union([strictInteger(), t.Null()], { description: "completed_at − created_at." }),
      served_by: t.Union([t.Object({ model: t.String({ examples: ["mock-image"] }), route_id: t.Union([t.String(), t.Null()]) }), t.Null()], {
        description: "The model that answered and its route: for an alias or a fallback list, the one that did (and whose price was charged); null until one did.",
      }),
      cached: t.Boolean({ description: "Answered from the gateway's response cache (docs/cache.md)." }),
      cache: t.Union(
        [
          t.Object({
            status: enumOf(["HIT", "MISS"]),
            match: t.Union([enumOf(["exact", "semantic"]), t.Null()], { description: "A hit: how the stored answer matched." }),
            source_execution_id: t.Union([t.String(), t.Null()], { description: "A hit: the execution whose answer was served." }),
            saved: t.Union([t.String(), t.Null()], { description: "A hit: what the source execution cost above this one, in USD." }),
          }),
          t.Null(),
        ],
        { description: "The response cache's part; null when the request was not cacheable or bypassed it." },
      ),
    },
    { description: "An execution of a model.", examples: [completedExample] },
  );

  /** POST /v1/executions 202: accepted and queued (ASYNC), nothing run yet. */
  export const accepted = t.Object(execution.properties, {
    description: "The execution as it stands: PENDING at once for ASYNC, or still running when a SYNC wait ends.",
    examples: [acceptedExample],
  });

  /** POST /v1/executions/{id}/cancel 200. */
  export const cancelled = t.Object(execution.properties, {
    description: "The cancelled execution; its hold was released.",
    examples: [cancelledExample],
  });

  export const result = t.Object(
    {
      execution_id: t.String({ examples: [EXAMPLE_ID] }),
      status,
      output: t.Union([t.Record(t.String(), t.Unknown(), { examples: [EXAMPLE_OUTPUT] }), t.Null()], {
        description: "The output when COMPLETED; null otherwise.",
        examples: [EXAMPLE_OUTPUT],
      }),
      error: t.Optional(executionError),
      usage,
      cost: t.Union([t.String({ examples: ["0.040"] }), t.Null()]),
      latency_ms: t.Union([strictInteger({ examples: [184] }), t.Null()]),
    },
    {
      description: "The result of a finished execution (the polling guide's body).",
      examples: [
        { execution_id: EXAMPLE_ID, status: "COMPLETED", output: EXAMPLE_OUTPUT, usage: EXAMPLE_USAGE, cost: "0.040", latency_ms: 184 },
      ],
    },
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
    "x-modelroute-cache": t.Optional(t.String({ description: "`use`: cache this request even when it is not deterministic or offers tools; `bypass`: neither read nor write the response cache." })),
    "cache-control": t.Optional(t.String({ description: "`no-cache` or `no-store`: bypass the response cache." })),
  });

  export const eventsHeaders = t.Object({
    "last-event-id": t.Optional(t.String({ description: "Resume after this event id." })),
  });
}
