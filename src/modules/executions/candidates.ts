/**
 * The models an execution may be answered by, in the order they are tried: one model, an
 * alias's models, or a model with OpenRouter's `models` fallbacks (docs/routing.md "Aliases and
 * fallback models"). The router walks each model's routes; when a model fails in a way the next
 * may not share (a retryable failure, every route open-circuited, cooling down or full), the
 * next model takes over, inside the same execution.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import { preferredRoutes, type RoutePreferences } from "../../providers/preferences";
import type { RouteInfo } from "../../providers/types";
import * as Catalog from "../catalog/service";
import * as Guardrails from "../guardrails/service";
import type { Caller } from "../keys/service";
import type { ExecutionRow } from "./store";

export type Candidate = { model: Catalog.Model; routes: RouteInfo[] };

/** Failures another model may not share: the next candidate is tried. */
const FALL_THROUGH = new Set(["MODEL_OVERLOADED", "MODEL_UNAVAILABLE", "SERVICE_UNAVAILABLE", "GENERATION_FAILED", "GENERATION_TIMEOUT"]);

export const fallsThrough = (error: unknown) => error instanceof AppError && FALL_THROUGH.has(error.code);

/** Each model with the routes the caller's preferences leave it; a model left none is not a candidate. */
const withRoutes = (ctx: Pick<AppContext, "db">, models: Catalog.Model[], routing: RoutePreferences | null | undefined): Candidate[] =>
  models.flatMap((model) => {
    const routes = preferredRoutes(Catalog.routesOf(ctx.db, model), routing);
    return routes.length ? [{ model, routes }] : [];
  });

/**
 * The candidates of a new execution. An alias's models that the key's guardrail does not allow
 * are left out (403 when that leaves none); 503 when no model has a route the preferences allow.
 */
export function candidatesFor(ctx: Pick<AppContext, "db" | "clock">, caller: Caller, target: Catalog.Target, routing: RoutePreferences | undefined): Candidate[] {
  const allowed = target.alias ? target.models.filter((m) => Guardrails.allowsModel(ctx, caller, m.slug)) : target.models;
  if (allowed.length === 0) {
    const message = `This API key's guardrail allows none of the models of "${target.name}".`;
    throw new AppError("FORBIDDEN", message, [{ field: "model", code: "unsupported", message }]);
  }
  const candidates = withRoutes(ctx, allowed, routing);
  if (candidates.length === 0)
    throw new AppError("MODEL_UNAVAILABLE", `No route of ${target.name} meets the provider preferences of the request.`, [], { "x-should-retry": "false" });
  return candidates;
}

/** What the execution row keeps: null when its `model` is the one model it runs. */
export const candidatesColumn = (name: string, candidates: Candidate[]): string[] | null =>
  candidates.length === 1 && candidates[0]!.model.slug === name ? null : candidates.map((c) => c.model.slug);

/** The candidates of a stored execution, as the catalog has them now (a model removed since is left out). */
export function candidatesOfRow(ctx: Pick<AppContext, "db">, row: ExecutionRow): Candidate[] {
  const models = (row.candidates ?? [row.model]).flatMap((slug) => Catalog.findModel(ctx.db, slug) ?? []);
  return withRoutes(ctx, models, row.routing);
}
