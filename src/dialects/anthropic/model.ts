/**
 * The Anthropic-compatible bodies as the API docs show them. They document, they do not validate:
 * the routes check requests themselves so that errors come in Anthropic's shape.
 */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;

export namespace AnthropicModel {
  export const messagesRequest = Type.Object(
    {
      model: Type.String({ description: "A chat model's slug (GET /v1/models)." }),
      max_tokens: Type.Integer(),
      messages: Type.Array(Type.Object({ role: Type.String(), content: Type.Union([Type.String(), Type.Array(Type.Object({}, open))]) }, open)),
      system: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Object({}, open))])),
      stream: Type.Optional(Type.Boolean()),
    },
    { ...open, description: "Anthropic's Messages request.", examples: [{ model: "mock-chat", max_tokens: 256, system: "Be brief.", messages: [{ role: "user", content: "Say hello." }] }] },
  );

  export const message = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      type: Type.Literal("message"),
      role: Type.Literal("assistant"),
      model: Type.String(),
      content: Type.Array(Type.Object({ type: Type.String() }, open)),
      stop_reason: Type.String(),
      usage: Type.Object({ input_tokens: Type.Integer(), output_tokens: Type.Integer() }, open),
    },
    {
      ...open,
      description: "A message.",
      examples: [
        {
          id: "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07",
          type: "message",
          role: "assistant",
          model: "mock-chat",
          content: [{ type: "text", text: "Hello!" }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 5, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        },
      ],
    },
  );

  export const tokenCount = Type.Object({ input_tokens: Type.Integer() }, { description: "The estimated input tokens.", examples: [{ input_tokens: 12 }] });
}
