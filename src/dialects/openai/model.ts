/**
 * The OpenAI-compatible bodies as the API docs show them. They document, they do not validate:
 * the routes check requests themselves so that errors come in OpenAI's shape with its `param`.
 */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;
const EXAMPLE_ID = "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";
const RESPONSE_EXAMPLE = {
  id: EXAMPLE_ID,
  object: "response",
  created_at: 1764662400,
  status: "completed",
  background: false,
  error: null,
  incomplete_details: null,
  instructions: "Be brief.",
  max_output_tokens: 64,
  max_tool_calls: null,
  model: "mock-chat",
  output: [
    {
      id: "msg_01938a4e7c1a7d2e9f3b2a6c4e8b1d070000",
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "so canonical the healthy a input with request every clients output gateway provider prepaid and signed to call send quickly routes and balance receive webhooks a against canonical", annotations: [], logprobs: [] }],
    },
  ],
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: { effort: null, summary: null },
  service_tier: "default",
  store: true,
  temperature: 1,
  text: { format: { type: "text" } },
  tool_choice: "auto",
  tools: [],
  top_logprobs: 0,
  top_p: 1,
  truncation: "disabled",
  usage: { input_tokens: 4, input_tokens_details: { cached_tokens: 0 }, output_tokens: 28, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 32 },
  user: null,
  metadata: {},
  completed_at: 1764662400,
};

