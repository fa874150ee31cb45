/**
 * Batches (docs/batches.md): OpenAI's Batch API over an uploaded JSONL file, and Anthropic's
 * Message Batches over the requests of the create body, on one machinery. Owns the batches
 * and batch_lines tables. Invariants: a batch's counters equal its lines' outcomes; a line has
 * at most one execution, ever; a batch ends only once every line has ended, and then never
 * changes again. Lines run as executions (lines.ts), so holds, charges and limits are the
 * executions engine's and the ledger's.
 */
import { publicUrl, type AppContext } from "../../context";
import { ANTHROPIC_MESSAGES, OPENAI_BATCH_ENDPOINTS } from "../../dialects/batch-endpoints";
import { AppError, invalidField } from "../../errors";
import { isId, newId } from "../../ids";
import * as Files from "../files/service";
import type { Caller } from "../keys/service";
import { EXPIRE_JOB, expireJobKey, finalizeIfDone, FINALIZE_JOB, LINE_JOB, stopRemaining } from "./lines";
import * as store from "./store";
import type { BatchRow } from "./store";
import { anthropicBatchView, openaiBatchView } from "./view";

export const VALIDATE_JOB = "batch.validate";

const WINDOW_MS = 24 * 3600_000;
/** Anthropic's limit of requests in one Message Batch. */
export const MAX_ANTHROPIC_REQUESTS = 100_000;
const CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;

export type OpenAICreate = { input_file_id: string; endpoint: string; completion_window: string; metadata?: Record<string, string> | null; output_expires_after?: unknown };
export type AnthropicCreate = { requests: { custom_id: string; params: Record<string, unknown> }[] };

const notFound = (id: string) => new AppError("NOT_FOUND", `No batch ${id}.`);

function newBatch(ctx: AppContext, caller: Caller, fields: Pick<BatchRow, "id" | "dialect" | "endpoint" | "status" | "inputFileId" | "metadata">): BatchRow {
  const now = ctx.clock.now();
  return {
    ...fields,
    orgId: caller.orgId,
    caller: caller as unknown as Record<string, unknown>,
    completionWindow: "24h",
    errors: null,
    outputFileId: null,
    errorFileId: null,
    discountPercent: ctx.config.batchDiscountPercent,
    total: 0,
    succeeded: 0,
    errored: 0,
    canceled: 0,
    expired: 0,
    createdAt: now,
    expiresAt: now + WINDOW_MS,
    inProgressAt: fields.status === "in_progress" ? now : null,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    deletedAt: null,
  };
}

/** `POST /v1/batches`: checks the body and the input file, then queues the file's validation. */
export async function createOpenAI(ctx: AppContext, caller: Caller, body: OpenAICreate) {
  if (!(body.endpoint in OPENAI_BATCH_ENDPOINTS))
    throw invalidField("endpoint", "unsupported", `endpoint must be one of ${Object.keys(OPENAI_BATCH_ENDPOINTS).join(", ")}.`);
  if (body.completion_window !== "24h") throw invalidField("completion_window", "unsupported", 'completion_window must be "24h".');
  const file = await Files.visibleFile(ctx, caller.orgId, body.input_file_id).catch((error: unknown) => {
    throw error instanceof AppError && error.code === "NOT_FOUND" ? new AppError("NOT_FOUND", `No file ${body.input_file_id}.`, [{ field: "input_file_id", code: "not_found", message: "No such file." }]) : error;
  });
  if (file.purpose !== "batch") throw invalidField("input_file_id", "invalid_format", `The file ${file.id} was not uploaded with purpose "batch".`);
  const batch = newBatch(ctx, caller, { id: newId("batch"), dialect: "openai", endpoint: body.endpoint, status: "validating", inputFileId: file.id, metadata: body.metadata ?? null });
  ctx.db.transaction((tx) => {
    store.insertBatch(tx, batch);
    ctx.scheduler.enqueue(tx, VALIDATE_JOB, { batchId: batch.id }, { uniqueKey: `${VALIDATE_JOB}:${batch.id}`, maxAttempts: 10 });
    ctx.scheduler.enqueue(tx, EXPIRE_JOB, { batchId: batch.id }, { runAt: batch.expiresAt, uniqueKey: expireJobKey(batch.id), maxAttempts: 20 });
  });
  ctx.scheduler.wake(VALIDATE_JOB);
  return openaiBatchView(batch);
}

