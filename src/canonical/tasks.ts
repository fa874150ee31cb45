/**
 * The canonical input schema of each standard task: what a model of that task takes when its
 * catalog entry gives no `input_schema` of its own. Outputs are described in docs/tasks.md.
 */
const text = (maxLength: number) => ({ type: "string", maxLength });
const imagePart = {
  type: "object",
  additionalProperties: false,
  required: ["type"],
  properties: {
    type: { const: "image" },
    url: { type: "string", maxLength: 20_000_000, description: "https:// or data: URI." },
    data: { type: "string", maxLength: 20_000_000, description: "Base64 bytes (with media_type)." },
    media_type: { type: "string", maxLength: 100 },
  },
};
const textPart = { type: "object", additionalProperties: false, required: ["type", "text"], properties: { type: { const: "text" }, text: text(1_000_000) } };
const parts = {
  type: "array",
  maxItems: 1000,
  items: {
    oneOf: [
      textPart,
      imagePart,
      {
        type: "object",
        additionalProperties: false,
        required: ["type", "thinking"],
        properties: { type: { const: "thinking" }, thinking: text(1_000_000), signature: text(100_000) },
      },
      {
        type: "object",
        additionalProperties: false,
        required: ["type", "id", "name", "input"],
        properties: { type: { const: "tool_use" }, id: text(256), name: text(256), input: { type: "object" } },
      },
      {
        type: "object",
        additionalProperties: false,
        required: ["type", "tool_use_id", "content"],
        properties: {
          type: { const: "tool_result" },
          tool_use_id: text(256),
          content: { oneOf: [text(1_000_000), { type: "array", maxItems: 100, items: { oneOf: [textPart, imagePart] } }] },
          is_error: { type: "boolean" },
        },
      },
    ],
  },
};

export const CHAT_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["messages"],
  properties: {
    messages: {
      type: "array",
      minItems: 1,
      maxItems: 10_000,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["role", "content"],
        properties: { role: { enum: ["system", "user", "assistant"] }, content: { oneOf: [text(1_000_000), parts] } },
      },
    },
    tools: {
      type: "array",
      maxItems: 256,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: { name: text(128), description: text(10_000), parameters: { type: "object" } },
      },
    },
    tool_choice: {
      oneOf: [{ enum: ["auto", "none", "required"] }, { type: "object", additionalProperties: false, required: ["name"], properties: { name: text(128) } }],
    },
    parallel_tool_calls: { type: "boolean" },
    max_tokens: { type: "integer", minimum: 1 },
    temperature: { type: "number", minimum: 0, maximum: 2 },
    top_p: { type: "number", minimum: 0, maximum: 1 },
    top_k: { type: "integer", minimum: 1 },
    stop: { oneOf: [text(1000), { type: "array", maxItems: 16, items: text(1000) }] },
    seed: { type: "integer" },
    n: { type: "integer", minimum: 1, maximum: 16 },
    response_format: {
      type: "object",
      required: ["type"],
      properties: { type: { enum: ["text", "json_object", "json_schema"] }, json_schema: { type: "object" } },
    },
    logprobs: { type: "boolean" },
    top_logprobs: { type: "integer", minimum: 0, maximum: 20 },
    presence_penalty: { type: "number", minimum: -2, maximum: 2 },
    frequency_penalty: { type: "number", minimum: -2, maximum: 2 },
    thinking: { type: "object", additionalProperties: false, required: ["budget_tokens"], properties: { budget_tokens: { type: "integer", minimum: 1024 } } },
    user: text(256),
  },
};

export const TEXT_GENERATION_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["prompt"],
  properties: {
    prompt: text(1_000_000),
    max_tokens: { type: "integer", minimum: 1 },
    temperature: { type: "number", minimum: 0, maximum: 2 },
    top_p: { type: "number", minimum: 0, maximum: 1 },
    stop: { oneOf: [text(1000), { type: "array", maxItems: 16, items: text(1000) }] },
    seed: { type: "integer" },
  },
};

export const EMBEDDING_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["input"],
  properties: {
    input: { oneOf: [{ type: "string", minLength: 1, maxLength: 1_000_000 }, { type: "array", minItems: 1, maxItems: 2048, items: { type: "string", minLength: 1, maxLength: 1_000_000 } }] },
    dimensions: { type: "integer", minimum: 1, maximum: 65_536 },
  },
};

