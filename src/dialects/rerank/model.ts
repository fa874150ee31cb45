/** The rerank bodies as the API docs show them; the route checks requests itself. Examples are what mock-rerank answers. */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;

export namespace RerankModel {
  export const request = Type.Object(
    {
      model: Type.String({ description: "A rerank model's slug (GET /v1/models)." }),
      query: Type.String(),
      documents: Type.Array(Type.Union([Type.String(), Type.Object({ text: Type.String() }, open)]), { description: "Strings, or objects with a text field; up to 1000." }),
      top_n: Type.Optional(Type.Integer({ description: "How many results, the most relevant first (Voyage's top_k is read too)." })),
      return_documents: Type.Optional(Type.Boolean({ description: "true: each result carries its document as {text}." })),
    },
    { ...open, description: "A rerank request, as Cohere, Jina and Voyage take it.", examples: [{ model: "mock-rerank", query: "red fox", documents: ["a red fox in the snow", "a blue whale", "the fox den"], top_n: 2, return_documents: true }] },
  );

  export const response = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      object: Type.Literal("list"),
      model: Type.String(),
      results: Type.Array(Type.Object({ index: Type.Integer(), relevance_score: Type.Number(), document: Type.Optional(Type.Object({ text: Type.String() })) })),
      meta: Type.Object({ billed_units: Type.Object({ search_units: Type.Integer() }) }, { description: "Cohere's: one search per call." }),
      usage: Type.Object({ total_tokens: Type.Integer() }, { description: "Jina's and Voyage's: the tokens the model read." }),
    },
    {
      description: "The documents' indexes, most relevant first.",
      examples: [
        {
          id: "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07",
          object: "list",
          model: "mock-rerank",
          results: [
            { index: 0, relevance_score: 1, document: { text: "a red fox in the snow" } },
            { index: 2, relevance_score: 0.5, document: { text: "the fox den" } },
          ],
          meta: { billed_units: { search_units: 1 } },
          usage: { total_tokens: 13 },
        },
      ],
    },
  );
}
