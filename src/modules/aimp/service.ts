/**
 * AIMP-compatible runs (docs/compatibility.md "AIMP gateway"). A run is an execution: created
 * by the executions service (validation, guardrails, limits, hold, charge), listed in
 * `/v1/executions`, polled at `GET /api/runs/{id}`. This module owns only what a run adds,
 * one `aimp_runs` row written in the execution's create transaction: its mode, its scope and,
 * once the embedding is done, what an `index` or `search` run did with it.
 *
 * Settling (storing the vector, or searching with it) happens when the run is first seen
 * COMPLETED, by the create that waited for it or by a later poll; the result is recorded once
 * (guarded update), and re-indexing an item id is a replacement, so settling twice is harmless.
 */
import type { AppContext } from "../../context";
import { AppError, invalidFields, type FieldIssue } from "../../errors";
import { newId } from "../../ids";
import * as Catalog from "../catalog/service";
import * as Executions from "../executions/service";
import { isTerminal, type ExecutionRow } from "../executions/store";
import type { Caller } from "../keys/service";
import * as Vectors from "../vectors/service";
import { parseVectorRequest, unwrapInput, type RunMode, type RunRequest, type VectorRequest } from "./request";
import * as store from "./store";

/** How long a create waits for the run to finish when `options.wait` is not given. */
export const DEFAULT_WAIT_SECONDS = 60;
const INPUT_REF_TEXT_MAX = 1000;

export const modesOf = (model: Catalog.Model): RunMode[] => (model.task === "embedding" ? ["execute", "index", "search"] : ["execute"]);

/** The model input an index or search run gives the embedding model. */
function embeddingInput(model: Catalog.Model, v: VectorRequest): Record<string, unknown> {
  const takesImages = Catalog.fileFields(model).includes("image");
  if (v.mediaRef !== null && !takesImages)
    throw invalidFields([{ field: "input.image", code: "unsupported", message: `${model.slug} embeds text only; index images with a model that embeds images.` }]);
  const input: Record<string, unknown> = { ...v.modelParams };
  if (v.text !== null) input.input = v.text;
  if (v.mediaRef !== null) input.image = v.mediaRef;
  return input;
}

/** Execute input: the model's input with `params` beside it (one field given in both is refused). */
function executeInput(req: RunRequest): Record<string, unknown> {
  const input = unwrapInput(req.input);
  const clashes: FieldIssue[] = Object.keys(req.params)
    .filter((k) => k in input)
    .map((k) => ({ field: `params.${k}`, code: "invalid_format", message: `${k} is given in input too; give it once.` }));
  if (clashes.length) throw invalidFields(clashes);
  return { ...input, ...req.params };
}

function runRequestRow(req: RunRequest, v: VectorRequest | null): Record<string, unknown> | null {
  if (!v) return null;
  if (req.mode === "search") return { top_k: v.topK, filter: v.filter };
  const inputRef: Record<string, unknown> = {};
  if (v.text !== null) inputRef.text = v.text.slice(0, INPUT_REF_TEXT_MAX);
  if (v.mediaRef !== null) inputRef.media_ref = v.mediaRef;
  return { metadata: v.metadata, input_ref: inputRef };
}

/** Creates the run and waits for it up to `options.wait` seconds; the run as it then stands. */
export async function createRun(ctx: AppContext, caller: Caller, req: RunRequest) {
  const model = Catalog.resolveModel(ctx.db, req.model);
  let input: Record<string, unknown>;
  let vector: VectorRequest | null = null;
  if (req.mode === "execute") input = executeInput(req);
  else {
    if (!modesOf(model).includes(req.mode as RunMode))
      throw invalidFields([{ field: "mode", code: "unsupported", message: `${model.slug} is a ${model.task} model; it supports ${modesOf(model).join(", ")}. index and search need an embedding model.` }]);
    vector = parseVectorRequest(req);
    input = embeddingInput(model, vector);
  }
  const itemId = req.mode === "index" ? (vector!.itemId ?? newId("item")) : null;
  const now = ctx.clock.now();
  const body = { model: model.slug, input, metadata: { dialect: "aimp", ...req.options.metadata }, webhook_url: req.options.webhook_url };
  const created = await Executions.create(ctx, caller, body, "SYNC", {
    inTransaction: (tx, executionId) =>
      store.insertRun(tx, { executionId, orgId: caller.orgId, mode: req.mode, scope: req.scope, itemId, request: runRequestRow(req, vector), createdAt: now }),
  });
  const waitMs = Math.min(req.options.wait ?? DEFAULT_WAIT_SECONDS, ctx.config.syncWaitMaxSeconds) * 1000;
  const row = isTerminal(created.status) || waitMs === 0 ? created : await Executions.waitForTerminal(ctx, created.id, waitMs);
  const run = store.runOf(ctx.db, caller.orgId, row.id)!;
  const settled = await settle(ctx, run, row);
  const failure = (settled.result as { error?: { code: string; message: string; field?: string } } | null)?.error;
  if (failure?.code === "INPUT_VALIDATION_ERROR")
    throw invalidFields([{ field: failure.field ?? "input", code: "invalid_format", message: `${failure.message} (run ${row.id})` }]);
  return runView(settled, row);
}

