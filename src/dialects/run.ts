/**
 * One execution for a request in a client dialect (OpenAI, Anthropic, …): the same create as
 * `POST /v1/executions` (validation, guardrails, limits, hold, idempotency), then either the
 * finished row or its canonical stream. A stream is handed over only once its first event or its
 * end is known, so a call that fails before any content is answered as a plain error with the
 * right status, as the SDKs expect. A client that goes away cancels the execution: the upstream
 * call is aborted and what it produced is charged. A replayed Idempotency-Key answers the
 * finished execution again, as a whole stream when one is asked for.
 */
import { textOf, type ChatOutput } from "../canonical/chat";
import type { StreamEvent } from "../canonical/stream";
import type { AppContext } from "../context";
import type { Tx } from "../db/client";
import { AppError } from "../errors";
import * as Idempotency from "../http/idempotency";
import { addResponseHeader } from "../http/response-headers";
import * as Cache from "../modules/cache/service";
import * as Catalog from "../modules/catalog/service";
import type { BusEvent } from "../modules/executions/bus";
import type { RoutePreferences } from "../providers/preferences";
import * as Executions from "../modules/executions/service";
import { failureHeadersOf } from "../modules/executions/finish";
import { isTerminal, type ExecutionRow } from "../modules/executions/store";
import type { Caller } from "../modules/keys/service";

export type DialectRequest = {
  model: string;
  input: Record<string, unknown>;
  request: Request;
  /** The route's path, for the Idempotency-Key's scope. */
  path: string;
  idempotencyKey?: string;
  /** Which surface created it, kept in the execution's metadata. */
  dialect: string;
  /** The caller's preferences among the model's routes (OpenRouter's `provider`). */
  routing?: RoutePreferences;
  /** Models tried after `model`'s in the same execution (OpenRouter's `models`). */
  fallbacks?: string[];
  /** Runs in the create transaction (a stored response written with its execution). */
  inTransaction?: (tx: Tx, executionId: string) => void;
  /** Stores the files the request carried and gives their input fields; not called for a replay. */
  uploads?: () => Promise<Record<string, unknown>>;
};

export type StreamItem = { kind: "event"; event: StreamEvent } | { kind: "end"; row: ExecutionRow };

export type DialectStream = {
  executionId: string;
  /** The execution as it was created (for what a stream's opening shows). */
  created?: ExecutionRow;
  /** The model streaming the answer, once its first event is in (an alias's or a fallback list's model). */
  servedModel: string;
  /** Canonical events as they come, then the finished row. */
  items: AsyncIterable<StreamItem>;
  /** The client went away: stop the execution (charging what was produced). */
  abandon(): void;
};

async function begin(ctx: AppContext, caller: Caller, req: DialectRequest, mode: ExecutionRow["mode"], beforeStart?: (id: string) => void) {
  const started = Idempotency.begin(ctx, caller.orgId, req.request, req.path, req.idempotencyKey);
  try {
    if (started?.replay) return { row: Executions.find(ctx, caller, started.replay.resourceId!), replayed: true };
    const input = req.uploads ? { ...req.input, ...(await req.uploads()) } : req.input;
    const body = { model: req.model, input, metadata: { dialect: req.dialect } };
    const cache = Cache.requestPolicy(req.request.headers);
    const row = await Executions.create(ctx, caller, body, mode, { idempotency: started?.claim, beforeStart, routing: req.routing, fallbacks: req.fallbacks, inTransaction: req.inTransaction, cache });
    const header = Cache.cacheHeaderOf(row);
    if (header) addResponseHeader(req.request, Cache.CACHE_HEADER, header);
    return { row, replayed: false };
  } finally {
    started?.release();
  }
}

/** Queues the execution and returns it at once (a background response), or the one an Idempotency-Key already made. */
export async function runInBackground(ctx: AppContext, caller: Caller, req: DialectRequest): Promise<ExecutionRow> {
  return (await begin(ctx, caller, req, "ASYNC")).row;
}

const waitMs = (ctx: AppContext) => ctx.config.syncWaitMaxSeconds * 1000;

/** The finished execution (or a 504 naming it, when it outlives the longest wait). */
export async function runToEnd(ctx: AppContext, caller: Caller, req: DialectRequest): Promise<ExecutionRow> {
  // Watched from before the run starts: its end is never missed, and never read back.
  let watch: Executions.TerminalWatch | undefined;
  const { row } = await begin(ctx, caller, req, "SYNC", (id) => (watch = Executions.watchTerminal(ctx, id)));
  const done = isTerminal(row.status) ? row : watch ? await watch.wait(waitMs(ctx)) : await Executions.waitForTerminal(ctx, row.id, waitMs(ctx));
  if (!isTerminal(done.status))
    throw new AppError("GENERATION_TIMEOUT", `The execution ${row.id} is still running; look it up in /v1/executions/${row.id}.`);
  return done;
}

/** The completed execution; the error its dialect renders when it ended otherwise. */
export async function runCompleted(ctx: AppContext, caller: Caller, req: DialectRequest): Promise<ExecutionRow> {
  const row = await runToEnd(ctx, caller, req);
  if (row.status !== "COMPLETED") throw errorOf(row);
  return row;
}

