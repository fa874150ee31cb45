/** Wire shapes of the AIMP-compatible surface, with whole examples as the service renders them. */
import { t } from "elysia";
import { enumOf, strictInteger, strictObject } from "../../http/schemas";
import { MAX_FILE_BYTES } from "../files/model";

const RUN_ID = "exec_01932c5e-7a1b-7000-8000-00000000a1b2";
const FILE_ID = "file_01932c5e-7b00-7000-8000-0000000000f1";
const UPLOAD_ID = "studio_upload_01932c5e-7b00-7000-8000-0000000000f1";
const AT = "2026-12-02T10:00:00.000Z";
const DONE = "2026-12-02T10:00:00.004Z";
const ORG = "org_01932c5e-7a1b-7000-8000-000000000001";

const nullable = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);

const runRequestExample = { model: "demo-model", mode: "execute", scope: "playground", input: { text: "Hello" }, params: {} };
const indexRequestExample = { model: "mock-embed", mode: "index", scope: "docs", input: { id: "faq-1", text: "How do I rotate an API key?", metadata: { lang: "en" } } };
const searchRequestExample = { model: "mock-embed", mode: "search", scope: "docs", input: { text: "rotate a key" }, params: { top_k: 5, filter: { lang: "en" } } };

const runExample = {
  id: RUN_ID,
  object: "run",
  model: "demo-model",
  mode: "execute",
  scope: "playground",
  status: "COMPLETED",
  output: { text: "the gateway routes each request to a healthy provider and meters every call" },
  error: null,
  usage: { input_tokens: 1, output_tokens: 14 },
  cost: "0.000006",
  created_at: AT,
  started_at: AT,
  completed_at: DONE,
  latency_ms: 4,
};
const searchRunExample = {
  ...runExample,
  model: "mock-embed",
  mode: "search",
  scope: "docs",
  output: {
    scope: "docs",
    top_k: 5,
    results: [{ item_id: "faq-1", score: 0.57735, metadata: { lang: "en" }, input: { text: "How do I rotate an API key?" } }],
  },
  usage: { input_tokens: 3, output_tokens: 0 },
  cost: "0.000001",
};

const itemExample = {
  id: "faq-1",
  object: "vector_item",
  metadata: { lang: "en" },
  input: { text: "How do I rotate an API key?" },
  dimensions: 256,
  run_id: RUN_ID,
  created_at: AT,
  updated_at: AT,
};
const scopeExample = { object: "vector_scope", model: "mock-embed", scope: "docs", item_count: 1, dimensions: 256, created_at: AT, updated_at: AT };

const usageRowExample = { group: "2026-12-02", executions: 1, input_tokens: 1, output_tokens: 14, cost: "0.000006" };
const usageModelRowExample = { group: "demo-model", executions: 1, input_tokens: 1, output_tokens: 14, cost: "0.000006" };

const marketplaceExample = {
  object: "marketplace_model",
  slug: "mock-vision",
  name: "Mock Vision",
  description: "Demo model (built-in mock provider): describes an uploaded image.",
  task: "image-to-text",
  modes: ["execute"],
  pricing: { currency: "USD", input_per_1m_tokens: "0.500", output_per_1m_tokens: "1.500" },
  input_contract: {
    type: "object",
    required: ["image"],
    properties: { image: { type: "string", format: "file-id", "x-accept": ["image/png", "image/jpeg"] }, prompt: { type: "string" } },
  },
  media_inputs: [{ field: "image", media_types: ["image"], content_types: ["image/png", "image/jpeg"] }],
  owned_by: "modelroute",
  created_at: AT,
};

const usageRow = t.Object({
  group: t.String({ description: "The UTC day (YYYY-MM-DD) or the model slug." }),
  executions: strictInteger(),
  input_tokens: strictInteger(),
  output_tokens: strictInteger(),
  cost: t.String({ description: "USD, a decimal string." }),
});

