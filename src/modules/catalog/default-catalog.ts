/**
 * The embedded default catalog (docs/decisions.md "Foundation and executions engine"): demo models served by the built-in
 * mock provider so a first run works offline. Prices are integer micro-USD.
 */
import {
  CHAT_INPUT_SCHEMA, EMBEDDING_INPUT_SCHEMA, IMAGE_EDIT_INPUT_SCHEMA, IMAGE_VARIATION_INPUT_SCHEMA, MODERATION_INPUT_SCHEMA, RERANK_INPUT_SCHEMA,
  SPEECH_TO_TEXT_INPUT_SCHEMA, TEXT_TO_SPEECH_INPUT_SCHEMA,
} from "../../canonical/tasks";
import type { ModelCacheSettings, Pricing, ProviderKeyRefs } from "../../db/schema";

export type CatalogModel = {
  slug: string;
  task: string;
  description: string;
  ownedBy: string;
  /** Null: the canonical schema of the task (docs/tasks.md). */
  inputSchema: Record<string, unknown> | null;
  pricing: Pricing;
  maxOutputTokens?: number | null;
  contextWindow?: number | null;
  queueTtlMs?: number | null;
  /** Response-cache settings (docs/cache.md); null or left out: the defaults. */
  cache?: ModelCacheSettings | null;
  routes: CatalogRoute[];
};

export type CatalogRoute = {
  provider: string;
  upstreamModel: string;
  timeoutMs: number;
  firstTokenMs?: number | null;
  idleMs?: number | null;
  retries?: number | null;
  params?: Record<string, unknown>;
  maxConcurrency?: number | null;
  maxQueue?: number | null;
};

export type CatalogProvider = { id: string; kind: string; baseUrl?: string | null; apiKey?: string | null; keyRefs?: ProviderKeyRefs; config?: Record<string, unknown> };

const SEED_ERROR_CODES = [
  "INPUT_VALIDATION_ERROR", "CONTENT_MODERATION_REJECTED", "MODEL_OVERLOADED", "MODEL_UNAVAILABLE",
  "GENERATION_TIMEOUT", "GENERATION_FAILED", "SERVICE_UNAVAILABLE", "INTERNAL_ERROR",
];

/** Inputs every mock model takes, so tests, demos and benchmarks can shape a run. */
const mockControls = {
  mock_latency_ms: { type: "integer", minimum: 0, maximum: 600_000, description: "Mock only: how long the provider takes, in milliseconds." },
  mock_error: { type: "string", enum: SEED_ERROR_CODES, description: "Mock only: make the run fail with this error code." },
};

/** A task's canonical schema with some properties narrowed, plus the mock controls. */
function withMockControls(schema: { properties: Record<string, unknown> } & Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  return { ...schema, properties: { ...schema.properties, ...overrides, ...mockControls } };
}

export const DEFAULT_PROVIDERS: CatalogProvider[] = [{ id: "mock", kind: "mock" }];

