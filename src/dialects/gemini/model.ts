/**
 * The Gemini-compatible bodies as the API docs show them. They document, they do not validate:
 * the routes check requests themselves so that errors come in Google's shape.
 */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;
const EXAMPLE_ID = "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";
const part = Type.Object({}, { ...open, description: "`text`, `inlineData` {mimeType, data}, `fileData` {mimeType, fileUri}, `functionCall` {id, name, args}, `functionResponse` {id, name, response}, `thought`, `thoughtSignature`." });
const content = Type.Object({ role: Type.Optional(Type.String({ description: "`user` or `model`." })), parts: Type.Array(part) }, open);

export namespace GeminiModel {
  export const generateRequest = Type.Object(
    {
      contents: Type.Array(content),
      systemInstruction: Type.Optional(content),
      tools: Type.Optional(Type.Array(Type.Object({ functionDeclarations: Type.Optional(Type.Array(Type.Object({}, open))) }, open))),
      toolConfig: Type.Optional(Type.Object({ functionCallingConfig: Type.Optional(Type.Object({ mode: Type.Optional(Type.String()), allowedFunctionNames: Type.Optional(Type.Array(Type.String())) })) }, open)),
      generationConfig: Type.Optional(Type.Object({}, { ...open, description: "temperature, topP, topK, maxOutputTokens, stopSequences, candidateCount, seed, presencePenalty, frequencyPenalty, responseLogprobs, logprobs, responseMimeType, responseSchema, responseJsonSchema, thinkingConfig." })),
    },
    {
      ...open,
      description: "A generateContent request (the body of `:generateContent` and `:streamGenerateContent`). `:countTokens` takes `{contents}` or `{generateContentRequest}`; `:embedContent` `{content, outputDimensionality}`; `:batchEmbedContents` `{requests: [...]}`. Fields may be camelCase or snake_case.",
      examples: [{ systemInstruction: { parts: [{ text: "Be brief." }] }, contents: [{ role: "user", parts: [{ text: "Say hello." }] }], generationConfig: { maxOutputTokens: 64, temperature: 0.2 } }],
    },
  );

  export const generateResponse = Type.Object(
    {
      candidates: Type.Array(Type.Object({ content: Type.Optional(content), finishReason: Type.Optional(Type.String()), index: Type.Integer() }, open)),
      usageMetadata: Type.Object({ promptTokenCount: Type.Integer(), candidatesTokenCount: Type.Integer(), totalTokenCount: Type.Integer() }, open),
      modelVersion: Type.String({ description: "The model's slug." }),
      responseId: Type.String({ description: "The execution's id." }),
    },
    {
      ...open,
      description: "A GenerateContentResponse.",
      examples: [
        {
          candidates: [{ content: { role: "model", parts: [{ text: "Hello!" }] }, finishReason: "STOP", index: 0 }],
          usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 1, totalTokenCount: 6 },
          modelVersion: "mock-chat",
          responseId: EXAMPLE_ID,
        },
      ],
    },
  );

  export const model = Type.Object(
    {
      name: Type.String({ description: "`models/{slug}`." }),
      baseModelId: Type.String(),
      displayName: Type.String(),
      description: Type.String(),
      inputTokenLimit: Type.Optional(Type.Integer()),
      outputTokenLimit: Type.Optional(Type.Integer()),
      supportedGenerationMethods: Type.Array(Type.String()),
    },
    {
      description: "A model.",
      examples: [{ name: "models/mock-chat", baseModelId: "mock-chat", displayName: "mock-chat", description: "Demo chat model (built-in mock provider).", outputTokenLimit: 4096, supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"] }],
    },
  );

  export const modelList = Type.Object(
    { models: Type.Array(model), nextPageToken: Type.Optional(Type.String({ description: "Pass as `pageToken` for the next page; absent on the last." })) },
    { description: "A page of models.", examples: [{ models: [{ name: "models/mock-embed", baseModelId: "mock-embed", displayName: "mock-embed", description: "Demo embedding model.", supportedGenerationMethods: ["embedContent", "batchEmbedContents"] }] }] },
  );
}