export namespace AimpModel {
  export const runRequest = t.Object(
    {
      model: t.String({ description: "The published model slug." }),
      mode: t.Optional(enumOf(["execute", "index", "search"] as const, { description: "The operation to run; execute by default." })),
      scope: t.Optional(t.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description: "The vector namespace; required for index and search." })),
      input: t.Record(t.String(), t.Unknown(), { description: "Model input (its contract); for index and search `text` and/or `image` (a media_ref), for index also `id` and `metadata`." }),
      params: t.Optional(t.Record(t.String(), t.Unknown(), { description: "Model parameters, a JSON object; for search `top_k` (1–100, default 10) and `filter` (metadata equality)." })),
      options: t.Optional(
        t.Object(
          {
            wait: t.Optional(strictInteger({ minimum: 0, maximum: 300, description: "Seconds to wait for the run to finish before answering 202 (default 60)." })),
            webhook_url: t.Optional(t.String({ description: "Receives the run's terminal webhook." })),
            metadata: t.Optional(t.Record(t.String(), t.String(), { description: "Kept on the execution." })),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false, examples: [runRequestExample, indexRequestExample, searchRequestExample] },
  );

  export const run = t.Object(
    {
      id: t.String({ description: "The execution id: `GET /api/runs/{id}` and `GET /v1/executions/{id}` both show it." }),
      object: t.Literal("run"),
      model: t.String(),
      mode: enumOf(["execute", "index", "search"] as const),
      scope: nullable(t.String()),
      status: enumOf(["PENDING", "PROCESSING", "AWAITING_WEBHOOK", "COMPLETED", "FAILED", "CANCELLED", "EXPIRED"] as const),
      output: t.Unknown({ description: "execute: the model's output; index: the item written; search: the hits, best first. Null until done." }),
      error: nullable(t.Object({ code: t.String(), message: t.String() })),
      usage: t.Unknown({ description: "Tokens (and images or seconds where priced so); null until done." }),
      cost: nullable(t.String({ description: "USD charged, a decimal string; null until done." })),
      created_at: t.String({ format: "date-time" }),
      started_at: nullable(t.String({ format: "date-time" })),
      completed_at: nullable(t.String({ format: "date-time" })),
      latency_ms: nullable(strictInteger()),
    },
    { description: "A run: an execution seen through the AIMP surface.", examples: [runExample, searchRunExample] },
  );

  export const runParams = t.Object({ id: t.String({ description: "The run's id (an execution id, exec_…)." }) });

  export const mediaInitBody = strictObject(
    {
      filename: t.String({ minLength: 1, maxLength: 255, description: "The file's name." }),
      content_type: t.String({ minLength: 1, maxLength: 255, description: "Media type of the bytes; the PUT sends the same Content-Type." }),
      media_type: t.String({ description: "image, audio, video or file; must agree with content_type." }),
      size_bytes: strictInteger({ minimum: 1, maximum: MAX_FILE_BYTES, description: "Exact size of the bytes the PUT sends (at most 150 MiB)." }),
    },
    { examples: [{ filename: "image.png", content_type: "image/png", media_type: "image", size_bytes: 12345 }] },
  );
  export type mediaInitBody = typeof mediaInitBody.static;

  export const mediaUpload = t.Object(
    {
      object: t.Literal("media_upload"),
      upload_id: t.String({ description: "Pass it to POST /api/media/upload/complete." }),
      upload_url: t.String({ description: "PUT the bytes here (no API key), with the declared Content-Type and exactly size_bytes bytes." }),
      upload_method: t.Literal("PUT"),
      upload_headers: t.Record(t.String(), t.String(), { description: "Headers the PUT must send." }),
      expires_at: t.String({ format: "date-time", description: "When upload_url stops working." }),
    },
    {
      examples: [
        {
          object: "media_upload",
          upload_id: UPLOAD_ID,
          upload_url: `http://127.0.0.1:8080/v1/files/${FILE_ID}/content?expires=1796033402&signature=1c8460d0a32f0d1baea1d8b0aeed814f865e88e09bfcf27245dcb98cfcc6b3fb`,
          upload_method: "PUT",
          upload_headers: { "Content-Type": "image/png" },
          expires_at: "2026-12-02T11:00:00.000Z",
        },
      ],
    },
  );

  export const mediaCompleteBody = strictObject(
    { upload_id: t.String({ minLength: 1, maxLength: 128, description: "The upload_id init returned." }) },
    { examples: [{ upload_id: UPLOAD_ID }] },
  );

  export const media = t.Object(
    {
      object: t.Literal("media"),
      media_ref: t.String({ description: "Use it in run inputs (a string, or `{\"media_ref\": …}`); it is also the file's id in /v1/files." }),
      upload_id: t.String(),
      media_type: enumOf(["image", "audio", "video", "file"] as const),
      filename: t.String(),
      content_type: t.String(),
      size_bytes: strictInteger(),
      sha256: nullable(t.String()),
      created_at: t.String({ format: "date-time" }),
      expires_at: nullable(t.String({ format: "date-time" })),
    },
    {
      examples: [
        {
          object: "media",
          media_ref: FILE_ID,
          upload_id: UPLOAD_ID,
          media_type: "image",
          filename: "image.png",
          content_type: "image/png",
          size_bytes: 12345,
          sha256: "77af778b51abd4a3c51c5ddd97204a9c3ae614ebccb75a606c3b6865aed6744e",
          created_at: AT,
          expires_at: "2027-01-01T10:00:00.000Z",
        },
      ],
    },
  );

  const entryShape = {
    object: t.Literal("marketplace_model"),
    slug: t.String(),
    name: t.String(),
    description: t.String(),
    task: t.String(),
    modes: t.Array(enumOf(["execute", "index", "search"] as const), { description: "The run modes the model supports." }),
    pricing: t.Record(t.String(), t.String(), { description: "currency and prices as decimal strings." }),
    input_contract: t.Record(t.String(), t.Unknown(), { description: "The JSON Schema of `input` (with params beside it)." }),
    media_inputs: t.Array(t.Object({ field: t.String(), media_types: t.Array(t.String()), content_types: t.Array(t.String()) })),
    owned_by: t.String(),
    created_at: t.String({ format: "date-time" }),
  };
  export const marketplaceModel = t.Object(entryShape, { examples: [marketplaceExample] });
  export const marketplaceModels = t.Object(
    { object: t.Literal("list"), data: t.Array(t.Object(entryShape, { examples: [marketplaceExample] })), has_more: t.Boolean() },
    { examples: [{ object: "list", data: [marketplaceExample], has_more: false }] },
  );
  export const slugParams = t.Object({ slug: t.String({ description: "The model slug." }) });

  export const wallet = t.Object(
    {
      object: t.Literal("wallet"),
      workspace_id: t.String({ description: "The organization." }),
      available: t.String({ description: "USD that new runs can hold." }),
      held: t.String({ description: "USD held by runs still going." }),
      total: t.String({ description: "available + held." }),
      currency: t.Literal("USD"),
    },
    { examples: [{ object: "wallet", workspace_id: ORG, available: "9.960", held: "0.040", total: "10.000", currency: "USD" }] },
  );

  export const usageQuery = t.Object({
    from: t.Optional(t.String({ description: "Start, inclusive: an ISO-8601 UTC date or time (default 29 days before today, 00:00 UTC)." })),
    to: t.Optional(t.String({ description: "End, exclusive (default now)." })),
  });

  export const usageSummary = t.Object(
    {
      object: t.Literal("usage_summary"),
      workspace_id: t.String(),
      from: t.String({ format: "date-time" }),
      to: t.String({ format: "date-time" }),
      currency: t.Literal("USD"),
      total: t.Object({ executions: strictInteger(), input_tokens: strictInteger(), output_tokens: strictInteger(), cost: t.String() }),
      by_day: t.Array(usageRow, { description: "As GET /v1/usage." }),
      by_model: t.Array(usageRow, { description: "As GET /v1/usage?group_by=model." }),
    },
    {
      examples: [
        {
          object: "usage_summary",
          workspace_id: ORG,
          from: "2026-11-03T00:00:00.000Z",
          to: "2026-12-02T10:00:00.000Z",
          currency: "USD",
          total: { executions: 1, input_tokens: 1, output_tokens: 14, cost: "0.000006" },
          by_day: [usageRowExample],
          by_model: [usageModelRowExample],
        },
      ],
    },
  );

  export const scope = t.Object(
    { object: t.Literal("vector_scope"), model: t.String(), scope: t.String(), item_count: strictInteger(), dimensions: strictInteger(), created_at: t.String({ format: "date-time" }), updated_at: t.String({ format: "date-time" }) },
    { examples: [scopeExample] },
  );
  export const scopes = t.Object({ object: t.Literal("list"), data: t.Array(scope), has_more: t.Boolean() }, { examples: [{ object: "list", data: [scopeExample], has_more: false }] });
  export const scopesQuery = t.Object({ model: t.Optional(t.String({ description: "Only this model's scopes." })) });
  export const scopeParams = t.Object({
    model: t.String({ description: "The embedding model's slug." }),
    scope: t.String({ description: "The scope." }),
  });
  export const itemParams = t.Object({
    model: t.String({ description: "The embedding model's slug." }),
    scope: t.String({ description: "The scope." }),
    item_id: t.String({ description: "The item's id." }),
  });

  export const item = t.Object(
    {
      id: t.String(),
      object: t.Literal("vector_item"),
      metadata: t.Record(t.String(), t.Unknown()),
      input: t.Record(t.String(), t.Unknown(), { description: "What was embedded: `text` (its first 1,000 characters) and/or `media_ref`." }),
      dimensions: strictInteger(),
      run_id: t.String({ description: "The index run that wrote it last." }),
      created_at: t.String({ format: "date-time" }),
      updated_at: t.String({ format: "date-time" }),
    },
    { examples: [itemExample] },
  );
  export const items = t.Object({ object: t.Literal("list"), data: t.Array(item), has_more: t.Boolean() }, { examples: [{ object: "list", data: [itemExample], has_more: false }] });
  export const itemsQuery = t.Object({
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, description: "Page size, 1–100 (default 20)." })),
    starting_after: t.Optional(t.String({ maxLength: 128, description: "An item id from the previous page: return older items." })),
  });
  export const deletedItem = t.Object(
    { id: t.String(), object: t.Literal("vector_item"), deleted: t.Literal(true) },
    { examples: [{ id: "faq-1", object: "vector_item", deleted: true }] },
  );
  export const deletedScope = t.Object(
    { object: t.Literal("vector_scope"), model: t.String(), scope: t.String(), deleted: t.Literal(true), items_deleted: strictInteger() },
    { examples: [{ object: "vector_scope", model: "mock-embed", scope: "docs", deleted: true, items_deleted: 1 }] },
  );
}
