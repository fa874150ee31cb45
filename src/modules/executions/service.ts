/**
 * Executions: POST /v1/executions end to end (mode, Idempotency-Key, the answer of the mode),
 * read, list, result, cancel, and waiting for a terminal status. The create transaction is
 * create.ts's; status changes go through state.ts, money through the ledger.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import { pageRequest, toList } from "../../http/pagination";
import * as Cache from "../cache/service";
import type { Caller } from "../keys/service";
import * as Idempotency from "../../http/idempotency";
import type { ExecutionModel } from "./model";
import { announce } from "./announce";
import { CancelRequested } from "./cancel-request";
import { create } from "./create";
import * as State from "./state";
import * as store from "./store";
import { executionStream } from "./stream";
import { waitForTerminal, watchTerminal, type TerminalWatch } from "./wait";
import { asCreated, executionView, resultView } from "./view";

/** Kind of the job that forwards a cancel to an asynchronous upstream (handled in async.ts). */
const CANCEL_UPSTREAM_JOB = "execution.cancel-upstream";
/** How long a cancel waits for the running call to stop and settle before it settles alone. */
const CANCEL_HANDOFF_MS = 5_000;

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
export { announce } from "./announce";
export { create, RUN_JOB, type CreateOptions } from "./create";
export { waitForTerminal, watchTerminal, type TerminalWatch } from "./wait";

/** Billable usage of an org per day or model (for /v1/usage; the ledger module shapes it). */
export const usageTotals = (ctx: Pick<AppContext, "db">, orgId: string, fromMs: number, toMs: number, groupBy: store.UsageGroupBy) =>
  store.usageTotals(ctx.db, orgId, fromMs, toMs, groupBy);

/** Executions of the whole installation by status (the operator's stats). */
export const countByStatus = (ctx: Pick<AppContext, "db">) => store.countByStatus(ctx.db);
