/**
 * Cost arithmetic in integer micro-USD (docs/architecture.md "Money"): the most an execution can cost,
 * placed as a hold at create, and what it did cost, captured at the end. Rounded up once.
 */
import type { Pricing } from "../../db/schema";
import type { Usage } from "../../providers/types";

const PER_MILLION = 1_000_000;

/** Upper bound on tokens in an input: words never outnumber its UTF-8 bytes. */
function inputTokenBound(input: Record<string, unknown>): number {
  let bytes = 0;
  const visit = (value: unknown) => {
    if (typeof value === "string") bytes += Buffer.byteLength(value, "utf8");
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  visit(input);
  return bytes;
}

/** What an execution costs for a given usage; rounded up to the next micro-USD once. */
export function costMicros(pricing: Pricing, usage: Usage): number {
  // Work in millionths of a micro-USD so every term is an exact integer before one rounding.
  let scaled = 0;
  const inputRate = pricing.inputPer1mTokensMicros ?? 0;
  // Each input token once, at the rate of what it was: cache read, cache write, or plain.
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  scaled += (usage.inputTokens - cached - written) * inputRate;
  scaled += cached * (pricing.cachedInputPer1mTokensMicros ?? inputRate);
  scaled += written * (pricing.cacheWritePer1mTokensMicros ?? inputRate);
  scaled += usage.outputTokens * (pricing.outputPer1mTokensMicros ?? 0);
  scaled += (usage.images ?? 0) * (pricing.perImageMicros ?? 0) * PER_MILLION;
  scaled += Math.ceil((usage.seconds ?? 0) * 1000) * (pricing.perSecondMicros ?? 0) * 1000;
  scaled += (usage.characters ?? 0) * (pricing.per1mCharactersMicros ?? 0);
  // A per-request price is what the call costs once it is made, whatever it used.
  scaled += (pricing.perRequestMicros ?? 0) * PER_MILLION;
  // A discount (batch lines) scales the exact sum, so it is still rounded up only once.
  const payPercent = 100 - (pricing.discountPercent ?? 0);
  return Math.ceil((scaled * payPercent) / (100 * PER_MILLION));
}

/** The prices an execution pays: the model's, less its own discount (a batch line's), if any. */
export const pricingWithDiscount = (pricing: Pricing, discountPercent: number | null | undefined): Pricing =>
  discountPercent ? { ...pricing, discountPercent } : pricing;

/**
 * The output bound of a call priced per output token when neither the caller (`max_tokens`) nor
 * the model (`max_output_tokens`) gives one. The run passes it upstream as `max_tokens`, so the
 * hold covers whatever the upstream may produce.
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 4096;

export type HoldBasis = { pricing: Pricing; maxOutputTokens: number | null; task: string; timeoutMs: number };

/** An input file as the hold sees it: its real type and size. */
export type HeldFile = { contentType: string; sizeBytes: number };

/**
 * Upper bound on the seconds of audio in a file, from its size: PCM (WAV) is never slower than
 * 8 kHz 8-bit mono (8,000 bytes a second), compressed speech never below 8 kbit/s (1,000 bytes).
 */
function audioSecondsBound(files: readonly HeldFile[]): number {
  return files.reduce((total, f) => total + Math.ceil(f.sizeBytes / (f.contentType === "audio/wav" ? 8000 : 1000)), 0);
}

/**
 * The most this input can cost on this model: the amount held at create. Priced by the second, a
 * transcription is bounded by the length of its recording (the seconds it is charged are the
 * audio's); any other call by the route's total timeout (the seconds are compute time).
 */
export function maxCostMicros(model: HoldBasis, input: Record<string, unknown>, files: readonly HeldFile[] = []): number {
  const requestedMax = typeof input.max_tokens === "number" ? input.max_tokens : null;
  const pricedByOutput = (model.pricing.outputPer1mTokensMicros ?? 0) > 0;
  const outputTokens = requestedMax ?? model.maxOutputTokens ?? (pricedByOutput ? DEFAULT_MAX_OUTPUT_TOKENS : 0);
  const images = model.pricing.perImageMicros ? Number(input.num_images ?? 1) : 0;
  const bound = inputTokenBound(input);
  return costMicros(model.pricing, {
    inputTokens: bound,
    // A cache write may cost more than plain input: the bound prices every token at the dearer rate.
    cacheWriteTokens: (model.pricing.cacheWritePer1mTokensMicros ?? 0) > (model.pricing.inputPer1mTokensMicros ?? 0) ? bound : 0,
    outputTokens,
    images,
    seconds: !model.pricing.perSecondMicros ? 0 : model.task === "speech-to-text" ? audioSecondsBound(files) : model.timeoutMs / 1000,
    // Characters never outnumber the input's UTF-8 bytes.
    characters: model.pricing.per1mCharactersMicros ? bound : 0,
  });
}
