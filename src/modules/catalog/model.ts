import { t } from "elysia";
import { listOf, strictInteger } from "../../http/schemas";
import { formatUsd } from "../../money";
import { DEFAULT_MODELS } from "./default-catalog";

/** The examples show the embedded mock-image model as GET /v1/models serves it. */
const seed = DEFAULT_MODELS.find((m) => m.slug === "mock-image")!;
const examplePricing = { currency: "USD", per_image: formatUsd(seed.pricing.perImageMicros!) } as const;

export namespace CatalogModel {
  export const pricing = t.Object(
    {
      currency: t.Literal("USD"),
      per_image: t.Optional(t.String({ examples: ["0.040"] })),
      input_per_1m_tokens: t.Optional(t.String({ examples: ["0.500"] })),
      output_per_1m_tokens: t.Optional(t.String({ examples: ["1.500"] })),
      cached_input_per_1m_tokens: t.Optional(t.String({ description: "Input tokens read from the provider's prompt cache.", examples: ["0.050"] })),
      cache_write_per_1m_tokens: t.Optional(t.String({ description: "Input tokens written to the provider's prompt cache.", examples: ["0.625"] })),
      per_second: t.Optional(t.String({ description: "Compute time on prediction servers; seconds of audio for transcription." })),
      per_1m_characters: t.Optional(t.String({ description: "Characters of text read, for speech synthesis.", examples: ["15.000"] })),
      per_request: t.Optional(t.String({ description: "Each completed call (a moderation, a rerank search).", examples: ["0.001"] })),
      batch_discount_percent: t.Optional(strictInteger({ minimum: 0, maximum: 100, description: "Percent off every price for batch lines; absent: the server's MODELROUTE_BATCH_DISCOUNT_PERCENT." })),
      per_cache_hit: t.Optional(t.String({ description: "Each answer served from the gateway's response cache (0 when absent).", examples: ["0.000"] })),
    },
    { description: "Prices as decimal USD strings; only the dimensions the model is priced by are present.", examples: [examplePricing] },
  );

  export const model = t.Object(
    {
      id: t.String({ description: "The model slug used in executions.", examples: ["mock-image"] }),
      object: t.Literal("model"),
      created: strictInteger({ description: "Unix seconds when the model entered the catalog." }),
      owned_by: t.String(),
      type: t.Literal("model", { description: "For Anthropic's clients." }),
      display_name: t.String({ description: "For Anthropic's clients: the slug." }),
      created_at: t.String({ format: "date-time", description: "For Anthropic's clients." }),
      task: t.String({ examples: ["text-to-image", "chat", "embedding", "text-generation"] }),
      context_window: t.Union([strictInteger(), t.Null()], { description: "Tokens the model reads at most, prompt and output together." }),
      max_output_tokens: t.Union([strictInteger(), t.Null()]),
      description: t.String(),
      input_schema: t.Record(t.String(), t.Unknown(), { description: "JSON Schema of `input` for this model." }),
      pricing,
      alias_of: t.Optional(t.Array(t.String(), { description: "Aliases only: the models this name tries, in order (the first that can answer does, at its own price)." })),
    },
    {
      description: "A model of the catalog, in the shape both OpenAI's and Anthropic's clients read, plus task, limits, description, input schema and pricing.",
      examples: [
        {
          id: seed.slug,
          object: "model",
          created: 1792047600,
          owned_by: seed.ownedBy,
          type: "model",
          display_name: seed.slug,
          created_at: "2026-10-14T12:20:00.000Z",
          task: seed.task,
          context_window: null,
          max_output_tokens: seed.maxOutputTokens ?? null,
          description: seed.description,
          input_schema: seed.inputSchema,
          pricing: examplePricing,
        },
      ],
    },
  );

  export const list = t.Object(
    {
      ...listOf(model, "Every model this gateway serves.").properties,
      first_id: t.Union([t.String(), t.Null()], { description: "For Anthropic's clients." }),
      last_id: t.Union([t.String(), t.Null()], { description: "For Anthropic's clients." }),
    },
    { description: "Every model this gateway serves, in one page." },
  );
}