/**
 * `POST /v1/messages/batches`: the requests are checked in the create (custom ids), each one's
 * `params` by the Messages parser; a request it refuses is an `errored` result from the start,
 * as on Anthropic. The rest are queued at once.
 */
export function createAnthropic(ctx: AppContext, caller: Caller, body: AnthropicCreate) {
  if (body.requests.length === 0) throw invalidField("requests", "too_short", "requests: at least one request is required");
  if (body.requests.length > MAX_ANTHROPIC_REQUESTS) throw invalidField("requests", "too_long", `requests: at most ${MAX_ANTHROPIC_REQUESTS} requests`);
  const seen = new Set<string>();
  body.requests.forEach((r, i) => {
    if (!CUSTOM_ID.test(r.custom_id)) throw invalidField(`requests[${i}].custom_id`, "invalid_format", `requests.${i}.custom_id: 1–64 letters, digits, _ or -`);
    if (seen.has(r.custom_id)) throw invalidField(`requests[${i}].custom_id`, "invalid_format", `requests.${i}.custom_id: duplicate custom_id ${r.custom_id}`);
    seen.add(r.custom_id);
  });
  const batch = newBatch(ctx, caller, { id: newId("msgbatch"), dialect: "anthropic", endpoint: "/v1/messages", status: "in_progress", inputFileId: null, metadata: null });
  batch.total = body.requests.length;
  const lines = body.requests.map((r, i) => {
    try {
      const request = ANTHROPIC_MESSAGES.parse(ctx, r.params);
      return { batchId: batch.id, line: i + 1, customId: r.custom_id, model: request.model, input: request as unknown as Record<string, unknown> };
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      const rendered = ANTHROPIC_MESSAGES.error(error, "req_unknown");
      return { batchId: batch.id, line: i + 1, customId: r.custom_id, model: String(r.params?.model ?? ""), input: {}, outcome: "errored" as const, statusCode: rendered.status, result: { type: "errored", error: rendered.body } };
    }
  });
  batch.errored = lines.filter((l) => "outcome" in l).length;
  const queued = ctx.db.transaction((tx) => {
    store.insertBatch(tx, batch);
    for (let i = 0; i < lines.length; i += 500) store.insertLines(tx, lines.slice(i, i + 500));
    for (const line of lines) if (!("outcome" in line)) ctx.scheduler.enqueue(tx, LINE_JOB, { batchId: batch.id, line: line.line }, { uniqueKey: `${LINE_JOB}:${batch.id}:${line.line}`, maxAttempts: 1000 });
    ctx.scheduler.enqueue(tx, EXPIRE_JOB, { batchId: batch.id }, { runAt: batch.expiresAt, uniqueKey: expireJobKey(batch.id), maxAttempts: 20 });
    return finalizeIfDone(ctx, tx, batch);
  });
  ctx.scheduler.wake(queued ? FINALIZE_JOB : LINE_JOB);
  return anthropicBatchView(batch, publicUrl(ctx));
}

/** The org's batch of this surface, or 404 (unknown, malformed, foreign, deleted or of the other surface). */
export function find(ctx: AppContext, orgId: string, id: string, dialect: BatchRow["dialect"]): BatchRow {
  if (!isId(dialect === "openai" ? "batch" : "msgbatch", id)) throw notFound(id);
  const batch = store.batchById(ctx.db, id);
  if (!batch || batch.orgId !== orgId || batch.dialect !== dialect) throw notFound(id);
  return batch;
}