/** Canonical events of a finished output, for a replay asked as a stream. */
function replayEvents(row: ExecutionRow): StreamItem[] {
  const output = (row.output ?? {}) as Partial<ChatOutput> & { text?: string };
  const items: StreamItem[] = [];
  const parts = output.message?.content ?? (output.text ? [{ type: "text" as const, text: output.text }] : []);
  parts.forEach((part, index) => {
    if (part.type === "text") items.push({ kind: "event", event: { type: "text_delta", index, text: part.text } });
    else if (part.type === "thinking") items.push({ kind: "event", event: { type: "thinking_delta", index, thinking: part.thinking } });
    else if (part.type === "tool_use") {
      items.push({ kind: "event", event: { type: "tool_call_start", index, id: part.id, name: part.name } });
      items.push({ kind: "event", event: { type: "tool_call_delta", index, arguments: JSON.stringify(part.input) } });
    }
  });
  if (parts.length === 0 && typeof output.text === "string") items.push({ kind: "event", event: { type: "text_delta", index: 0, text: textOf(output.text) } });
  items.push({ kind: "end", row });
  return items;
}

/**
 * An existing execution as a stream (a stored response retrieved with `stream=true`): its
 * output replayed once it has ended, waited for first while it runs. A run still going after
 * the longest wait ends the stream without an end.
 */
export function replayStream(ctx: AppContext, row: ExecutionRow): DialectStream {
  async function* items(): AsyncGenerator<StreamItem> {
    const done = isTerminal(row.status) ? row : await Executions.waitForTerminal(ctx, row.id, waitMs(ctx));
    if (isTerminal(done.status)) yield* replayEvents(done);
  }
  return { executionId: row.id, servedModel: row.servedModel ?? row.model, items: items(), abandon() {} };
}

/**
 * Starts a STREAMING execution and resolves once its first event or its end is known. Throws
 * the execution's error when it ended without content (the caller answers it as a plain error).
 */
export async function runStreaming(ctx: AppContext, caller: Caller, req: DialectRequest): Promise<DialectStream> {
  const queue: StreamItem[] = [];
  let wake: (() => void) | null = null;
  let unsubscribe = () => {};
  let executionId = "";
  let servedModel = req.model;
  const push = (item: StreamItem) => {
    queue.push(item);
    wake?.();
  };
  const subscribe = (id: string) => {
    executionId = id;
    unsubscribe = ctx.bus.subscribe(id, (event: BusEvent) => {
      if (event.type === "stream") push({ kind: "event", event: event.event });
      else if (event.type === "serving") servedModel = event.model;
      else if (event.type === "status" && isTerminal(event.status as ExecutionRow["status"])) push({ kind: "end", row: event.row ?? Executions.find(ctx, caller, id) });
      else if (event.type === "shutdown") push({ kind: "end", row: Executions.find(ctx, caller, id) });
    });
  };
  const { row, replayed } = await begin(ctx, caller, req, "STREAMING", subscribe);
  // A replay, or a cache hit (created finished): the stored answer, streamed.
  if (replayed || isTerminal(row.status)) {
    const done = isTerminal(row.status) ? row : await Executions.waitForTerminal(ctx, row.id, waitMs(ctx));
    queue.push(...replayEvents(done));
    executionId = row.id;
  }
  if (isTerminal(row.status)) servedModel = servedModelOf(row);
  const next = async (): Promise<StreamItem> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    return queue.shift()!;
  };
  const first = await next();
  if (first.kind === "end") {
    unsubscribe();
    if (first.row.status !== "COMPLETED") throw errorOf(first.row);
  }
  let ended = first.kind === "end";
  async function* items(): AsyncGenerator<StreamItem> {
    try {
      yield first;
      while (!ended) {
        const item = await next();
        if (item.kind === "end") ended = true;
        yield item;
      }
    } finally {
      unsubscribe();
    }
  }
  return {
    executionId,
    created: row,
    get servedModel() {
      return servedModel;
    },
    items: items(),
    abandon() {
      if (ended) return;
      unsubscribe();
      Executions.cancel(ctx, caller, executionId).catch(() => {}); // already finished: nothing to stop
      push({ kind: "end", row: Executions.find(ctx, caller, executionId) }); // ends the reader's wait
    },
  };
}

/** The model that answered an execution (one of an alias's), or the one it names while none has. */
export const servedModelOf = (row: ExecutionRow) => row.servedModel ?? row.model;

/** A finished execution that did not complete, as the error its dialect renders. */
export function errorOf(row: ExecutionRow): AppError {
  if (row.status === "CANCELLED") return new AppError("CONFLICT", `The execution ${row.id} was cancelled.`);
  const code = (row.errorCode ?? "GENERATION_FAILED") as ConstructorParameters<typeof AppError>[0];
  // The gateway has spent its retries: the SDKs must not add theirs. A wait an upstream named
  // (Retry-After) is passed on for the application to back off by.
  return new AppError(code, row.errorMessage ?? "The provider failed.", [], { ...failureHeadersOf(row), "x-should-retry": "false" });
}

/** The catalog model a dialect request names, of the task the endpoint serves; 404 as the SDKs expect for an unknown one. */
export function modelFor(ctx: AppContext, slug: unknown, tasks: readonly string[], endpoint: string) {
  if (typeof slug !== "string" || slug === "") throw new AppError("INPUT_VALIDATION_ERROR", "model is required.", [{ field: "model", code: "required", message: "model is required." }]);
  const model = Catalog.findCallable(ctx.db, slug);
  if (!model) throw new AppError("NOT_FOUND", `The model ${slug} does not exist; GET /v1/models lists them.`, [{ field: "model", code: "not_found", message: `No model ${slug}.` }]);
  if (!tasks.includes(model.task))
    throw new AppError("INPUT_VALIDATION_ERROR", `The model ${slug} is a ${model.task} model; ${endpoint} needs a ${tasks.join(" or ")} model.`, [{ field: "model", code: "unsupported", message: `${slug} is a ${model.task} model.` }]);
  return model;
}
