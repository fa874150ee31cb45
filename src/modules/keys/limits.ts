/**
 * Per-key limits (requests per minute, concurrent executions, a spend limit with a reset period)
 * and how a key's limits combine with its guardrail's: per field, the stricter wins. Pure
 * functions: the rate limiter (http/auth.ts), the ledger (spend, enforced with the hold) and the
 * executions module (concurrency) call them.
 *
 * Spend windows start at 00:00 UTC; weeks start on Monday; `none` means "since the key exists".
 */
import type { KeyLimits } from "../../db/schema";
import { invalidFields, type FieldIssue } from "../../errors";
import { formatUsd, parseUsd } from "../../money";
import { DAY_MS } from "../../time";

export type SpendReset = "daily" | "weekly" | "monthly" | "none";
export const SPEND_RESETS = ["daily", "weekly", "monthly", "none"] as const satisfies readonly SpendReset[];

export const MAX_REQUESTS_PER_MINUTE = 10_000_000;
export const MAX_CONCURRENT_EXECUTIONS = 10_000;


/** Start (ms, UTC) of the spend window that contains `now`; 0 for `none` (all time). */
export function spendWindowStart(reset: SpendReset, now: number): number {
  const d = new Date(now);
  switch (reset) {
    case "daily":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    case "weekly": {
      const sinceMonday = (d.getUTCDay() + 6) % 7; // getUTCDay: 0 = Sunday
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - sinceMonday * DAY_MS;
    }
    case "monthly":
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    case "none":
      return 0;
  }
}

/** When the window containing `now` ends (ms, UTC); null for `none`. */
export function spendWindowEnd(reset: SpendReset, now: number): number | null {
  const start = new Date(spendWindowStart(reset, now));
  switch (reset) {
    case "daily":
      return start.getTime() + DAY_MS;
    case "weekly":
      return start.getTime() + 7 * DAY_MS;
    case "monthly":
      return Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
    case "none":
      return null;
  }
}

export type SpendLimit = {
  /** Which limit this is, for the 402 message ("the key's daily spend limit"). */
  source: "key" | "guardrail";
  limitMicros: number;
  reset: SpendReset;
  windowStartMs: number;
  /** null for `none`. */
  windowEndMs: number | null;
};

export type EffectiveLimits = {
  /** null: no per-key limit, the server default (MODELROUTE_RATE_LIMIT_RPM) applies. */
  requestsPerMinute: number | null;
  /** null: unlimited. */
  maxConcurrentExecutions: number | null;
  /** Every entry must hold: spend since windowStartMs + the new hold ≤ limitMicros. */
  spendLimits: SpendLimit[];
};

const stricter = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a == null ? (b ?? null) : b == null ? a : Math.min(a, b);

function spendLimitOf(source: SpendLimit["source"], limits: KeyLimits | null | undefined, now: number): SpendLimit | null {
  if (limits?.spendLimitMicros == null) return null;
  const reset = limits.spendLimitReset ?? "none";
  return { source, limitMicros: limits.spendLimitMicros, reset, windowStartMs: spendWindowStart(reset, now), windowEndMs: spendWindowEnd(reset, now) };
}

/**
 * The limits a request by this caller is held to: the stricter of the key's and its guardrail's,
 * field by field. Two spend limits with different reset periods are both kept (both must
 * hold); with the same period only the smaller one is.
 */
export function effectiveLimits(caller: { limits: KeyLimits; guardrailLimits?: KeyLimits | null }, now: number): EffectiveLimits {
  const key = caller.limits;
  const guard = caller.guardrailLimits ?? null;
  const spend = [spendLimitOf("key", key, now), spendLimitOf("guardrail", guard, now)].filter((s): s is SpendLimit => s !== null);
  if (spend.length === 2 && spend[0]!.reset === spend[1]!.reset) spend.splice(spend[0]!.limitMicros <= spend[1]!.limitMicros ? 1 : 0, 1);
  return {
    requestsPerMinute: stricter(key.requestsPerMinute, guard?.requestsPerMinute),
    maxConcurrentExecutions: stricter(key.maxConcurrentExecutions, guard?.maxConcurrentExecutions),
    spendLimits: spend,
  };
}

/** `limits` as it arrives on the wire (create or PATCH); null clears a field. */
export type LimitsInput = {
  requests_per_minute?: number | null;
  max_concurrent_executions?: number | null;
  spend_limit?: string | null;
  spend_limit_reset?: SpendReset;
};

export type LimitsView = {
  requests_per_minute: number | null;
  max_concurrent_executions: number | null;
  spend_limit: string | null;
  spend_limit_reset: SpendReset | null;
};

export function limitsView(limits: KeyLimits): LimitsView {
  const spend = limits.spendLimitMicros ?? null;
  return {
    requests_per_minute: limits.requestsPerMinute ?? null,
    max_concurrent_executions: limits.maxConcurrentExecutions ?? null,
    spend_limit: spend === null ? null : formatUsd(spend),
    spend_limit_reset: spend === null ? null : (limits.spendLimitReset ?? "none"),
  };
}

function boundedInteger(issues: FieldIssue[], field: string, value: number | null | undefined, max: number) {
  if (value === null || value === undefined) return value;
  if (!Number.isInteger(value) || value < 1 || value > max)
    issues.push({ field, code: "out_of_range", message: `Must be an integer from 1 to ${max}, or null for no limit.` });
  return value;
}

/**
 * Merges `input` into `base` (absent fields keep their value, null clears one) and validates the
 * result; throws INPUT_VALIDATION_ERROR naming each bad field under `root` (e.g. `limits.spend_limit`).
 */
export function mergeLimits(base: KeyLimits, input: LimitsInput | undefined, root = "limits"): KeyLimits {
  if (!input) return base;
  const issues: FieldIssue[] = [];
  const next: KeyLimits = { ...base };
  if (input.requests_per_minute !== undefined)
    next.requestsPerMinute = boundedInteger(issues, `${root}.requests_per_minute`, input.requests_per_minute, MAX_REQUESTS_PER_MINUTE);
  if (input.max_concurrent_executions !== undefined)
    next.maxConcurrentExecutions = boundedInteger(issues, `${root}.max_concurrent_executions`, input.max_concurrent_executions, MAX_CONCURRENT_EXECUTIONS);
  if (input.spend_limit !== undefined) {
    if (input.spend_limit === null) next.spendLimitMicros = null;
    else {
      const micros = parseUsd(input.spend_limit);
      if (micros === null)
        issues.push({ field: `${root}.spend_limit`, code: "invalid_format", message: 'Must be a decimal USD amount with at most 6 decimals, e.g. "25.00".' });
      next.spendLimitMicros = micros;
    }
  }
  if (input.spend_limit_reset !== undefined) next.spendLimitReset = input.spend_limit_reset;
  if (next.spendLimitMicros == null) next.spendLimitReset = null;
  else if (input.spend_limit_reset === undefined && input.spend_limit !== undefined && base.spendLimitMicros == null) next.spendLimitReset = "none";
  if (input.spend_limit_reset !== undefined && next.spendLimitMicros == null)
    issues.push({ field: `${root}.spend_limit`, code: "required", message: "spend_limit_reset needs a spend_limit." });
  if (issues.length > 0) throw invalidFields(issues, "limit fields are invalid");
  return compact(next);
}

/** Drops cleared fields so the stored JSON stays small. */
function compact(limits: KeyLimits): KeyLimits {
  return Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== null && v !== undefined)) as KeyLimits;
}
