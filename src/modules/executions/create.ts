/**
 * Creating an execution: validation, the caller's guardrail and limits, the hold, the insert and
 * its run (started at once in this process when a slot is free, else queued), all in one
 * transaction; or, on a response-cache hit, an execution created COMPLETED. service.ts answers
 * POST /v1/executions around it; status changes go through state.ts, money through the ledger.
 */
import type { AppContext } from "../../context";
import type { Tx } from "../../db/client";
import { AppError, invalidFields, type FieldIssue } from "../../errors";
import { newId } from "../../ids";
import * as Idempotency from "../../http/idempotency";
import type { RoutePreferences } from "../../providers/preferences";
import * as Semantic from "../cache/semantic";
import * as Cache from "../cache/service";
import * as Catalog from "../catalog/service";
import * as Files from "../files/service";
import * as Guardrails from "../guardrails/service";
import { effectiveLimits } from "../keys/limits";
import { lockKeyForLimits, type Caller } from "../keys/service";
import * as Ledger from "../ledger/service";
import * as Webhooks from "../webhooks/service";
import { announce } from "./announce";
import { candidatesColumn, candidatesFor } from "./candidates";
import { runStarted } from "./jobs";
import type { ExecutionModel } from "./model";
import * as State from "./state";
import * as store from "./store";
import { waitForTerminal } from "./wait";

export const RUN_JOB = "execution.run";
const RUN_MAX_ATTEMPTS = 10;
/** How long a create waits for the semantic cache's embedding of its prompt. */
const EMBED_WAIT_MS = 30_000;

const METADATA_MAX_PAIRS = 16;
const METADATA_KEY_MAX = 64;
const METADATA_VALUE_MAX = 512;

function checkMetadata(metadata: Record<string, unknown> | undefined): FieldIssue[] {
  if (!metadata) return [];
  const issues: FieldIssue[] = [];
  const keys = Object.keys(metadata);
  if (keys.length > METADATA_MAX_PAIRS)
    issues.push({ field: "metadata", code: "too_long", message: `At most ${METADATA_MAX_PAIRS} key-value pairs.` });
  for (const key of keys) {
    const field = /^[A-Za-z_$][\w$-]*$/.test(key) ? `metadata.${key}` : `metadata[${JSON.stringify(key)}]`;
    if (key.length === 0 || key.length > METADATA_KEY_MAX)
      issues.push({ field, code: key.length ? "too_long" : "too_short", message: `Keys are 1–${METADATA_KEY_MAX} characters.` });
    const value = metadata[key];
    if (typeof value !== "string") issues.push({ field, code: "invalid_type", message: "Values are strings." });
    else if (value.length > METADATA_VALUE_MAX) issues.push({ field, code: "too_long", message: `Values are at most ${METADATA_VALUE_MAX} characters.` });
  }
  return issues;
}

export type CreateOptions = {
  idempotency?: Idempotency.Claim;
  /** The caller's preferences among the model's routes; refused (503) when none qualifies. */
  routing?: RoutePreferences;
  /** Models (or aliases) tried after `model`'s, in order, in the same execution (OpenRouter's `models`). */
  fallbacks?: readonly string[];
  /** What the request's headers ask of the response cache (Cache.requestPolicy). */
  cache?: Cache.RequestPolicy;
  /** Runs after the commit and before the worker is woken: a stream subscribes here so it misses no delta. */
  beforeStart?: (executionId: string) => void;
  /** Runs inside the create transaction: a dialect records what it keeps beside the execution (a stored response). */
  inTransaction?: (tx: Tx, executionId: string) => void;
  /** Percent off the model's prices, for the hold and the charge (a batch line's discount). */
  discountPercent?: number;
  /** When a PENDING execution gives up waiting (a batch's window); default: the queue TTL. */
  deadlineAt?: number;
  /** A batch line: not interactive, so it does not make background work hold back. */
  background?: boolean;
};

/**
 * Validates, checks the caller's guardrail and limits, holds the maximum cost and queues the
 * execution; returns the new row. Every refusal happens before anything is held or stored.
 */
