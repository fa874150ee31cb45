/**
 * Running a batch's lines (docs/batches.md): each line is one execution, created when its
 * `batch.line` job runs (that kind's concurrency, MODELROUTE_BATCH_CONCURRENCY, bounds how many
 * lines of all batches are in flight, so interactive calls keep the rest of the workers), held
 * and charged at the batch's discount. The line is tied to its execution in the execution's own
 * create transaction, so a job re-run after a crash waits for that execution instead of making
 * another; the execution engine's crash rule decides whether an interrupted call runs again.
 * A line ends once (a guarded UPDATE), and the one that ends the last line queues the finalizer.
 */
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import { endpointOf, type LineRequest } from "../../dialects/batch-endpoints";
import { errorOf } from "../../dialects/run";
import { AppError } from "../../errors";
import { RetryLater } from "../../scheduler/types";
import * as Catalog from "../catalog/service";
import * as Executions from "../executions/service";
import { isTerminal, type ExecutionRow } from "../executions/store";
import type { Caller } from "../keys/service";
import * as store from "./store";
import type { BatchRow, LineRow, Outcome } from "./store";

export const LINE_JOB = "batch.line";
export const FINALIZE_JOB = "batch.finalize";
export const EXPIRE_JOB = "batch.expire";
/** The one expire job of a batch, due at its `expires_at`; dropped once the batch ends before. */
export const expireJobKey = (batchId: string) => `${EXPIRE_JOB}:${batchId}`;

/** How long a line job waits for its execution before looking again (it always ends: routes time out). */
const WAIT_SLICE_MS = 60_000;

class LineTaken extends Error {}

/** The result kept for a line that never ran, in each surface's words. */
export function notRunResult(batch: BatchRow, outcome: "canceled" | "expired"): Record<string, unknown> {
  if (batch.dialect === "anthropic") return { type: outcome };
  return outcome === "canceled"
    ? { response: null, error: { code: "batch_cancelled", message: "The batch was cancelled before this request ran." } }
    : { response: null, error: { code: "batch_expired", message: "This request could not be executed before the completion window expired." } };
}

/** A line that ran (or was refused at its create) as its result: the response body, or the error in the surface's shape. */
function ranResult(batch: BatchRow, lineRequest: LineRequest, row: ExecutionRow | null, error: AppError | null): { outcome: Outcome; statusCode: number; result: Record<string, unknown> } {
  const endpoint = endpointOf(batch.dialect, batch.endpoint);
  const requestId = row?.id ?? "req_unknown";
  if (row && row.status === "COMPLETED") {
    const body = endpoint.render(row, lineRequest.render);
    return batch.dialect === "anthropic"
      ? { outcome: "succeeded", statusCode: 200, result: { type: "succeeded", message: body } }
      : { outcome: "succeeded", statusCode: 200, result: { response: { status_code: 200, request_id: requestId, body }, error: null } };
  }
  const rendered = endpoint.error(error ?? errorOf(row!), requestId);
  return batch.dialect === "anthropic"
    ? { outcome: "errored", statusCode: rendered.status, result: { type: "errored", error: rendered.body } }
    : { outcome: "errored", statusCode: rendered.status, result: { response: { status_code: rendered.status, request_id: requestId, body: rendered.body }, error: null } };
}

/** Queues the finalizer once every line has ended (called in the transaction that ended lines). */
export function finalizeIfDone(ctx: AppContext, tx: Conn, after: BatchRow | undefined) {
  if (!after) return false;
  const ended = after.succeeded + after.errored + after.canceled + after.expired;
  if (ended < after.total) return false;
  ctx.scheduler.enqueue(tx, FINALIZE_JOB, { batchId: after.id }, { uniqueKey: `${FINALIZE_JOB}:${after.id}`, maxAttempts: 20 });
  return true;
}

function settle(ctx: AppContext, batchId: string, line: number, outcome: Outcome, statusCode: number | null, result: Record<string, unknown>) {
  const queued = ctx.db.transaction((tx) => finalizeIfDone(ctx, tx, store.settleLine(tx, batchId, line, outcome, statusCode, result)));
  if (queued) ctx.scheduler.wake(FINALIZE_JOB);
}

