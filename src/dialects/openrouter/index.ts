/**
 * The OpenRouter-compatible surface under `/api/v1`, for code written against OpenRouter: the
 * account endpoints (`key`, `credits`, `generation`), the model list in OpenRouter's shape and
 * the providers. Errors come in OpenRouter's shape (dialects/openrouter/errors.ts).
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { credits, generation, keyInfo, modelsFor, providers } from "./account";
import { OpenRouterModel } from "./model";

const security = [{ apiKey: [] }];
const doc = (summary: string, description: string, schema: unknown) => ({
  summary,
  description,
  security,
  responses: { 200: { description: summary, content: { "application/json": { schema: schema as never } } } },
});

export const openrouterRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/openrouter", seed: ctx.instanceId, prefix: "/api/v1", tags: ["OpenRouter compatible"] })
    .use(auth(ctx))
    .get("/key", ({ caller }) => keyInfo(ctx, caller), {
      auth: "inference",
      detail: doc("The calling key", "The key's label, spend (all time, today, this week, this month, in USD), spend limit and what is left of it, reset, expiry and rate limit.", OpenRouterModel.key),
    })
    .get("/credits", ({ caller }) => credits(ctx, caller), {
      auth: "inference",
      detail: doc("Credits", "Everything credited to the organization and everything charged, in USD. Management (full-permission) keys only.", OpenRouterModel.credits),
    })
    .get("/generation", ({ caller, query }) => generation(ctx, caller, query.id), {
      auth: "inference",
      query: t.Object({ id: t.Optional(t.String({ description: "The generation's id: the `id` of a completion (an execution id)." })) }),
      detail: doc("A generation's record", "Cost, tokens, latency, provider, whether it was streamed or cancelled. 404 until the generation has ended.", OpenRouterModel.generation),
    })
    .get("/models", ({ query }) => ({ data: modelsFor(ctx, query.output_modalities) }), {
      auth: "inference",
      query: t.Object({ output_modalities: t.Optional(t.String({ description: 'A comma-separated list (text, image, embeddings) or "all"; default text.' })) }),
      detail: doc("List models", "The catalog in OpenRouter's model shape: per-token prices as decimal strings, context length, modalities, supported parameters.", OpenRouterModel.models),
    })
    .get("/models/count", ({ query }) => ({ data: { count: modelsFor(ctx, query.output_modalities).length } }), {
      auth: "inference",
      query: t.Object({ output_modalities: t.Optional(t.String({ description: 'A comma-separated list (text, image, embeddings) or "all"; default text.' })) }),
      detail: doc("Count models", "How many models the list would show.", OpenRouterModel.count),
    })
    .get("/providers", () => providers(ctx), {
      auth: "inference",
      detail: doc("List providers", "The catalog's providers.", OpenRouterModel.providers),
    });
