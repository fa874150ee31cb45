/**
 * The Ollama-compatible bodies as the API docs show them. They document, they do not validate:
 * the routes check requests themselves so that errors come in Ollama's `{"error":"…"}` shape.
 */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;
const CREATED_AT = "2025-12-02T09:20:00.000Z";
const FIGURES = { total_duration: 412000000, load_duration: 1000000, prompt_eval_count: 5, prompt_eval_duration: 0, eval_count: 6, eval_duration: 411000000 };
const DETAILS = { parent_model: "", format: "", family: "modelroute", families: ["modelroute"], parameter_size: "", quantization_level: "" };

const options = Type.Object(
  {
    temperature: Type.Optional(Type.Number()),
    top_p: Type.Optional(Type.Number()),
    seed: Type.Optional(Type.Integer()),
    stop: Type.Optional(Type.Array(Type.String())),
    num_predict: Type.Optional(Type.Integer({ description: "The most tokens to generate (max_tokens); 0 or less: the model's maximum." })),
    presence_penalty: Type.Optional(Type.Number()),
    frequency_penalty: Type.Optional(Type.Number()),
  },
  { ...open, description: "Sampling options. The local-runner ones Ollama documents (num_ctx, num_gpu, top_k, mirostat, …) are accepted and ignored; any other is refused." },
);
const format = Type.Union([Type.Literal("json"), Type.Object({}, open)], { description: '"json" for a JSON object, or a JSON schema for structured output.' });
const think = Type.Union([Type.Boolean(), Type.Literal("low"), Type.Literal("medium"), Type.Literal("high")], { description: "Thinking, for a model whose input takes it (budgets 1024, 4096, 16384 tokens; true is medium)." });
const keepAlive = Type.Union([Type.String(), Type.Number()], { description: "Accepted and ignored (nothing stays loaded); 0 with nothing to generate answers done_reason unload." });
const stream = Type.Boolean({ description: "false for one JSON object; by default the answer streams as application/x-ndjson." });
const figures = {
  done: Type.Boolean(),
  done_reason: Type.Optional(Type.String({ description: "stop, length; load or unload when there was nothing to generate." })),
  total_duration: Type.Optional(Type.Integer({ description: "Nanoseconds from the execution's creation to its completion." })),
  load_duration: Type.Optional(Type.Integer({ description: "Nanoseconds it waited for a provider." })),
  prompt_eval_count: Type.Optional(Type.Integer({ description: "Input tokens." })),
  prompt_eval_duration: Type.Optional(Type.Integer({ description: "Nanoseconds until the first content, when streamed." })),
  eval_count: Type.Optional(Type.Integer({ description: "Output tokens." })),
  eval_duration: Type.Optional(Type.Integer({ description: "Nanoseconds of generation." })),
};
const toolCall = Type.Object(
  { id: Type.Optional(Type.String()), function: Type.Object({ index: Type.Optional(Type.Integer()), name: Type.String(), arguments: Type.Object({}, open) }) },
  { description: "A tool call; arguments are an object." },
);
const message = Type.Object(
  {
    role: Type.Union([Type.Literal("system"), Type.Literal("user"), Type.Literal("assistant"), Type.Literal("tool")]),
    content: Type.String(),
    thinking: Type.Optional(Type.String()),
    images: Type.Optional(Type.Array(Type.String(), { description: "Base64-encoded PNG, JPEG, GIF or WEBP (user messages)." })),
    tool_calls: Type.Optional(Type.Array(toolCall)),
    tool_name: Type.Optional(Type.String({ description: "On a tool message: the tool that answered." })),
  },
  open,
);
const modelEntry = Type.Object(
  { name: Type.String(), model: Type.String(), modified_at: Type.String(), size: Type.Integer(), digest: Type.String(), details: Type.Object({}, open) },
  open,
);

