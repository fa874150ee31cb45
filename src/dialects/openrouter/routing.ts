/**
 * OpenRouter's request routing fields, shared by chat completions, legacy completions and
 * messages: `models` (a fallback list tried in order when a model fails before answering) and
 * `provider` (`order`, `only`, `ignore`, `allow_fallbacks` choose among a model's routes;
 * `max_price` leaves out a model priced above it). A request nothing qualifies for is a 503
 * before anything is held or called. The models tried are one execution, as an alias's are.
 */
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import type { Caller } from "../../modules/keys/service";
import { preferredRoutes, type RoutePreferences } from "../../providers/preferences";
import { modelFor, runStreaming, type DialectRequest, type DialectStream, type StreamItem } from "../run";

const PROVIDER_FIELDS = new Set(["order", "only", "ignore", "allow_fallbacks", "sort", "max_price", "require_parameters", "data_collection", "zdr", "enforce_distillable_text", "quantizations", "preferred_min_throughput", "preferred_max_latency"]);
const PROCESSING_EVERY_MS = 2000;

export type MaxPrice = { prompt?: number; completion?: number; image?: number };
/** What a request asks of routing: its model, the fallbacks, and the provider preferences. */
export type Routing = { model: string; models: string[]; routing?: RoutePreferences; maxPrice?: MaxPrice };

export const strings = (value: unknown, param: string): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw invalidField(param, "invalid_type", `${param} must be a list of strings.`);
  return value;
};

function providerPreferences(p: unknown): { routing?: RoutePreferences; maxPrice?: MaxPrice } {
  if (p === undefined || p === null) return {};
  if (typeof p !== "object" || Array.isArray(p)) throw invalidField("provider", "invalid_type", "provider must be an object.");
  const o = p as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!PROVIDER_FIELDS.has(key)) throw invalidField(`provider.${key}`, "unknown_field", `Unknown provider preference: ${key}`);
  const routing: RoutePreferences = {};
  if (o.order !== undefined) routing.order = strings(o.order, "provider.order");
  if (o.only !== undefined) routing.only = strings(o.only, "provider.only");
  if (o.ignore !== undefined) routing.ignore = strings(o.ignore, "provider.ignore");
  if (o.allow_fallbacks !== undefined) routing.allowFallbacks = o.allow_fallbacks !== false;
  const maxPrice = o.max_price && typeof o.max_price === "object" ? (o.max_price as MaxPrice) : undefined;
  return { routing: Object.keys(routing).length ? routing : undefined, maxPrice };
}

/**
 * Splits a body into OpenRouter's own fields (`dropped`: read here or ignored) and the rest, for
 * the dialect's own parser. The rest's `model` defaults to the first of `models`.
 */
export function splitRouting(body: unknown, dropped: readonly string[]): { rest: Record<string, unknown>; models: string[]; routing?: RoutePreferences; maxPrice?: MaxPrice } {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidField("body", "invalid_format", "The body must be a JSON object.");
  const all = body as Record<string, unknown>;
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) if (!dropped.includes(key)) rest[key] = value;
  if (Array.isArray(all.plugins) && all.plugins.length) throw invalidField("plugins", "unsupported", "Plugins are not supported.");
  const models = all.models === undefined ? [] : strings(all.models, "models");
  if (rest.model === undefined && models.length) rest.model = models[0];
  return { rest, models, ...providerPreferences(all.provider) };
}

/** Within `max_price` (USD per million tokens; per image)? */
function withinPrice(model: Catalog.Model, max: MaxPrice | undefined): boolean {
  if (!max) return true;
  const perMillion = (micros: number | undefined) => (micros ?? 0) / 1_000_000;
  if (max.prompt !== undefined && perMillion(model.pricing.inputPer1mTokensMicros) > max.prompt) return false;
  if (max.completion !== undefined && perMillion(model.pricing.outputPer1mTokensMicros) > max.completion) return false;
  if (max.image !== undefined && (model.pricing.perImageMicros ?? 0) / 1_000_000 > max.image) return false;
  return true;
}

/**
 * The models to try, in order: every one named must exist and serve the endpoint; those that do
 * not qualify are left out, and so are those of another task than the first (they would need
 * another input).
 */
export function candidates(ctx: AppContext, req: Routing, tasks: readonly string[], endpoint: string): Catalog.Model[] {
  const slugs = [...new Set([req.model, ...req.models])];
  const models = slugs.map((slug) => modelFor(ctx, slug, tasks, endpoint));
  const qualifying = models.filter((m) => withinPrice(m, req.maxPrice) && preferredRoutes(Catalog.routesOf(ctx.db, m), req.routing).length > 0);
  if (qualifying.length === 0) throw new AppError("MODEL_UNAVAILABLE", "No model and provider meet the request's provider preferences and max_price.", [], { "x-should-retry": "false" });
  return qualifying.filter((m) => m.task === qualifying[0]!.task);
}

/**
 * The request's one execution: the first model, the others as its fallbacks, tried in order by
 * the same run as an alias's models (docs/decisions.md "OpenRouter's `models` fallback").
 */
export function runOf(
  request: Request,
  headers: Record<string, string | undefined>,
  path: string,
  routing: RoutePreferences | undefined,
  models: Catalog.Model[],
  input: (model: Catalog.Model) => Record<string, unknown>,
): DialectRequest {
  const [first, ...rest] = models;
  return { model: first!.slug, fallbacks: rest.map((m) => m.slug), input: input(first!), request, path, idempotencyKey: headers["idempotency-key"], dialect: "openrouter", routing };
}

export const usd = (micros: number | null) => (micros ?? 0) / 1_000_000;

/** How a surface writes its stream: frames for the model that answers, and for a failure before any. */
export type StreamRenderer = {
  open(model: string, executionId: string): { first: string[]; item: (item: StreamItem) => string[] };
  failed(error: AppError): string;
};

/** A stream that opens at once and keeps the client company (`: OPENROUTER PROCESSING`) until a model starts answering. */
export function streamWithFallback(ctx: AppContext, caller: Caller, run: DialectRequest, renderer: StreamRenderer, headers: Record<string, string>): Response {
  const encoder = new TextEncoder();
  let current: DialectStream | null = null;
  let gone = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (text: string) => {
        if (!gone && text) controller.enqueue(encoder.encode(text));
      };
      write(": OPENROUTER PROCESSING\n\n");
      const processing = setInterval(() => write(": OPENROUTER PROCESSING\n\n"), PROCESSING_EVERY_MS);
      try {
        try {
          current = await runStreaming(ctx, caller, run);
        } catch (error) {
          if (!(error instanceof AppError)) throw error;
          write(renderer.failed(error));
          return;
        }
        clearInterval(processing);
        if (gone) current.abandon();
        const frames = renderer.open(current.servedModel, current.executionId);
        write(frames.first.join(""));
        for await (const item of current.items) write(frames.item(item).join(""));
      } finally {
        clearInterval(processing);
        if (!gone) controller.close();
      }
    },
    cancel() {
      gone = true;
      current?.abandon(); // the client went away: stop and charge what was produced
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no", ...headers } });
}