export namespace OpenAIModel {
  export const chatRequest = Type.Object(
    {
      model: Type.String({ description: "A chat model's slug (GET /v1/models)." }),
      messages: Type.Array(Type.Object({ role: Type.String(), content: Type.Union([Type.String(), Type.Array(Type.Object({}, open)), Type.Null()]) }, open)),
      stream: Type.Optional(Type.Boolean()),
      tools: Type.Optional(Type.Array(Type.Object({}, open))),
    },
    {
      ...open,
      description: "OpenAI's chat completions request. Unknown parameters are refused as OpenAI refuses them.",
      examples: [{ model: "mock-chat", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Say hello." }], max_tokens: 64, stream: false }],
    },
  );

  export const chatCompletion = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      object: Type.Literal("chat.completion"),
      created: Type.Integer(),
      model: Type.String(),
      choices: Type.Array(Type.Object({ index: Type.Integer(), message: Type.Object({}, open), finish_reason: Type.String() }, open)),
      usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }, open),
    },
    {
      ...open,
      description: "A chat.completion.",
      examples: [
        {
          id: EXAMPLE_ID,
          object: "chat.completion",
          created: 1764662400,
          model: "mock-chat",
          choices: [{ index: 0, message: { role: "assistant", content: "Hello!", refusal: null }, finish_reason: "stop", logprobs: null }],
          usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
          system_fingerprint: null,
        },
      ],
    },
  );

  export const embeddingsRequest = Type.Object(
    { model: Type.String(), input: Type.Union([Type.String(), Type.Array(Type.String())]), dimensions: Type.Optional(Type.Integer()), encoding_format: Type.Optional(Type.Union([Type.Literal("float"), Type.Literal("base64")])) },
    { ...open, description: "OpenAI's embeddings request.", examples: [{ model: "mock-embed", input: ["a red fox", "a blue whale"], dimensions: 4 }] },
  );

  export const embeddings = Type.Object(
    {
      object: Type.Literal("list"),
      data: Type.Array(Type.Object({ object: Type.Literal("embedding"), index: Type.Integer(), embedding: Type.Union([Type.Array(Type.Number()), Type.String()]) })),
      model: Type.String(),
      usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
    },
    {
      description: "The vectors, in input order.",
      examples: [
        {
          object: "list",
          data: [
            { object: "embedding", index: 0, embedding: [0.51, -0.22, 0.73, 0.4] },
            { object: "embedding", index: 1, embedding: [-0.12, 0.88, 0.31, -0.34] },
          ],
          model: "mock-embed",
          usage: { prompt_tokens: 6, total_tokens: 6 },
        },
      ],
    },
  );

  export const completionRequest = Type.Object(
    { model: Type.String(), prompt: Type.String(), max_tokens: Type.Optional(Type.Integer()), stream: Type.Optional(Type.Boolean()) },
    { ...open, description: "OpenAI's legacy completions request.", examples: [{ model: "demo-model", prompt: "Write a haiku about gateways", max_tokens: 32 }] },
  );

  export const completion = Type.Object(
    {
      id: Type.String(),
      object: Type.Literal("text_completion"),
      created: Type.Integer(),
      model: Type.String(),
      choices: Type.Array(Type.Object({ text: Type.String(), index: Type.Integer(), finish_reason: Type.String() }, open)),
      usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() }),
    },
    {
      description: "A text_completion.",
      examples: [
        {
          id: EXAMPLE_ID,
          object: "text_completion",
          created: 1764662400,
          model: "demo-model",
          choices: [{ text: "requests find their way", index: 0, logprobs: null, finish_reason: "stop" }],
          usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
        },
      ],
    },
  );

  export const imagesRequest = Type.Object(
    { model: Type.String(), prompt: Type.String(), n: Type.Optional(Type.Integer()), size: Type.Optional(Type.String()), response_format: Type.Optional(Type.Union([Type.Literal("b64_json"), Type.Literal("url")])) },
    { ...open, description: "OpenAI's image generation request.", examples: [{ model: "mock-image", prompt: "a red fox in the snow", n: 1, size: "512x512", response_format: "url" }] },
  );

  export const images = Type.Object(
    { created: Type.Integer(), data: Type.Array(Type.Object({ b64_json: Type.Optional(Type.String()), url: Type.Optional(Type.String()) })) },
    {
      description: "The images, as base64 or links.",
      examples: [{ created: 1764662400, data: [{ url: "http://127.0.0.1:8080/v1/files/file_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07/content?expires=1764666000&signature=9f2c…" }] }],
    },
  );

  export const responsesRequest = Type.Object(
    {
      model: Type.String({ description: "A chat model's slug (GET /v1/models)." }),
      input: Type.Union([Type.String(), Type.Array(Type.Object({}, open))], { description: "A string (one user message) or input items." }),
      instructions: Type.Optional(Type.String({ description: "A system message for this turn only (not carried by previous_response_id)." })),
      previous_response_id: Type.Optional(Type.String({ description: "A stored response to continue." })),
      store: Type.Optional(Type.Boolean({ description: "false: not retrievable nor continuable (default true)." })),
      stream: Type.Optional(Type.Boolean()),
      background: Type.Optional(Type.Boolean({ description: "Answer at once with a queued response; poll GET /v1/responses/{id}." })),
      tools: Type.Optional(Type.Array(Type.Object({}, open), { description: 'Function tools: {"type":"function","name","description","parameters"}.' })),
      max_output_tokens: Type.Optional(Type.Integer({ description: "The most tokens the answer may have; the hold covers them (default: the model's max_output_tokens)." })),
    },
    {
      ...open,
      description: "OpenAI's Responses request. Unknown parameters are refused as OpenAI refuses them; hosted tools are refused naming the tool.",
      examples: [{ model: "mock-chat", instructions: "Be brief.", input: "Say hello.", max_output_tokens: 64 }],
    },
  );

  export const response = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      object: Type.Literal("response"),
      created_at: Type.Integer(),
      status: Type.Union(["queued", "in_progress", "completed", "incomplete", "failed", "cancelled"].map((s) => Type.Literal(s))),
      model: Type.String(),
      output: Type.Array(Type.Object({ type: Type.String() }, open)),
      usage: Type.Union([Type.Object({ input_tokens: Type.Integer(), output_tokens: Type.Integer(), total_tokens: Type.Integer() }, open), Type.Null()]),
    },
    { ...open, description: "A response.", examples: [RESPONSE_EXAMPLE] },
  );

  export const responseDeleted = Type.Object(
    { id: Type.String(), object: Type.Literal("response"), deleted: Type.Literal(true) },
    { description: "The deleted response.", examples: [{ id: EXAMPLE_ID, object: "response", deleted: true }] },
  );

  export const inputItems = Type.Object(
    { object: Type.Literal("list"), data: Type.Array(Type.Object({ id: Type.String(), type: Type.String() }, open)), first_id: Type.Union([Type.String(), Type.Null()]), last_id: Type.Union([Type.String(), Type.Null()]), has_more: Type.Boolean() },
    {
      description: "A page of input items.",
      examples: [
        {
          object: "list",
          data: [{ id: "in_01938a4e7c1a7d2e9f3b2a6c4e8b1d0700001_0", type: "message", role: "user", status: "completed", content: [{ type: "input_text", text: "Say hello." }] }],
          first_id: "in_01938a4e7c1a7d2e9f3b2a6c4e8b1d0700001_0",
          last_id: "in_01938a4e7c1a7d2e9f3b2a6c4e8b1d0700001_0",
          has_more: false,
        },
      ],
    },
  );
}
