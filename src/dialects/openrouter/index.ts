/**
 * The OpenRouter-compatible surface under `/api/v1`, for code written against OpenRouter: the
 * account endpoints (`key`, `credits`, `generation`), key management (`keys`), the model list in
 * OpenRouter's shape and the providers. Errors come in OpenRouter's shape (dialects/openrouter/errors.ts).
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { activity, credits, generation, keyInfo, modelsFor, providers } from "./account";
import { createKey, deleteKey, getKey, listKeys, updateKey } from "./keys";
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
    .get("/activity", ({ caller, query }) => activity(ctx, caller, query.date), {
      auth: "inference",
      query: t.Object({ date: t.Optional(t.String({ description: "One UTC day of the last 30 (YYYY-MM-DD); default all 30." })) }),
      detail: doc("Activity", "Spend, requests and tokens per UTC day and model, newest day first. Management keys only.", OpenRouterModel.activity),
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
    })
    .get("/keys", ({ caller, query }) => listKeys(ctx, caller, query), {
      auth: "inference",
      query: t.Object({ include_disabled: t.Optional(t.String({ description: '"true" to list disabled, expired and revoked keys too.' })), offset: t.Optional(t.String({ description: "Keys to skip." })) }),
      detail: doc("List keys", "The organization's API keys in OpenRouter's key shape, with their spend. Management keys only.", OpenRouterModel.keys),
    })
    .post("/keys", ({ caller, body, set }) => {
      set.status = 201;
      return createKey(ctx, caller, body);
    }, {
      auth: "inference",
      detail: {
        ...doc("Create a key", "A new inference key with an optional spend limit (`limit` in USD, `limit_reset` daily, weekly or monthly at midnight UTC) and expiry; the secret is shown once, in `key`. Management keys only.", OpenRouterModel.createdKey),
        responses: { 201: { description: "The key and its secret.", content: { "application/json": { schema: OpenRouterModel.createdKey as never } } } },
        requestBody: { required: true, content: { "application/json": { schema: OpenRouterModel.createKeyRequest as never } } },
      },
    })
    .get("/keys/:hash", ({ caller, params }) => getKey(ctx, caller, params.hash), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: doc("Get a key", "One key in OpenRouter's key shape. Management keys only.", OpenRouterModel.oneKey),
    })
    .patch("/keys/:hash", ({ caller, params, body }) => updateKey(ctx, caller, params.hash, body), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: {
        ...doc("Update a key", "Rename, disable, or change the spend limit. Management keys only.", OpenRouterModel.oneKey),
        requestBody: { required: true, content: { "application/json": { schema: OpenRouterModel.updateKeyRequest as never } } },
      },
    })
    .delete("/keys/:hash", ({ caller, params }) => deleteKey(ctx, caller, params.hash), {
      auth: "inference",
      params: t.Object({ hash: t.String({ description: "The key's hash: its id (key_…)." }) }),
      detail: doc("Delete a key", "Revokes the key at once. Management keys only.", OpenRouterModel.deleted),
    });