/** A run by id (any execution of the organization is a run; those not made here are execute runs). */
export async function getRun(ctx: AppContext, caller: Caller, id: string) {
  const row = Executions.find(ctx, caller, id);
  const run = store.runOf(ctx.db, caller.orgId, id);
  return runView(run ? await settle(ctx, run, row) : null, row);
}

const vectorOf = (row: ExecutionRow): Float32Array | null => {
  const first = (row.output as { embeddings?: number[][] } | null)?.embeddings?.[0];
  return Array.isArray(first) ? Float32Array.from(first) : null;
};

/** Stores an index run's vector or answers a search run, once; the run row as it now is. */
async function settle(ctx: AppContext, run: store.RunRow, row: ExecutionRow): Promise<store.RunRow> {
  // A purged execution has no output left to index or search with: its run stays as retention left it.
  if (run.mode === "execute" || run.result !== null || row.status !== "COMPLETED" || row.purgedAt !== null) return run;
  const vector = vectorOf(row);
  const key = { orgId: run.orgId, model: row.model, scope: run.scope! };
  let result: Record<string, unknown>;
  try {
    if (!vector) throw new AppError("GENERATION_FAILED", "The model returned no embedding.");
    result = run.mode === "index" ? await indexItem(ctx, run, key, vector) : await searchScope(ctx, run, key, vector);
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    result = { error: { code: e.code, message: e.message, field: e.details[0]?.field ?? null } };
    store.settleRun(ctx.db, run.executionId, result);
  }
  return store.runOf(ctx.db, run.orgId, run.executionId) ?? run;
}

async function indexItem(ctx: AppContext, run: store.RunRow, key: Vectors.ScopeKey, vector: Float32Array) {
  const upsert = await Vectors.prepareUpsert(ctx, key, vector.length);
  const request = (run.request ?? {}) as { metadata?: Record<string, unknown>; input_ref?: Record<string, unknown> };
  const now = ctx.clock.now();
  const written = ctx.db.transaction((tx) => {
    if (store.runOf(tx, run.orgId, run.executionId)?.result) return null; // settled by another poll meanwhile
    const done = upsert(tx, { itemId: run.itemId!, vector, metadata: request.metadata ?? {}, inputRef: request.input_ref ?? {}, runId: run.executionId }, now);
    const result = { item_id: run.itemId, scope: key.scope, dimensions: vector.length, replaced: done.replaced };
    store.settleRun(tx, run.executionId, result);
    return { done, result };
  });
  written?.done.apply();
  return written?.result ?? {};
}

async function searchScope(ctx: AppContext, run: store.RunRow, key: Vectors.ScopeKey, vector: Float32Array) {
  const request = (run.request ?? {}) as { top_k?: number; filter?: Vectors.Filter };
  const topK = request.top_k ?? 10;
  const results = await Vectors.search(ctx, key, vector, topK, request.filter);
  const result = { scope: key.scope, top_k: topK, results };
  store.settleRun(ctx.db, run.executionId, result);
  return result;
}

/** The run as the AIMP surface shows it. */
export function runView(run: store.RunRow | null, row: ExecutionRow) {
  const execution = Executions.executionView(row);
  const result = run?.result as ({ error?: { code: string; message: string } } & Record<string, unknown>) | null | undefined;
  const mode = run?.mode ?? "execute";
  const failed = result?.error !== undefined;
  let output: unknown = execution.output;
  if (mode !== "execute") output = failed || !result ? null : result;
  return {
    id: row.id,
    object: "run" as const,
    model: row.model,
    mode,
    scope: run?.scope ?? null,
    status: failed ? ("FAILED" as const) : execution.status,
    output,
    error: failed ? { code: result!.error!.code, message: result!.error!.message } : execution.error,
    usage: execution.usage,
    cost: execution.cost,
    created_at: execution.created_at,
    started_at: execution.started_at,
    completed_at: execution.completed_at,
    latency_ms: execution.latency_ms,
  };
}
