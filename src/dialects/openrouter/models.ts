/**
 * OpenRouter's per-caller model views: `/models/user` (the models this key may run) and
 * `/models/{author}/{slug}/endpoints` (a model's routes as OpenRouter's endpoints). The gateway is
 * provider-opaque: an endpoint names its catalog provider (the id `provider.order` and `only`
 * take) and shows the model's prices and limits, its breaker as `status` and its uptime over
 * this process's calls. Upstream URLs, upstream model names, keys, adapter kinds and other
 * callers' load (calls in flight, queues, counts) are for the operator's `/admin/v1/routes`.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import { allowsModel } from "../../modules/guardrails/service";
import type { Caller } from "../../modules/keys/service";
import type { RouteStatus } from "../../providers/router";
import { modelsFor, openrouterModel } from "./account";

/** The models the calling key can run: its guardrail allows them and they have a route. 404 when none, as OpenRouter answers. */
export function userModels(ctx: AppContext, caller: Caller, outputModalities: string | undefined) {
  const data = modelsFor(ctx, outputModalities, (m) => allowsModel(ctx, caller, m.slug) && Catalog.routesOf(ctx.db, m).length > 0);
  if (data.length === 0) throw new AppError("NOT_FOUND", "No model is available to this key: its guardrail allows none, or no allowed model has a route.");
  return { data };
}

/** `author/slug` names the model whose slug it is, or else a model `slug` owned by `author`. */
function modelNamed(ctx: AppContext, author: string, slug: string): Catalog.Model {
  const model = Catalog.findModel(ctx.db, `${author}/${slug}`) ?? Catalog.listModels(ctx.db).find((m) => m.slug === slug && m.ownedBy === author);
  if (!model) throw new AppError("NOT_FOUND", `The model ${author}/${slug} does not exist; GET /api/v1/models lists them.`);
  return model;
}

/** OpenRouter's endpoint status: 0 when the route is taking calls, negative while its breaker is half-open or open. */
const statusOf = (h: RouteStatus | undefined) => (!h || h.state === "closed" ? (h?.cooldown_until ? -1 : 0) : h.state === "half_open" ? -1 : -2);
/** Percent of this process's calls on the route that did not fail by the provider's fault; null before the first. */
const uptimeOf = (h: RouteStatus | undefined) => (h && h.calls > 0 ? Math.round(((h.calls - h.failures) / h.calls) * 10_000) / 100 : null);

export function modelEndpoints(ctx: AppContext, author: string, slug: string) {
  const model = modelNamed(ctx, author, slug);
  const shown = openrouterModel(model);
  const health = new Map(ctx.router.status().map((h) => [h.route_id, h]));
  const endpoints = Catalog.routesOf(ctx.db, model).map((route) => {
    const h = health.get(route.id);
    return {
      name: `${route.provider.id} | ${model.slug}`,
      model_name: model.slug,
      context_length: model.contextWindow,
      pricing: shown.pricing,
      provider_name: route.provider.id,
      tag: route.provider.id,
      quantization: null,
      max_completion_tokens: model.maxOutputTokens,
      max_prompt_tokens: null,
      supported_parameters: shown.supported_parameters,
      status: statusOf(h),
      uptime_last_30m: uptimeOf(h),
      supports_implicit_caching: false,
    };
  });
  return { data: { id: shown.id, name: shown.name, created: shown.created, description: shown.description, architecture: shown.architecture, endpoints } };
}