export async function create(ctx: AppContext, caller: Caller, body: ExecutionModel.createBody, mode: store.ExecutionRow["mode"], opts: CreateOptions = {}) {
  const target = Catalog.resolveTarget(ctx.db, body.model, opts.fallbacks);
  const issues = [...checkMetadata(body.metadata), ...Webhooks.checkWebhookUrl(ctx.config, body.webhook_url)];
  if (issues.length) throw invalidFields(issues);
  const first = target.models[0]!;
  let validated = Catalog.validateInput(first, body.input);
  const candidates = candidatesFor(ctx, caller, target, opts.routing);
  const { model, routes } = candidates[0]!;
  if (model !== first) validated = Catalog.validateInput(model, body.input);
  const fileFields = Catalog.fileFields(model);
  const files = fileFields.length ? await Files.resolveInputFiles(ctx, caller.orgId, fileFields, validated, model.inputSchema) : [];
  // The hold covers the dearest model that may answer.
  let holdMicros = 0;
  for (const c of candidates)
    holdMicros = Math.max(holdMicros, Ledger.maxCostMicros({ pricing: Ledger.pricingWithDiscount(c.model.pricing, opts.discountPercent), maxOutputTokens: c.model.maxOutputTokens, task: c.model.task, timeoutMs: c.routes[0]?.timeouts.totalMs ?? 0 }, validated, files));
  Guardrails.checkExecution(ctx, caller, target.name, body.input, holdMicros);
  const limits = effectiveLimits(caller, ctx.clock.now());
  const maxConcurrent = limits.maxConcurrentExecutions;
  const now = ctx.clock.now();
  const id = newId("exec");
  if (!opts.background) ctx.scheduler.noteInteractive();
  const cache = Cache.decide(ctx, model, target.name, caller.orgId, validated, opts.cache, caller.responseCache);
  const execution = (cacheStatus: store.ExecutionRow["cacheStatus"], hold: number): State.NewExecution => ({
    id,
    orgId: caller.orgId,
    keyId: caller.keyId,
    model: target.name,
    candidates: candidatesColumn(target.name, candidates),
    mode,
    input: body.input,
    metadata: body.metadata ?? null,
    webhookUrl: body.webhook_url ?? null,
    holdMicros: hold,
    deadlineAt: opts.deadlineAt ?? now + (model.queueTtlMs ?? ctx.config.queueTtlMs),
    discountPercent: opts.discountPercent ?? null,
    createdAt: now,
    routing: opts.routing ?? null,
    cacheStatus,
    cacheKey: cache?.key ?? null,
  });
  let semantic: Semantic.Pending | null = null;
  if (cache) {
    const entry = Cache.lookup(ctx, caller.orgId, cache.key, now);
    if (entry) return answerFromCache(ctx, caller, entry, execution, model, opts);
    if (cache.semantic) {
      const embeddingModel = cache.semantic.embeddingModel;
      const found = await Semantic.find(ctx, caller.orgId, target.name, validated, cache.semantic, (text) => embedPrompt(ctx, caller, embeddingModel, text), now);
      if (found && "entry" in found) return answerFromCache(ctx, caller, found.entry, execution, model, opts, "semantic_hit");
      semantic = found?.pending ?? null;
    }
  }
  // A free run slot and a synchronous upstream: the execution starts in the create transaction
  // and runs at once in this process, without a claim, a commit and a re-read of its own.
  const slot = candidates.some((c) => ctx.router.isAsync(c.routes)) ? null : ctx.scheduler.reserve(RUN_JOB);
  const controller = slot ? new AbortController() : null;
  // Registered before the commit, so a cancel that sees PROCESSING always finds the call to stop.
  if (controller) ctx.running.set(id, controller);
  let created: { row: store.ExecutionRow; started: State.Transitioned | null };
  try {
    created = await ctx.writer.run((tx) => {
      if (maxConcurrent !== null || limits.spendLimits.length > 0) lockKeyForLimits(tx, caller.keyId);
      if (maxConcurrent !== null && store.countRunningForKey(tx, caller.keyId) >= maxConcurrent)
        throw new AppError("RATE_LIMITED", `This API key may run ${maxConcurrent} executions at once; wait for one to finish.`, [], { "retry-after": "1" });
      const inserted = State.insert(tx, execution(cache ? "miss" : null, holdMicros), slot !== null);
      // 402 when the balance or one of the key's spend limits cannot cover the hold.
      Ledger.placeHold(tx, { orgId: caller.orgId, executionId: id, keyId: caller.keyId, amountMicros: holdMicros, now, spendLimits: limits.spendLimits });
      if (slot) slot.insert(tx, { executionId: id }, RUN_MAX_ATTEMPTS);
      else ctx.scheduler.enqueue(tx, RUN_JOB, { executionId: id }, { maxAttempts: RUN_MAX_ATTEMPTS });
      if (opts.idempotency) Idempotency.remember(tx, opts.idempotency, 202, id, now);
      opts.inTransaction?.(tx, id);
      return inserted;
    });
  } catch (error) {
    slot?.cancel();
    if (controller) ctx.running.delete(id);
    throw error;
  }
  if (created.started) announce(ctx, created.started);
  if (cache) Cache.countMiss(ctx);
  if (semantic) Semantic.hold(ctx, id, semantic);
  opts.beforeStart?.(id);
  if (slot && created.started) {
    const started = { row: created.started.row, model, routes, input: validated, files, controller: controller!, fallbacks: candidates.slice(1) };
    slot.start((c, job) => runStarted(c, job, started));
  } else ctx.scheduler.wake(RUN_JOB);
  return created.row;
}

