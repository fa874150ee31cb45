/**
 * OpenRouter's chat completions: OpenAI's, plus OpenRouter's routing fields. `models` is a
 * fallback list tried in order when a model fails before answering. `provider` (`order`,
 * `only`, `ignore`, `allow_fallbacks`, `max_price`) chooses among a model's routes, and a
 * request nothing qualifies for is a 503 before anything is held or called. `usage` carries the
 * `cost`. Streams start at once with `: OPENROUTER PROCESSING` comments while waiting. An error
 * after content is a chunk with a top-level `error` and a choice with `finish_reason: "error"`.
 */
import type { ChatOutput } from "../../canonical/chat";
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import type { ExecutionRow } from "../../modules/executions/store";
import type { Caller } from "../../modules/keys/service";
import { preferredRoutes, type RoutePreferences } from "../../providers/preferences";
import { ChunkWriter, completionOf, parseChatRequest, type ChatRequest } from "../openai/chat";
import { errorOf, modelFor, runStreaming, runToEnd, type DialectStream } from "../run";
import { dataFrame } from "../sse";

/** OpenRouter's own fields; the rest is OpenAI's chat completions. */
const OPENROUTER_FIELDS = ["models", "provider", "transforms", "usage", "route", "session_id", "trace", "plugins", "reasoning", "debug", "image_config", "cache_control"];
const PROVIDER_FIELDS = new Set(["order", "only", "ignore", "allow_fallbacks", "sort", "max_price", "require_parameters", "data_collection", "zdr", "enforce_distillable_text", "quantizations", "preferred_min_throughput", "preferred_max_latency"]);
/** Failures that another model may not share: the next one in `models` is tried. */
const FALL_THROUGH = new Set(["MODEL_OVERLOADED", "MODEL_UNAVAILABLE", "SERVICE_UNAVAILABLE", "GENERATION_FAILED", "GENERATION_TIMEOUT"]);
const PROCESSING_EVERY_MS = 2000;

type MaxPrice = { prompt?: number; completion?: number; image?: number };
export type OpenRouterChat = { chat: ChatRequest; models: string[]; routing?: RoutePreferences; maxPrice?: MaxPrice };

const strings = (value: unknown, param: string): string[] => {
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

export function parseOpenRouterChat(body: unknown): OpenRouterChat {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidField("body", "invalid_format", "The body must be a JSON object.");
  const all = body as Record<string, unknown>;
  const openai: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(all)) if (!OPENROUTER_FIELDS.includes(key)) openai[key] = value;
  if (Array.isArray(all.plugins) && all.plugins.length) throw invalidField("plugins", "unsupported", "Plugins are not supported.");
  const models = all.models === undefined ? [] : strings(all.models, "models");
  if (openai.model === undefined && models.length) openai.model = models[0];
  return { chat: parseChatRequest(openai), models, ...providerPreferences(all.provider) };
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

/** The models to try, in order: every one named must exist; those that do not qualify are left out. */
export function candidates(ctx: AppContext, req: OpenRouterChat): Catalog.Model[] {
  const slugs = [...new Set([req.chat.model, ...req.models])];
  const models = slugs.map((slug) => modelFor(ctx, slug, ["chat"], "chat completions"));
  const qualifying = models.filter((m) => withinPrice(m, req.maxPrice) && preferredRoutes(Catalog.routesOf(ctx.db, m), req.routing).length > 0);
  if (qualifying.length === 0) throw new AppError("MODEL_UNAVAILABLE", "No model and provider meet the request's provider preferences and max_price.", [], { "x-should-retry": "false" });
  return qualifying;
}

const usd = (micros: number | null) => (micros ?? 0) / 1_000_000;

/** OpenAI's chat.completion with OpenRouter's `usage.cost`. */
export function openrouterCompletion(row: ExecutionRow) {
  const completion = completionOf(row.id, row.model, row.createdAt, row.output as unknown as ChatOutput, row.usage);
  return { ...completion, provider: "modelroute", usage: { ...completion.usage, cost: usd(row.costMicros), is_byok: false } };
}

type Run = (model: Catalog.Model, first: boolean) => { model: string; input: Record<string, unknown>; request: Request; path: string; idempotencyKey?: string; dialect: string; routing?: RoutePreferences };

/** Tries each model until one completes; a failure the next model may not share moves on. */
export async function completeWithFallback(ctx: AppContext, caller: Caller, models: Catalog.Model[], run: Run): Promise<ExecutionRow> {
  let last: AppError | null = null;
  for (const [i, model] of models.entries()) {
    const row = await runToEnd(ctx, caller, run(model, i === 0));
    if (row.status === "COMPLETED") return row;
    last = errorOf(row);
    if (!FALL_THROUGH.has(last.code)) break;
  }
  throw last!;
}

/** A stream that opens at once and keeps the client company until a model starts answering. */
export function streamWithFallback(ctx: AppContext, caller: Caller, models: Catalog.Model[], run: Run, includeUsage: boolean, headers: Record<string, string>): Response {
  const encoder = new TextEncoder();
  let current: DialectStream | null = null;
  let gone = false;
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      const write = (text: string) => {
        if (!gone) controller.enqueue(encoder.encode(text));
      };
      write(": OPENROUTER PROCESSING\n\n");
      const processing = setInterval(() => write(": OPENROUTER PROCESSING\n\n"), PROCESSING_EVERY_MS);
      let failure: AppError | null = null;
      try {
        for (const [i, model] of models.entries()) {
          try {
            current = await runStreaming(ctx, caller, run(model, i === 0));
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            failure = error;
            if (FALL_THROUGH.has(error.code) && i < models.length - 1) continue;
            break;
          }
          clearInterval(processing);
          const writer = new ChunkWriter(current.executionId, model.slug, Math.floor(Date.now() / 1000), includeUsage);
          write(dataFrame(writer.first()));
          for await (const item of current.items) {
            if (item.kind === "event") {
              const chunk = writer.event(item.event);
              if (chunk) write(dataFrame(chunk));
            } else if (item.row.status === "COMPLETED") {
              const [finish, usage] = writer.end((item.row.output as unknown as ChatOutput).finish_reason, item.row.usage) as Record<string, any>[];
              write(dataFrame(finish));
              if (usage) write(dataFrame({ ...usage, usage: { ...usage.usage, cost: usd(item.row.costMicros), is_byok: false } }));
              write("data: [DONE]\n\n");
            } else {
              const e = errorOf(item.row);
              write(dataFrame({ id: current.executionId, object: "chat.completion.chunk", error: { code: e.status, message: e.message }, choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] }));
            }
          }
          failure = null;
          break;
        }
        if (failure) write(dataFrame({ error: { code: failure.status, message: failure.message }, choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] }));
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
