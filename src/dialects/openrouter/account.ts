/**
 * OpenRouter's account endpoints over the gateway's own records: the calling key (`/key`), the
 * organization's credits (`/credits`), one generation's record (`/generation?id=`: an
 * execution), the model list in OpenRouter's shape and the providers. Money is in USD as
 * numbers, as OpenRouter sends it; token prices are per token.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import * as Executions from "../../modules/executions/service";
import { isTerminal } from "../../modules/executions/store";
import { effectiveLimits, spendWindowStart } from "../../modules/keys/limits";
import * as Keys from "../../modules/keys/service";
import type { Caller } from "../../modules/keys/service";
import * as Ledger from "../../modules/ledger/service";
import { iso } from "../../time";
import { servedModelOf } from "../run";

const usd = (micros: number) => micros / 1_000_000;
/** A per-1M-tokens price in micro-USD as OpenRouter's per-token decimal string. */
const perToken = (per1mMicros: number | undefined) => (per1mMicros === undefined ? "0" : String(per1mMicros / 1e12));

/** Management keys (OpenRouter's term) are the gateway's full-permission keys. */
export function requireManagement(caller: Caller) {
  if (caller.permission !== "full") throw new AppError("FORBIDDEN", "Only management keys (full permission) can read this.");
}

/** `GET /key`: the calling key, its spend and its limit as OpenRouter reports them. */
export function keyInfo(ctx: AppContext, caller: Caller) {
  const now = ctx.clock.now();
  const row = Keys.findKey({ db: ctx.db, now }, caller.orgId, caller.keyId);
  const spent = (since: number) => usd(Ledger.spentByKeySince(ctx.db, caller.keyId, since));
  const limits = effectiveLimits(caller, now);
  const limit = limits.spendLimits[0] ?? null;
  const limitRemaining = limit ? usd(Math.max(0, limit.limitMicros - Ledger.spentByKeySince(ctx.db, caller.keyId, limit.windowStartMs))) : null;
  return {
    data: {
      label: row.name,
      limit: limit ? usd(limit.limitMicros) : null,
      usage: spent(0),
      usage_daily: spent(spendWindowStart("daily", now)),
      usage_weekly: spent(spendWindowStart("weekly", now)),
      usage_monthly: spent(spendWindowStart("monthly", now)),
      byok_usage: 0,
      byok_usage_daily: 0,
      byok_usage_weekly: 0,
      byok_usage_monthly: 0,
      is_free_tier: false,
      is_management_key: caller.permission === "full",
      is_provisioning_key: false,
      limit_remaining: limitRemaining,
      limit_reset: limit && limit.reset !== "none" ? limit.reset : null,
      include_byok_in_limit: false,
      expires_at: iso(row.expiresAt),
      creator_user_id: null,
      rate_limit: { requests: limits.requestsPerMinute ?? ctx.config.rateLimitRpm, interval: "1m", note: "requests per minute for this key" },
    },
  };
}

/** `GET /credits`: everything credited to the organization, and everything charged. */
export function credits(ctx: AppContext, caller: Caller) {
  requireManagement(caller);
  const totals = Ledger.lifetimeTotals(ctx.db, caller.orgId);
  return { data: { total_credits: usd(totals.creditedMicros), total_usage: usd(totals.capturedMicros) } };
}

/** `GET /generation?id=`: a finished execution's record; 404 until it has ended. */
export function generation(ctx: AppContext, caller: Caller, id: string | undefined) {
  if (!id) throw new AppError("INPUT_VALIDATION_ERROR", "id is required.", [{ field: "id", code: "required", message: "id is required." }]);
  const row = Executions.find(ctx, caller, id);
  if (!isTerminal(row.status)) throw new AppError("NOT_FOUND", `Generation ${id} is not recorded yet; it is still ${row.status}.`);
  const route = row.routeId ? Catalog.listModels(ctx.db).flatMap((m) => m.routes).find((r) => r.id === row.routeId) : undefined;
  const usage = row.usage;
  const cost = usd(row.costMicros ?? 0);
  const output = (row.output ?? {}) as { finish_reason?: string };
  const latency = row.completedAt !== null ? row.completedAt - row.createdAt : null;
  return {
    data: {
      id: row.id,
      upstream_id: null,
      total_cost: cost,
      cache_discount: row.cacheSavedMicros ? usd(row.cacheSavedMicros) : null,
      upstream_inference_cost: null,
      created_at: iso(row.createdAt),
      model: servedModelOf(row),
      app_id: null,
      streamed: row.mode === "STREAMING",
      cancelled: row.status === "CANCELLED",
      provider_name: route?.providerId ?? null,
      latency,
      moderation_latency: null,
      generation_time: row.startedAt !== null && row.completedAt !== null ? row.completedAt - row.startedAt : null,
      finish_reason: row.status === "COMPLETED" ? (output.finish_reason ?? "stop") : row.status === "CANCELLED" ? "cancelled" : "error",
      native_finish_reason: output.finish_reason ?? null,
      tokens_prompt: usage?.inputTokens ?? 0,
      tokens_completion: usage?.outputTokens ?? 0,
      native_tokens_prompt: usage?.inputTokens ?? 0,
      native_tokens_completion: usage?.outputTokens ?? 0,
      native_tokens_completion_images: usage?.images ?? null,
      native_tokens_reasoning: usage?.reasoningTokens ?? null,
      native_tokens_cached: usage?.cachedInputTokens ?? null,
      num_media_prompt: null,
      num_input_audio_prompt: null,
      num_media_completion: usage?.images ?? null,
      num_search_results: null,
      origin: "",
      usage: cost,
      is_byok: false,
      external_user: null,
      api_type: row.metadata?.dialect ?? "executions",
      router: null,
    },
  };
}