/**
 * A cache hit: an execution created COMPLETED with the stored answer, charged the model's
 * cache price (docs/cache.md) and recorded as the entry's most recent use, in one transaction.
 * Nothing runs, so `beforeStart` is not called: the caller sees a terminal row.
 */
async function answerFromCache(
  ctx: AppContext,
  caller: Caller,
  entry: Cache.EntryRow,
  execution: (cacheStatus: store.ExecutionRow["cacheStatus"], hold: number) => State.NewExecution,
  model: Catalog.Model,
  opts: CreateOptions,
  match: "hit" | "semantic_hit" = "hit",
) {
  const price = (Catalog.findModel(ctx.db, entry.servedModel) ?? model).pricing.perCacheHitMicros ?? 0;
  const row = execution(match, price);
  const saved = Math.max(0, entry.costMicros - price);
  const limits = effectiveLimits(caller, row.createdAt);
  const created = await ctx.writer.run((tx) => {
    Ledger.placeHold(tx, { orgId: row.orgId, executionId: row.id, keyId: row.keyId, amountMicros: price, now: row.createdAt, spendLimits: limits.spendLimits });
    const finished = { output: entry.output, usage: entry.usage, costMicros: price, servedModel: entry.servedModel, routeId: entry.routeId, cacheSource: entry.executionId, cacheSavedMicros: saved };
    const inserted = State.insertCompleted(tx, row, finished, ctx.metrics);
    Cache.touch(ctx, tx, entry.key, row.createdAt);
    if (opts.idempotency) Idempotency.remember(tx, opts.idempotency, 202, row.id, row.createdAt);
    opts.inTransaction?.(tx, row.id);
    return inserted;
  });
  announce(ctx, created);
  Cache.countHit(ctx, saved);
  return created.row;
}

/**
 * The semantic cache's embedding of a prompt: an execution of the organization on the embedding
 * model (charged at its price, listed with `metadata.purpose`); null when it cannot run (the key's
 * guardrail, its balance), and the request then goes on without the semantic cache.
 */
async function embedPrompt(ctx: AppContext, caller: Caller, model: string, text: string): Promise<Float32Array | null> {
  try {
    const row = await create(ctx, caller, { model, input: { input: text }, metadata: { purpose: "semantic-cache" } }, "SYNC", { cache: "bypass" });
    const done = store.isTerminal(row.status) ? row : await waitForTerminal(ctx, row.id, EMBED_WAIT_MS);
    const vector = (done.output as { embeddings?: number[][] } | null)?.embeddings?.[0];
    return done.status === "COMPLETED" && Array.isArray(vector) ? Float32Array.from(vector) : null;
  } catch (error) {
    if (error instanceof AppError) return null;
    throw error;
  }
}