export const getOpenAI = (ctx: AppContext, orgId: string, id: string) => openaiBatchView(find(ctx, orgId, id, "openai"));
export const getAnthropic = (ctx: AppContext, orgId: string, id: string) => anthropicBatchView(find(ctx, orgId, id, "anthropic"), publicUrl(ctx));

function checkCursor(field: string, cursor: string | undefined, dialect: BatchRow["dialect"]) {
  if (cursor !== undefined && !isId(dialect === "openai" ? "batch" : "msgbatch", cursor)) throw invalidField(field, "invalid_format", `${field} must be the id of a batch from a previous page.`);
}

/** OpenAI's list: newest first, `after` an id, `limit` 1–100 (default 20). */
export function listOpenAI(ctx: AppContext, orgId: string, query: { after?: string; limit?: number }) {
  checkCursor("after", query.after, "openai");
  const limit = query.limit ?? 20;
  const rows = store.listBatches(ctx.db, orgId, { dialect: "openai", limit, after: query.after });
  const data = rows.slice(0, limit).map(openaiBatchView);
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
}

/** Anthropic's list: newest first, `after_id` or `before_id`, `limit` 1–1000 (default 20). */
export function listAnthropic(ctx: AppContext, orgId: string, query: { after_id?: string; before_id?: string; limit?: number }) {
  if (query.after_id && query.before_id) throw invalidField("before_id", "invalid_format", "Use after_id or before_id, not both.");
  checkCursor("after_id", query.after_id, "anthropic");
  checkCursor("before_id", query.before_id, "anthropic");
  const limit = query.limit ?? 20;
  const rows = store.listBatches(ctx.db, orgId, { dialect: "anthropic", limit, after: query.after_id, before: query.before_id });
  const page = query.before_id ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
  const base = publicUrl(ctx);
  const data = page.map((b) => anthropicBatchView(b, base));
  return { data, has_more: rows.length > limit, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/**
 * Cancels a batch that is validating or running: → cancelling, lines not started end
 * `canceled` at once, running executions are cancelled (their holds released). It reaches
 * `cancelled` once every line has ended. 409 once it is finalizing or has ended.
 */
export async function cancel(ctx: AppContext, caller: Caller, id: string, dialect: BatchRow["dialect"]): Promise<BatchRow> {
  const batch = find(ctx, caller.orgId, id, dialect);
  const moved = store.moveBatch(ctx.db, id, ["validating", "in_progress"], "cancelling", { cancellingAt: ctx.clock.now() });
  if (!moved) {
    if (batch.status === "cancelling") return batch;
    throw new AppError("CONFLICT", `The batch is ${batch.status} and cannot be cancelled.`, [{ field: "status", code: batch.status, message: `Current status: ${batch.status}.` }]);
  }
  await stopRemaining(ctx, moved, "canceled");
  return store.batchById(ctx.db, id)!;
}

/** Anthropic's delete: only an ended batch; its results file goes with it. */
export async function remove(ctx: AppContext, orgId: string, id: string) {
  const batch = find(ctx, orgId, id, "anthropic");
  if (!store.isEnded(batch.status))
    throw new AppError("CONFLICT", "A message batch can be deleted only once it has ended; cancel it first.", [{ field: "status", code: batch.status, message: `Current status: ${batch.status}.` }]);
  store.markDeleted(ctx.db, id, ctx.clock.now());
  if (batch.outputFileId) await Files.deleteFile(ctx, orgId, batch.outputFileId).catch((error: unknown) => {
    if (!(error instanceof AppError && error.code === "NOT_FOUND")) throw error; // deleted through /v1/files already
  });
  return { id, type: "message_batch_deleted" as const };
}

/** Anthropic's results: the JSONL file written when the batch ended. */
export async function results(ctx: AppContext, orgId: string, id: string) {
  const batch = find(ctx, orgId, id, "anthropic");
  if (!batch.outputFileId)
    throw new AppError("NOT_FOUND", `The batch ${id} has no results yet: it is ${anthropicBatchView(batch, "").processing_status}.`);
  return Files.downloadWhole(ctx, orgId, batch.outputFileId);
}