export namespace OllamaModel {
  export const chatRequest = Type.Object(
    {
      model: Type.String({ description: "A model name from GET /api/tags; name:latest is name." }),
      messages: Type.Optional(Type.Array(message, { description: "None or empty: nothing is generated (Ollama's way to load a model)." })),
      tools: Type.Optional(Type.Array(Type.Object({ type: Type.Literal("function"), function: Type.Object({ name: Type.String() }, open) }))),
      format: Type.Optional(format),
      options: Type.Optional(options),
      stream: Type.Optional(stream),
      keep_alive: Type.Optional(keepAlive),
      think: Type.Optional(think),
    },
    { description: "Ollama's chat request.", examples: [{ model: "mock-chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hello." }], stream: false, options: { num_predict: 64 } }] },
  );

  export const chatResponse = Type.Object(
    { model: Type.String(), created_at: Type.String(), message, ...figures },
    {
      description: "The answer (stream: false), or each NDJSON line of a stream; the last line has done: true and the figures.",
      examples: [{ model: "mock-chat", created_at: CREATED_AT, message: { role: "assistant", content: "hello gateway prepaid canonical routes balance" }, done: true, done_reason: "stop", ...FIGURES }],
    },
  );

  export const generateRequest = Type.Object(
    {
      model: Type.String({ description: "A chat or text-generation model from GET /api/tags." }),
      prompt: Type.Optional(Type.String({ description: "None or empty: nothing is generated (Ollama's way to load a model)." })),
      system: Type.Optional(Type.String({ description: "A system message (chat models)." })),
      images: Type.Optional(Type.Array(Type.String(), { description: "Base64-encoded images (chat models)." })),
      format: Type.Optional(format),
      options: Type.Optional(options),
      stream: Type.Optional(stream),
      keep_alive: Type.Optional(keepAlive),
      think: Type.Optional(think),
    },
    { ...open, description: "Ollama's generate request. suffix, template, raw, context and the image-generation fields are refused.", examples: [{ model: "mock-chat", prompt: "Why is the sky blue?", stream: false }] },
  );

  export const generateResponse = Type.Object(
    { model: Type.String(), created_at: Type.String(), response: Type.String(), thinking: Type.Optional(Type.String()), ...figures },
    {
      description: "The answer (stream: false), or each NDJSON line of a stream; the last line has done: true and the figures.",
      examples: [{ model: "mock-chat", created_at: CREATED_AT, response: "gateway prepaid canonical routes balance healthy", done: true, done_reason: "stop", ...FIGURES }],
    },
  );

  export const embedRequest = Type.Object(
    {
      model: Type.String({ description: "An embedding model from GET /api/tags." }),
      input: Type.Union([Type.String(), Type.Array(Type.String())]),
      dimensions: Type.Optional(Type.Integer()),
      truncate: Type.Optional(Type.Boolean({ description: "Accepted and ignored: an input too long for the model fails instead of being cut." })),
      keep_alive: Type.Optional(keepAlive),
    },
    { ...open, description: "Ollama's embed request.", examples: [{ model: "mock-embed", input: ["a red fox", "a blue whale"], dimensions: 4 }] },
  );

  export const embedResponse = Type.Object(
    { model: Type.String(), embeddings: Type.Array(Type.Array(Type.Number())), total_duration: Type.Integer(), load_duration: Type.Integer(), prompt_eval_count: Type.Integer() },
    { description: "The vectors, in input order.", examples: [{ model: "mock-embed", embeddings: [[0.51, -0.22, 0.73, 0.4], [-0.12, 0.88, 0.31, -0.34]], total_duration: 2000000, load_duration: 1000000, prompt_eval_count: 6 }] },
  );

  export const embeddingsRequest = Type.Object(
    { model: Type.String(), prompt: Type.String(), keep_alive: Type.Optional(keepAlive) },
    { ...open, description: "Ollama's older embeddings request: one prompt.", examples: [{ model: "mock-embed", prompt: "a red fox" }] },
  );

  export const embeddingsResponse = Type.Object({ embedding: Type.Array(Type.Number()) }, { description: "The vector.", examples: [{ embedding: [0.51, -0.22, 0.73, 0.4] }] });

  export const tags = Type.Object(
    { models: Type.Array(modelEntry) },
    {
      description: "The catalog's chat, text-generation and embedding models.",
      examples: [{ models: [{ name: "mock-chat:latest", model: "mock-chat:latest", modified_at: CREATED_AT, size: 0, digest: "9f2c4e8b1d07a1b2c3d4e5f60718293a4b5c6d7e8f9012345678901234567890", details: DETAILS }] }],
    },
  );

  export const showRequest = Type.Object(
    { model: Type.String({ description: "A model name (Ollama's older clients send it as name)." }), verbose: Type.Optional(Type.Boolean()) },
    { ...open, description: "Ollama's show request.", examples: [{ model: "mock-chat" }] },
  );

  export const show = Type.Object(
    { details: Type.Object({}, open), model_info: Type.Object({}, open), capabilities: Type.Array(Type.String()), modified_at: Type.String() },
    {
      ...open,
      description: "The model's details.",
      examples: [
        {
          license: "",
          modelfile: "",
          parameters: "",
          template: "",
          system: "",
          details: DETAILS,
          model_info: { "general.architecture": "modelroute", "general.basename": "mock-chat", "modelroute.task": "chat", "modelroute.max_output_tokens": 1024 },
          capabilities: ["completion", "tools", "thinking", "vision"],
          modified_at: CREATED_AT,
        },
      ],
    },
  );

  export const pullRequest = Type.Object(
    { model: Type.String({ description: "A model name (the ollama client sends it as name)." }), stream: Type.Optional(stream), insecure: Type.Optional(Type.Boolean()) },
    { ...open, description: "Ollama's pull request.", examples: [{ model: "mock-chat", stream: false }] },
  );

  export const status = Type.Object({ status: Type.String() }, { description: "The pull's outcome.", examples: [{ status: "success" }] });

  export const ps = Type.Object(
    { models: Type.Array(modelEntry) },
    { description: "The models with executions of the organization waiting or running.", examples: [{ models: [] }] },
  );

  export const version = Type.Object({ version: Type.String() }, { description: "The Ollama API version this surface follows.", examples: [{ version: "0.12.0" }] });
}
