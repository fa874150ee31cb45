/**
 * `/v1/usage` (docs/decisions.md "Balance, ledger and usage"): executions, tokens and cost per UTC day or per model over
 * [from, to). Counts COMPLETED executions and CANCELLED ones that were charged; an execution
 * counts on the day it was created. Days without usage are listed with zeros, so a chart needs
 * no gap filling.
 */
import type { AppContext } from "../../context";
import { invalidField } from "../../errors";
import { formatUsd } from "../../money";
import * as Executions from "../executions/service";

const DAY_MS = 86_400_000;
export const DEFAULT_DAYS = 30;
/** The widest range one request may ask for (bounds the number of day groups). */
export const MAX_RANGE_DAYS = 366;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/;

/** "2026-11-01" (midnight UTC) or "2026-11-01T12:00:00Z"; 400 naming the parameter otherwise. */
function parseInstant(field: "from" | "to", text: string): number {
  const ms = DATE_ONLY.test(text) ? Date.parse(`${text}T00:00:00Z`) : DATE_TIME_UTC.test(text) ? Date.parse(text) : NaN;
  // Date.parse rolls 2026-02-30 over to March; a round trip catches it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text.slice(0, 10))
    throw invalidField(field, "invalid_format", `${field} must be an ISO-8601 UTC date or time, e.g. 2026-11-01 or 2026-11-01T00:00:00Z.`);
  return ms;
}

const startOfUtcDay = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);

export type UsageQuery = { from?: string; to?: string; group_by?: "day" | "model" };

/**
 * Resolves the range: `to` defaults to now, `from` to the start of the UTC day 29 days before
 * `to`'s (the last 30 UTC days, today included).
 */
export function usageRange(query: UsageQuery, now: number) {
  const toMs = query.to === undefined ? now : parseInstant("to", query.to);
  const fromMs = query.from === undefined ? startOfUtcDay(toMs - 1) - (DEFAULT_DAYS - 1) * DAY_MS : parseInstant("from", query.from);
  if (fromMs >= toMs) throw invalidField("from", "out_of_range", "from must be earlier than to.");
  if (toMs - fromMs > MAX_RANGE_DAYS * DAY_MS) throw invalidField("from", "out_of_range", `The range may span at most ${MAX_RANGE_DAYS} days.`);
  return { fromMs, toMs };
}

const dayKey = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function usage(ctx: Pick<AppContext, "db" | "clock">, orgId: string, query: UsageQuery) {
  const groupBy = query.group_by ?? "day";
  const { fromMs, toMs } = usageRange(query, ctx.clock.now());
  let rows = Executions.usageTotals(ctx, orgId, fromMs, toMs, groupBy);
  if (groupBy === "day") {
    const byDay = new Map(rows.map((r) => [r.group, r]));
    rows = [];
    for (let day = startOfUtcDay(fromMs); day < toMs; day += DAY_MS) {
      const key = dayKey(day);
      rows.push(byDay.get(key) ?? { group: key, executions: 0, inputTokens: 0, outputTokens: 0, reasoningTokens: 0, costMicros: 0, cacheHits: 0, cacheMisses: 0, cacheSavedMicros: 0 });
    }
  }
  return {
    object: "list" as const,
    data: rows.map((r) => ({
      group: r.group,
      executions: r.executions,
      input_tokens: r.inputTokens,
      output_tokens: r.outputTokens,
      cost: formatUsd(r.costMicros),
      cache_hits: r.cacheHits,
      cache_misses: r.cacheMisses,
      cache_saved: formatUsd(r.cacheSavedMicros),
    })),
    has_more: false,
    group_by: groupBy,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
  };
}
