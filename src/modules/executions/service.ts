/**
 * Executions: create (validate, hold, insert, enqueue in one transaction), read, list, result,
 * cancel, and waiting for a terminal status. Owns the create transaction; status changes go
 * through state.ts, money through the ledger.
 */
import type { AppContext } from "../../context";
import type { Tx } from "../../db/client";
import { AppError, invalidFields, type FieldIssue } from "../../errors";
import { newId } from "../../ids";
import { pageRequest, toList } from "../../http/pagination";
import * as Semantic from "../cache/semantic";
import * as Cache from "../cache/service";
import * as Catalog from "../catalog/service";
import * as Files from "../files/service";
import * as Guardrails from "../guardrails/service";
import { effectiveLimits } from "../keys/limits";
import { DISPATCH_JOB } from "../events/service";
import { lockKeyForLimits, type Caller } from "../keys/service";
import * as Ledger from "../ledger/service";
import * as Webhooks from "../webhooks/service";
import * as Idempotency from "../../http/idempotency";
import type { ExecutionModel } from "./model";
import { CancelRequested } from "./cancel-request";
import type { RoutePreferences } from "../../providers/preferences";
import { candidatesColumn, candidatesFor } from "./candidates";
import * as State from "./state";
import * as store from "./store";
import { executionStream } from "./stream";
import { waitForTerminal, watchTerminal, type TerminalWatch } from "./wait";
import { runStarted } from "./jobs";
import { asCreated, executionView, resultView } from "./view";

export const RUN_JOB = "execution.run";
const RUN_MAX_ATTEMPTS = 10;
/** Kind of the job that forwards a cancel to an asynchronous upstream (handled in async.ts). */
const CANCEL_UPSTREAM_JOB = "execution.cancel-upstream";
/** How long a cancel waits for the running call to stop and settle before it settles alone. */
const CANCEL_HANDOFF_MS = 5_000;
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

export type SubmitRequest = {
  /** The HTTP request: its raw body is the idempotency fingerprint. */
  request: Request;
  prefer?: string;
  idempotencyKey?: string;
  /** Lifts the connection's idle timeout before a long SYNC wait or a stream. */
  keepOpen: () => void;
  /** Headers of a stream's response (its own Response carries them). */
  streamHeaders: (executionId: string) => Record<string, string>;
};

export type Submitted =
  | { executionId: string; stream: Response }
  | { executionId: string; status: 200 | 202; execution: ReturnType<typeof executionView>; headers: Record<string, string> };

/**
 * POST /v1/executions end to end: mode from `mode` or `Prefer: wait`, the Idempotency-Key
 * (replay, or a claim recorded in the create transaction), then the answer of the mode —
 * 202 at once (ASYNC), a wait for the end (SYNC), or an event stream (STREAMING).
 */
export async function submit(ctx: AppContext, caller: Caller, body: ExecutionModel.createBody, req: SubmitRequest): Promise<Submitted> {
  const wait = preferredWait(req.prefer, ctx.config.syncWaitMaxSeconds);
  const mode = body.mode ?? (wait !== null ? "SYNC" : "ASYNC");
  const started = Idempotency.begin(ctx, caller.orgId, req.request, "/v1/executions", req.idempotencyKey);
  let stream: Response | undefined;
  const openStream = (id: string, replayOutput = false) => {
    req.keepOpen();
    stream = executionStream(ctx, id, 0, req.streamHeaders(id), { replayOutput });
  };
  let watch: TerminalWatch | undefined;
  const watchEnd = (id: string) => (watch = watchTerminal(ctx, id));
  let row: store.ExecutionRow;
  try {
    row = started?.replay
      ? find(ctx, caller, started.replay.resourceId!)
      : await create(ctx, caller, body, mode, { idempotency: started?.claim, beforeStart: mode === "STREAMING" ? openStream : mode === "SYNC" ? watchEnd : undefined, cache: Cache.requestPolicy(req.request.headers) });
  } finally {
    started?.release();
  }
  const headers: Record<string, string> = {};
  const cached = started?.replay ? null : Cache.cacheHeaderOf(row);
  if (cached) headers[Cache.CACHE_HEADER] = cached;
  // A cache hit is created finished: a stream of it replays its history at once.
  if (mode === "STREAMING" && !stream && !started?.replay) openStream(row.id, true);
  if (started?.replay) {
    headers["idempotent-replayed"] = "true";
    // ASYNC: the first answer again (202, as created). SYNC and STREAMING: the execution as it is
    // now, 200 when it has ended, else 202 (docs/decisions.md "Foundation and executions engine").
    if (row.mode === "ASYNC") return { executionId: row.id, status: 202, execution: executionView(asCreated(row)), headers };
  } else if (stream) {
    return { executionId: row.id, stream: withHeaders(stream, headers) };
  } else if (mode === "SYNC") {
    req.keepOpen();
    const seconds = wait ?? Math.min(60, ctx.config.syncWaitMaxSeconds);
    headers["preference-applied"] = `wait=${seconds}`;
    if (!store.isTerminal(row.status)) row = watch ? await watch.wait(seconds * 1000) : await waitForTerminal(ctx, row.id, seconds * 1000);
  }
  // An ASYNC create is answered as created, whether or not its run has started meanwhile: the
  // same body as an idempotent replay gives. A cache hit was created finished.
  const shown = mode === "ASYNC" && !started?.replay && !store.isTerminal(row.status) ? asCreated(row) : row;
  return { executionId: row.id, status: store.isTerminal(row.status) ? 200 : 202, execution: executionView(shown), headers };
}