export const DEFAULT_MODELS: CatalogModel[] = [
  {
    slug: "mock-image",
    task: "text-to-image",
    description: "Demo model (built-in mock provider): renders a deterministic PNG of the requested size from the prompt and seed. $0.040 per image.",
    ownedBy: "modelroute",
    pricing: { perImageMicros: 40_000 },
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["prompt"],
      properties: {
        prompt: { type: "string", minLength: 1, maxLength: 4000, description: "What to draw." },
        width: { type: "integer", minimum: 64, maximum: 2048, default: 1024, description: "Image width in pixels." },
        height: { type: "integer", minimum: 64, maximum: 2048, default: 1024, description: "Image height in pixels." },
        num_images: { type: "integer", minimum: 1, maximum: 4, default: 1, description: "How many images to make." },
        seed: { type: "integer", minimum: 0, maximum: 4294967295, description: "Same prompt and seed, same pixels." },
        ...mockControls,
      },
    },
    routes: [{ provider: "mock", upstreamModel: "mock-image", timeoutMs: 120_000, retries: 0 }],
  },
  {
    slug: "mock-chat",
    task: "chat",
    description: "Demo model (built-in mock provider): answers chat messages with deterministic text; tokens are whitespace-separated words. $0.50 / $1.50 per 1M input / output tokens.",
    ownedBy: "modelroute",
    pricing: { inputPer1mTokensMicros: 500_000, outputPer1mTokensMicros: 1_500_000 },
    maxOutputTokens: 1024,
    // The canonical chat input (typed parts, tools, …), so the mock can stand in for any chat upstream.
    inputSchema: withMockControls(CHAT_INPUT_SCHEMA, {
      max_tokens: { type: "integer", minimum: 1, maximum: 1024, description: "Most output tokens to produce (default 1024)." },
    }),
    routes: [{ provider: "mock", upstreamModel: "mock-chat", timeoutMs: 120_000, retries: 0 }],
  },
  {
    slug: "mock-embed",
    task: "embedding",
    description: "Demo model (built-in mock provider): deterministic unit-length embeddings. $0.02 per 1M input tokens.",
    ownedBy: "modelroute",
    pricing: { inputPer1mTokensMicros: 20_000 },
    maxOutputTokens: 0,
    inputSchema: withMockControls(EMBEDDING_INPUT_SCHEMA, { dimensions: { type: "integer", minimum: 1, maximum: 3072, default: 256 } }),
    routes: [{ provider: "mock", upstreamModel: "mock-embed", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-image-embed",
    task: "embedding",
    description: "Demo model (built-in mock provider): embeds an uploaded image (its format, pixel size and checksum) with an optional caption, or a text, into one unit-length vector. $0.02 per 1M input tokens (an image is one).",
    ownedBy: "modelroute",
    pricing: { inputPer1mTokensMicros: 20_000 },
    maxOutputTokens: 0,
    inputSchema: {
      type: "object",
      additionalProperties: false,
      anyOf: [{ required: ["image"] }, { required: ["input"] }],
      properties: {
        image: { type: "string", format: "file-id", "x-accept": ["image/png", "image/jpeg", "image/webp", "image/gif"], description: "A file id (an AIMP media_ref) of the image to embed." },
        input: { type: "string", minLength: 1, maxLength: 100_000, description: "A caption embedded with the image, or a text on its own." },
        dimensions: { type: "integer", minimum: 1, maximum: 3072, default: 256 },
        ...mockControls,
      },
    },
    routes: [{ provider: "mock", upstreamModel: "mock-image-embed", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-vision",
    task: "image-to-text",
    description: "Demo model (built-in mock provider): describes an uploaded image (PNG, JPEG, WEBP, GIF) from its real bytes: format, pixel size, checksum. Shows file inputs end to end. $0.50 / $1.50 per 1M input / output tokens.",
    ownedBy: "modelroute",
    pricing: { inputPer1mTokensMicros: 500_000, outputPer1mTokensMicros: 1_500_000 },
    maxOutputTokens: 256,
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["image"],
      properties: {
        image: {
          type: "string",
          format: "file-id",
          "x-accept": ["image/png", "image/jpeg", "image/webp", "image/gif"],
          description: "A file id from POST /v1/files/upload.",
        },
        prompt: { type: "string", maxLength: 4000, description: "What to look for (echoed into the token count)." },
        ...mockControls,
      },
    },
    routes: [{ provider: "mock", upstreamModel: "mock-vision", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "demo-model",
    task: "text-generation",
    description: "Demo model (built-in mock provider): text in, text out, as in the AIMP gateway's example. $0.10 / $0.40 per 1M input / output tokens.",
    ownedBy: "modelroute",
    pricing: { inputPer1mTokensMicros: 100_000, outputPer1mTokensMicros: 400_000 },
    maxOutputTokens: 512,
    inputSchema: {
      type: "object",
      additionalProperties: false,
      required: ["text"],
      properties: {
        text: { type: "string", minLength: 1, maxLength: 100_000, description: "The prompt." },
        max_tokens: { type: "integer", minimum: 1, maximum: 512 },
        ...mockControls,
      },
    },
    routes: [{ provider: "mock", upstreamModel: "demo-model", timeoutMs: 120_000, retries: 0 }],
  },
  {
    slug: "mock-tts",
    task: "text-to-speech",
    description: "Demo model (built-in mock provider): speaks the text as a real 24 kHz 16-bit mono WAV (or raw pcm), 60 ms per character at speed 1, a tone per character. $15.00 per 1M characters.",
    ownedBy: "modelroute",
    pricing: { per1mCharactersMicros: 15_000_000 },
    inputSchema: withMockControls(TEXT_TO_SPEECH_INPUT_SCHEMA, { format: { enum: ["wav", "pcm"], default: "wav", description: "The mock writes WAV or raw 16-bit PCM only." } }),
    routes: [{ provider: "mock", upstreamModel: "mock-tts", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-transcribe",
    task: "speech-to-text",
    description: "Demo model (built-in mock provider): reads a WAV's header and gives back the text the mock speech model wrote into it, or describes the recording's duration and format. $0.0001 per second of audio.",
    ownedBy: "modelroute",
    pricing: { perSecondMicros: 100 },
    inputSchema: withMockControls(SPEECH_TO_TEXT_INPUT_SCHEMA, {}),
    routes: [{ provider: "mock", upstreamModel: "mock-transcribe", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-image-edit",
    task: "image-edit",
    description: "Demo model (built-in mock provider): decodes the PNG and inverts it, tinted by the prompt, where the mask is transparent (everywhere without one). $0.020 per image.",
    ownedBy: "modelroute",
    pricing: { perImageMicros: 20_000 },
    inputSchema: withMockControls(IMAGE_EDIT_INPUT_SCHEMA, {
      images: { ...IMAGE_EDIT_INPUT_SCHEMA.properties.images, items: { ...IMAGE_EDIT_INPUT_SCHEMA.properties.images.items, "x-accept": ["image/png"] } },
      num_images: { type: "integer", minimum: 1, maximum: 4, default: 1 },
      width: { type: "integer", minimum: 16, maximum: 2048 },
      height: { type: "integer", minimum: 16, maximum: 2048 },
    }),
    routes: [{ provider: "mock", upstreamModel: "mock-image-edit", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-image-variation",
    task: "image-variation",
    description: "Demo model (built-in mock provider): decodes the PNG and rotates and shifts its colours, differently for each variation. $0.020 per image.",
    ownedBy: "modelroute",
    pricing: { perImageMicros: 20_000 },
    inputSchema: withMockControls(IMAGE_VARIATION_INPUT_SCHEMA, {
      image: { ...IMAGE_VARIATION_INPUT_SCHEMA.properties.image, "x-accept": ["image/png"] },
      num_images: { type: "integer", minimum: 1, maximum: 4, default: 1 },
      width: { type: "integer", minimum: 16, maximum: 2048 },
      height: { type: "integer", minimum: 16, maximum: 2048 },
    }),
    routes: [{ provider: "mock", upstreamModel: "mock-image-variation", timeoutMs: 60_000, retries: 0 }],
  },
  {
    slug: "mock-moderation",
    task: "moderation",
    description: "Demo model (built-in mock provider): scores each of OpenAI's moderation categories from a word list; flagged at 0.5. $0.0001 per request.",
    ownedBy: "modelroute",
    pricing: { perRequestMicros: 100 },
    inputSchema: withMockControls(MODERATION_INPUT_SCHEMA, {}),
    routes: [{ provider: "mock", upstreamModel: "mock-moderation", timeoutMs: 30_000, retries: 0 }],
  },
  {
    slug: "mock-rerank",
    task: "rerank",
    description: "Demo model (built-in mock provider): ranks documents by the share of the query's words they contain. $0.002 per search.",
    ownedBy: "modelroute",
    pricing: { perRequestMicros: 2_000 },
    inputSchema: withMockControls(RERANK_INPUT_SCHEMA, {}),
    routes: [{ provider: "mock", upstreamModel: "mock-rerank", timeoutMs: 30_000, retries: 0 }],
  },
];
