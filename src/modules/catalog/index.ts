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
      const data = Catalog.listModels(ctx.db).map(Catalog.modelView);
      return { object: "list" as const, data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    }, {
      auth: "inference",
      detail: { summary: "List models", description: "Every model slug with its task, input JSON Schema and pricing.", security: [{ apiKey: [] }] },
      response: { 200: CatalogModel.list, ...errorResponses(401, 429) },
    })
    .get("/:slug", ({ params }) => Catalog.modelView(Catalog.getModel(ctx.db, params.slug)), {
      auth: "inference",
      params: t.Object({ slug: t.String({ description: "A model slug, as GET /v1/models lists them.", examples: ["mock-chat"] }) }),
      detail: { summary: "Get a model", description: "One model by slug: task, input JSON Schema, pricing.", security: [{ apiKey: [] }] },
      response: { 200: CatalogModel.model, ...errorResponses(401, 404, 429) },
    });