const withHeaders = (response: Response, headers: Record<string, string>) => {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
};

/** The row if it is the caller's, else 404 for an unknown, malformed or foreign id. */
function ownedBy<R extends { orgId: string }>(caller: Caller, id: string, row: R | undefined): R {
  if (!row || row.orgId !== caller.orgId) throw new AppError("NOT_FOUND", `No execution ${id}.`);
  return row;
}

/** The caller's execution, or 404 for an unknown, malformed or foreign id. */
export const find = (ctx: AppContext, caller: Caller, id: string): store.ExecutionRow => ownedBy(caller, id, store.byId(ctx.db, id));

export function list(ctx: AppContext, caller: Caller, query: ExecutionModel.listQuery) {
  const page = pageRequest(query);
  return toList(store.page(ctx.db, caller.orgId, page, { status: query.status, model: query.model }), page, executionView);
}

export function result(ctx: AppContext, caller: Caller, id: string) {
  const row = ownedBy(caller, id, store.resultById(ctx.db, id));
  if (!store.isTerminal(row.status))
    throw new AppError("EXECUTION_NOT_FINISHED", `The execution is ${row.status}; poll GET /v1/executions/${id} until it is terminal.`, [
      { field: "status", code: row.status, message: `Current status: ${row.status}.` },
    ], { "retry-after": "2" });
  return resultView(row);
}

/** Cancels a non-terminal execution; 409 CONFLICT with the status when it has already ended. */
export async function cancel(ctx: AppContext, caller: Caller, id: string) {
  const row = find(ctx, caller, id);
  const conflict = (status: string) =>
    new AppError("CONFLICT", `The execution is already ${status} and cannot be cancelled.`, [
      { field: "status", code: status, message: `Current status: ${status}.` },
    ]);
  if (store.isTerminal(row.status)) throw conflict(row.status);
  const running = ctx.running.get(id);
  if (running && row.status === "PROCESSING") {
    // The run in this process ends it, charging what the provider produced until now.
    running.abort(new CancelRequested());
    const settled = await waitForTerminal(ctx, id, CANCEL_HANDOFF_MS);
    if (settled.status === "CANCELLED") return settled;
    if (store.isTerminal(settled.status)) throw conflict(settled.status);
  } else if (ctx.replicas && row.status === "PROCESSING") {
    // Another replica may be running it: the same hand-off, through it.
    ctx.replicas.cancelRequested(id);
    const settled = await waitForTerminal(ctx, id, CANCEL_HANDOFF_MS);
    if (settled.status === "CANCELLED") return settled;
    if (store.isTerminal(settled.status)) throw conflict(settled.status);
  }
  const now = ctx.clock.now();
  // A call not running here (queued, awaiting an upstream, or a slow abort): nothing was produced that we can count.
  const moved = await ctx.writer.run((tx) => {
    const t = State.transition(tx, id, "CANCELLED", now, { errorCode: "CANCELLED", errorMessage: "The execution was cancelled by request.", costMicros: 0 }, { metrics: ctx.metrics });
    // An asynchronous upstream holding the job is told, durably, after the commit.
    if (t && row.status === "AWAITING_WEBHOOK") ctx.scheduler.enqueue(tx, CANCEL_UPSTREAM_JOB, { executionId: id }, { maxAttempts: 5 });
    return t;
  });
  if (!moved) throw conflict(store.byId(ctx.db, id)!.status);
  ctx.running.get(id)?.abort(new CancelRequested());
  announce(ctx, moved);
  return moved.row;
}

/** After a committed transition: wakes SYNC waiters and streams, and the outbox dispatcher. */
export function announce(ctx: AppContext, moved: State.Transitioned) {
  ctx.bus.publish(moved.row.id, { type: "status", status: moved.row.status, seq: moved.seq, at: moved.at, row: moved.row });
  ctx.replicas?.statusChanged(moved.row.id, moved.row.status, moved.seq, moved.at);
  if (moved.eventId) ctx.scheduler.wake(DISPATCH_JOB);
}

/** RFC 7240 `Prefer: wait` / `wait=N` → seconds, or null when absent. */
export function preferredWait(header: string | undefined, maxSeconds: number): number | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const [name, value] = part.trim().split("=").map((s) => s.trim());
    if (name?.toLowerCase() !== "wait") continue;
    if (value === undefined || value === "") return Math.min(60, maxSeconds);
    const n = Number(value.replace(/^"|"$/g, ""));
    if (!Number.isInteger(n) || n < 0) throw new AppError("INPUT_VALIDATION_ERROR", "Prefer: wait=N takes whole seconds.", [
      { field: "Prefer", code: "invalid_format", message: "Use Prefer: wait or Prefer: wait=N with N in seconds." },
    ]);
    return Math.min(n, maxSeconds);
  }
  return null;
}

export { executionView, resultView };
export { waitForTerminal, watchTerminal, type TerminalWatch } from "./wait";

/** Billable usage of an org per day or model (for /v1/usage; the ledger module shapes it). */
export const usageTotals = (ctx: Pick<AppContext, "db">, orgId: string, fromMs: number, toMs: number, groupBy: store.UsageGroupBy) =>
  store.usageTotals(ctx.db, orgId, fromMs, toMs, groupBy);

/** Executions of the whole installation by status (the operator's stats). */
export const countByStatus = (ctx: Pick<AppContext, "db">) => store.countByStatus(ctx.db);