const MODALITY: Record<string, { input: string[]; output: string[] }> = {
  chat: { input: ["text", "image"], output: ["text"] },
  "text-generation": { input: ["text"], output: ["text"] },
  embedding: { input: ["text"], output: ["embeddings"] },
  "text-to-image": { input: ["text"], output: ["image"] },
  "image-to-text": { input: ["image", "text"], output: ["text"] },
  "text-to-speech": { input: ["text"], output: ["audio"] },
  "speech-to-text": { input: ["audio"], output: ["text"] },
  "image-edit": { input: ["image", "text"], output: ["image"] },
  "image-variation": { input: ["image"], output: ["image"] },
  moderation: { input: ["text", "image"], output: ["text"] },
  rerank: { input: ["text"], output: ["text"] },
};

const CHAT_PARAMETERS = ["max_tokens", "temperature", "top_p", "stop", "seed", "tools", "tool_choice", "parallel_tool_calls", "response_format", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs"];

/** A catalog model in OpenRouter's model shape. */
export function openrouterModel(model: Catalog.Model) {
  const modality = MODALITY[model.task] ?? { input: ["text"], output: ["text"] };
  const p = model.pricing;
  return {
    id: model.slug,
    canonical_slug: model.slug,
    name: model.slug,
    created: Math.floor(model.createdAt / 1000),
    description: model.description,
    context_length: model.contextWindow,
    architecture: { modality: `${modality.input.join("+")}->${modality.output.join("+")}`, input_modalities: modality.input, output_modalities: modality.output, tokenizer: "Other", instruct_type: null },
    pricing: {
      prompt: perToken(p.inputPer1mTokensMicros),
      completion: perToken(p.outputPer1mTokensMicros),
      request: p.perRequestMicros === undefined ? "0" : String(usd(p.perRequestMicros)),
      image: p.perImageMicros === undefined ? "0" : String(usd(p.perImageMicros)),
      input_cache_read: perToken(p.cachedInputPer1mTokensMicros ?? p.inputPer1mTokensMicros),
      input_cache_write: perToken(p.cacheWritePer1mTokensMicros ?? p.inputPer1mTokensMicros),
    },
    top_provider: { context_length: model.contextWindow, max_completion_tokens: model.maxOutputTokens, is_moderated: false },
    per_request_limits: null,
    supported_parameters: model.task === "chat" ? CHAT_PARAMETERS : [],
  };
}

/** Output modalities asked for (`output_modalities`, default text; "all" for every model), of the models `keep` keeps. */
export function modelsFor(ctx: AppContext, outputModalities: string | undefined, keep: (model: Catalog.Model) => boolean = () => true) {
  const wanted = (outputModalities ?? "text").split(",").map((m) => m.trim());
  return Catalog.listModels(ctx.db)
    .filter(keep)
    .map(openrouterModel)
    .filter((m) => wanted.includes("all") || m.architecture.output_modalities.some((o) => wanted.includes(o)));
}

const DAY_MS = 86_400_000;

/** `GET /activity`: spend and tokens per UTC day and model over the last 30 days, or one day. */
export function activity(ctx: AppContext, caller: Caller, date: string | undefined) {
  requireManagement(caller);
  const today = Math.floor(ctx.clock.now() / DAY_MS) * DAY_MS;
  let from = today - 29 * DAY_MS;
  let to = today + DAY_MS;
  if (date !== undefined) {
    const day = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T00:00:00Z`) : NaN;
    if (Number.isNaN(day) || new Date(day).toISOString().slice(0, 10) !== date) throw new AppError("INPUT_VALIDATION_ERROR", "date must be YYYY-MM-DD.", [{ field: "date", code: "invalid_format", message: "YYYY-MM-DD" }]);
    if (day < from || day > today) throw new AppError("INPUT_VALIDATION_ERROR", "date must be within the last 30 days.", [{ field: "date", code: "out_of_range", message: "the last 30 UTC days" }]);
    from = day;
    to = day + DAY_MS;
  }
  const models = new Map(Catalog.listModels(ctx.db).map((m) => [m.slug, m]));
  const rows = Executions.usageTotals(ctx, caller.orgId, from, to, "day_model").map((row) => {
    const [day, model] = [row.group.slice(0, 10), row.group.slice(11)];
    const providerId = models.get(model)?.routes[0]?.providerId ?? null;
    return {
      date: day,
      model,
      model_permaslug: model,
      endpoint_id: models.get(model)?.routes[0]?.id ?? null,
      provider_name: providerId,
      usage: usd(row.costMicros),
      byok_usage_inference: 0,
      requests: row.executions,
      prompt_tokens: row.inputTokens,
      completion_tokens: row.outputTokens,
      reasoning_tokens: row.reasoningTokens,
    };
  });
  return { data: rows.sort((a, b) => (a.date === b.date ? a.model.localeCompare(b.model) : b.date.localeCompare(a.date))) };
}

export function providers(ctx: AppContext) {
  return { data: Catalog.listProviders(ctx.db).map((p) => ({ name: p.id, slug: p.id, privacy_policy_url: null, terms_of_service_url: null, status_page_url: null })) };
}
