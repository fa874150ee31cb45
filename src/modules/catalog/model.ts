import { t } from "elysia";
import { listOf, strictInteger } from "../../http/schemas";

export namespace CatalogModel {
  export const pricing = t.Object(
    {
      currency: t.Literal("USD"),
      per_image: t.Optional(t.String({ examples: ["0.040"] })),
      input_per_1m_tokens: t.Optional(t.String({ examples: ["0.500"] })),
      output_per_1m_tokens: t.Optional(t.String({ examples: ["1.500"] })),
      per_second: t.Optional(t.String()),
    },
    { description: "Prices as decimal USD strings; only the dimensions the model is priced by are present." },
  );

  export const model = t.Object(
    {
      id: t.String({ description: "The model slug used in executions.", examples: ["mock-image"] }),
      object: t.Literal("model"),
      created: strictInteger({ description: "Unix seconds when the model entered the catalog." }),
      owned_by: t.String(),
      task: t.String({ examples: ["text-to-image", "chat", "embedding", "text-generation"] }),
      description: t.String(),
      input_schema: t.Record(t.String(), t.Unknown(), { description: "JSON Schema of `input` for this model." }),
      pricing,
    },
    { description: "A model of the catalog, in OpenAI's list shape plus task, description, input schema and pricing." },
  );

  export const list = listOf(model, "Every model this gateway serves.");
}
