/**
 * Ending an execution with what a provider gave: store its files as the organization's, then
 * one guarded transition (the state machine settles the hold in the same transaction). Used by
 * the run job, and by callbacks and polls of asynchronous upstreams.
 */
import type { AppContext } from "../../context";
import { AppError, storageFault } from "../../errors";
import type { ProviderResult } from "../../providers/types";
import * as Semantic from "../cache/semantic";
import * as Cache from "../cache/service";
import * as Files from "../files/service";
import * as Ledger from "../ledger/service";
import type { Model } from "../catalog/service";
import { announce } from "./announce";
import * as State from "./state";
import * as store from "./store";

export async function move(ctx: AppContext, id: string, to: store.Status, patch: State.Patch = {}, from?: store.Status[], answerHeaders?: Record<string, string>) {
  const moved = await ctx.writer.run((tx) => State.transition(tx, id, to, ctx.clock.now(), patch, { from, metrics: ctx.metrics }));
  if (moved && answerHeaders) failureHeaders.set(moved.row, answerHeaders);
  if (moved) announce(ctx, moved);
  return moved;
}

export const failure = (error: unknown) =>
  error instanceof AppError
    ? { errorCode: error.code, errorMessage: error.message }
    : { errorCode: "GENERATION_FAILED", errorMessage: "The provider failed." };

/**
 * What a caller still waiting should be told besides the error, kept in memory on the row the
 * failure committed (and published): the wait the upstreams asked for (`Retry-After`), which
 * the row does not store. A row read back later has none.
 */
const failureHeaders = new WeakMap<store.ExecutionRow, Record<string, string>>();

/** The headers of a failure worth passing on to a waiting caller. */
export function answerHeadersOf(error: unknown): Record<string, string> | undefined {
  const retryAfter = error instanceof AppError ? error.headers["Retry-After"] ?? error.headers["retry-after"] : undefined;
  return retryAfter ? { "retry-after": String(retryAfter) } : undefined;
}

export const failureHeadersOf = (row: store.ExecutionRow): Record<string, string> => failureHeaders.get(row) ?? {};

/** Stores artifacts as files of the org and puts their ids where the adapter left placeholders. */
export async function storeArtifacts(ctx: AppContext, row: store.ExecutionRow, result: ProviderResult): Promise<Record<string, unknown>> {
  if (!result.artifacts?.length) return result.output;
  const stored: Record<string, unknown>[] = [];
  for (const artifact of result.artifacts) {
    const file = await Files.storeOutput(ctx, {
      orgId: row.orgId,
      executionId: row.id,
      bytes: artifact.bytes,
      contentType: artifact.contentType,
      filename: artifact.filename,
    });
    stored.push({ file_id: file.file_id, ...artifact.meta });
  }
  return JSON.parse(JSON.stringify(result.output), (_key, value) =>
    value && typeof value === "object" && "$artifact" in value ? stored[value.$artifact as number] : value,
  );
}

/**
 * COMPLETED with the result of `model` (the one that answered), from one of `from`; FAILED when
 * its files cannot be stored (INSUFFICIENT_STORAGE or STORAGE_UNAVAILABLE when the disk refused them). A cacheable miss stores its answer in the same transaction.
 */
export async function complete(ctx: AppContext, row: store.ExecutionRow, model: Model, result: ProviderResult & { routeId: string }, from: store.Status[]) {
  let output: Record<string, unknown>;
  try {
    output = await storeArtifacts(ctx, row, result);
  } catch (error) {
    ctx.log.error("storing execution output failed", { execution_id: row.id, error });
    // A full or read-only disk is named, so that the caller knows a retry later may succeed.
    const fault = storageFault(error);
    const errorMessage = fault ? `The output could not be stored: ${fault.code === "INSUFFICIENT_STORAGE" ? "the server's disk is full" : "the server's storage refuses writes"}.` : "The output could not be stored.";
    return move(ctx, row.id, "FAILED", { errorCode: fault?.code ?? "GENERATION_FAILED", errorMessage }, from);
  }
  const patch = { output, usage: result.usage, costMicros: Ledger.costMicros(Ledger.pricingWithDiscount(model.pricing, row.discountPercent), result.usage), routeId: result.routeId, servedModel: model.slug };
  const cacheKey = row.cacheStatus === "miss" ? row.cacheKey : null;
  if (!cacheKey) return move(ctx, row.id, "COMPLETED", patch, from);
  const ttlMs = (model.cache?.ttlSeconds ?? Cache.DEFAULT_TTL_SECONDS) * 1000;
  const vector = await Semantic.prepareStore(ctx, row.id);
  const now = ctx.clock.now();
  let stored: Cache.Stored | null = null;
  let indexed: { apply(): void } | undefined;
  const moved = await ctx.writer.run((tx) => {
    const t = State.transition(tx, row.id, "COMPLETED", now, patch, { from, metrics: ctx.metrics });
    if (t) {
      const answer = { orgId: row.orgId, model: row.model, executionId: row.id, output, usage: result.usage, costMicros: t.row.costMicros ?? 0, servedModel: model.slug, routeId: result.routeId };
      stored = Cache.remember(ctx, tx, cacheKey, answer, ttlMs, now, vector?.scope);
      if (stored && vector) indexed = vector.write(tx, cacheKey, row.id, now);
    }
    return t;
  });
  Cache.applyStored(ctx, stored);
  indexed?.apply();
  Semantic.forget(ctx, (stored as Cache.Stored | null)?.evicted ?? []);
  if (moved) announce(ctx, moved);
  return moved;
}
