import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses } from "../../http/schemas";
import { CatalogModel } from "./model";
import * as Catalog from "./service";

export const catalogRoutes = (ctx: AppContext) =>
  new Elysia({ prefix: "/v1/models", tags: ["Models"] })
    .use(auth(ctx))
    .get("/", () => {
      const data = Catalog.listModelViews(ctx.db);
      return { object: "list" as const, data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    }, {
      auth: "inference",
      detail: {
        summary: "List models",
        description:
          "Every model slug with its task, input JSON Schema and pricing, then every alias (a name that tries its models in order, `alias_of`; " +
          "shown with its first model's task, schema and pricing; a call is charged at the price of the model that answers).",
        security: [{ apiKey: [] }],
      },
      response: { 200: CatalogModel.list, ...errorResponses(401, 429) },
    })
    .get("/:slug", ({ params }) => Catalog.getModelView(ctx.db, params.slug), {
      auth: "inference",
      params: t.Object({ slug: t.String({ description: "A model slug, as GET /v1/models lists them.", examples: ["mock-chat"] }) }),
      detail: { summary: "Get a model", description: "One model by slug, or an alias by name (with `alias_of`): task, input JSON Schema, pricing.", security: [{ apiKey: [] }] },
      response: { 200: CatalogModel.model, ...errorResponses(401, 404, 429) },
    });