/** Why a line that has not started will never start, or null. */
function notStarting(batch: BatchRow, now: number): "canceled" | "expired" | null {
  if (batch.status === "cancelling" || batch.status === "cancelled") return "canceled";
  if (now >= batch.expiresAt || batch.status === "expired") return "expired";
  return null;
}

async function startExecution(ctx: AppContext, batch: BatchRow, line: LineRow): Promise<string | null> {
  const request = line.input as LineRequest;
  // The model's own batch discount, else the server's (kept on the batch when it was created).
  const discountPercent = Catalog.findModel(ctx.db, request.model)?.pricing.batchDiscountPercent ?? batch.discountPercent;
  try {
    const row = await Executions.create(
      ctx,
      batch.caller as unknown as Caller,
      { model: request.model, input: request.input, metadata: { dialect: batch.dialect, batch_id: batch.id, custom_id: line.customId.slice(0, 512) } },
      "ASYNC",
      {
        discountPercent,
        deadlineAt: batch.expiresAt,
        background: true,
        inTransaction: (tx, executionId) => {
          if (!store.attachExecution(tx, batch.id, line.line, executionId)) throw new LineTaken();
        },
      },
    );
    return row.id;
  } catch (error) {
    if (error instanceof LineTaken) return null; // ended by a cancel or an expiry meanwhile
    if (!(error instanceof AppError)) throw error;
    // The key's concurrency limit: wait for a slot, as the line would have to.
    if (error.code === "RATE_LIMITED") throw new RetryLater(error.message, 1000);
    const ended = ranResult(batch, request, null, error);
    settle(ctx, batch.id, line.line, ended.outcome, ended.statusCode, ended.result);
    return null;
  }
}

/** Waits until the execution has ended; a shutdown hands the job back to the next start. */
async function waitForEnd(ctx: AppContext, executionId: string, signal: AbortSignal): Promise<ExecutionRow> {
  for (;;) {
    const row = await Executions.waitForTerminal(ctx, executionId, WAIT_SLICE_MS);
    if (isTerminal(row.status)) return row;
    if (signal.aborted) throw new RetryLater("shutting down");
  }
}

/** The `batch.line` job: start the line's execution unless the batch stopped, wait for it, record its result. */
export async function runLine(ctx: AppContext, batchId: string, lineNo: number, signal: AbortSignal) {
  let line = store.lineOf(ctx.db, batchId, lineNo);
  const batch = store.batchById(ctx.db, batchId);
  if (!line || line.outcome || !batch) return;
  if (!line.executionId) {
    const stop = notStarting(batch, ctx.clock.now());
    if (stop) return settle(ctx, batchId, lineNo, stop, null, notRunResult(batch, stop));
    if (!(await startExecution(ctx, batch, line))) return;
    line = store.lineOf(ctx.db, batchId, lineNo)!;
  }
  const row = await waitForEnd(ctx, line.executionId!, signal);
  const now = store.batchById(ctx.db, batchId) ?? batch;
  // An execution stopped by the batch's cancel or expiry is that line's outcome, not an error.
  if (row.status === "CANCELLED" || row.status === "EXPIRED") {
    const stop = notStarting(now, ctx.clock.now());
    if (stop) return settle(ctx, batchId, lineNo, stop, null, notRunResult(batch, stop));
  }
  const ended = ranResult(batch, line.input as LineRequest, row, null);
  settle(ctx, batchId, lineNo, ended.outcome, ended.statusCode, ended.result);
}

/**
 * Stops a batch's remaining lines with `outcome` (a cancel or an expiry): lines not started end
 * at once, running executions are cancelled (their holds released; their line jobs record them).
 */
export async function stopRemaining(ctx: AppContext, batch: BatchRow, outcome: "canceled" | "expired") {
  const queued = ctx.db.transaction((tx) => finalizeIfDone(ctx, tx, store.settleUnstarted(tx, batch.id, outcome, notRunResult(batch, outcome))));
  if (queued) ctx.scheduler.wake(FINALIZE_JOB);
  const caller = batch.caller as unknown as Caller;
  for (const executionId of store.runningExecutions(ctx.db, batch.id)) {
    try {
      await Executions.cancel(ctx, caller, executionId);
    } catch (error) {
      // Ended on its own meanwhile: its line job records what it did.
      if (!(error instanceof AppError && error.code === "CONFLICT")) throw error;
    }
  }
}