export const TEXT_TO_IMAGE_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["prompt"],
  properties: {
    prompt: text(32_000),
    width: { type: "integer", minimum: 64, maximum: 4096 },
    height: { type: "integer", minimum: 64, maximum: 4096 },
    num_images: { type: "integer", minimum: 1, maximum: 10, default: 1 },
    seed: { type: "integer", minimum: 0 },
    negative_prompt: text(32_000),
  },
};

/** Audio formats a speech model may produce; a model's own schema narrows the list to what it makes. */
export const SPEECH_FORMATS = ["wav", "pcm", "mp3", "opus", "aac", "flac"] as const;

export const TEXT_TO_SPEECH_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["input"],
  properties: {
    input: { type: "string", minLength: 1, maxLength: 4096, description: "The text to speak." },
    voice: text(64),
    format: { enum: [...SPEECH_FORMATS], default: "wav" },
    speed: { type: "number", minimum: 0.25, maximum: 4, default: 1 },
    instructions: text(4096),
  },
};

const fileId = (accept: string[], description: string) => ({ type: "string", format: "file-id", "x-accept": accept, description });
const AUDIO_TYPES = ["audio/*", "video/mp4", "video/webm"];
const EDITABLE_IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];

export const SPEECH_TO_TEXT_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["file"],
  properties: {
    file: fileId(AUDIO_TYPES, "The recording: a file id (the OpenAI routes store the uploaded file as one)."),
    translate: { type: "boolean", default: false, description: "true: the text in English, whatever language is spoken." },
    language: text(16),
    prompt: text(10_000),
    temperature: { type: "number", minimum: 0, maximum: 1 },
    timestamp_granularities: { type: "array", maxItems: 2, uniqueItems: true, items: { enum: ["segment", "word"] } },
  },
};

const imageCount = { type: "integer", minimum: 1, maximum: 10, default: 1 };
const side = { type: "integer", minimum: 64, maximum: 4096 };

export const IMAGE_EDIT_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["images", "prompt"],
  properties: {
    images: { type: "array", minItems: 1, maxItems: 16, items: fileId(EDITABLE_IMAGE_TYPES, "An image to edit (a file id).") },
    mask: fileId(["image/png"], "A PNG the size of the first image: its fully transparent pixels are where the edit goes."),
    prompt: text(32_000),
    num_images: imageCount,
    width: side,
    height: side,
  },
};

export const IMAGE_VARIATION_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["image"],
  properties: { image: fileId(EDITABLE_IMAGE_TYPES, "The image to vary (a file id)."), num_images: imageCount, width: side, height: side },
};

export const MODERATION_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["input"],
  properties: {
    input: {
      oneOf: [
        { type: "string", maxLength: 1_000_000 },
        { type: "array", minItems: 1, maxItems: 1000, items: { type: "string", maxLength: 1_000_000 } },
        { type: "array", minItems: 1, maxItems: 100, items: { oneOf: [textPart, imagePart] } },
      ],
    },
  },
};

export const RERANK_INPUT_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["query", "documents"],
  properties: {
    query: { type: "string", minLength: 1, maxLength: 100_000 },
    documents: { type: "array", minItems: 1, maxItems: 1000, items: { type: "string", maxLength: 1_000_000 } },
    top_n: { type: "integer", minimum: 1 },
  },
};

/** Standard tasks and the schema a model of the task takes by default. */
export const TASK_INPUT_SCHEMAS: Record<string, Record<string, unknown>> = {
  chat: CHAT_INPUT_SCHEMA,
  "text-generation": TEXT_GENERATION_INPUT_SCHEMA,
  embedding: EMBEDDING_INPUT_SCHEMA,
  "text-to-image": TEXT_TO_IMAGE_INPUT_SCHEMA,
  "text-to-speech": TEXT_TO_SPEECH_INPUT_SCHEMA,
  "speech-to-text": SPEECH_TO_TEXT_INPUT_SCHEMA,
  "image-edit": IMAGE_EDIT_INPUT_SCHEMA,
  "image-variation": IMAGE_VARIATION_INPUT_SCHEMA,
  moderation: MODERATION_INPUT_SCHEMA,
  rerank: RERANK_INPUT_SCHEMA,
};
