/**
 * Scheduler handlers of executions: run one (PENDING → PROCESSING → terminal, or
 * AWAITING_WEBHOOK when an asynchronous upstream took it: async.ts), sweep overdue ones to
 * EXPIRED, purge old inputs and outputs. Re-runs happen (at-least-once), so each
 * handler starts from the execution's current status.
 */
import { linkedSignal } from "../../abort";
import type { AppContext } from "../../context";
import type { Tx } from "../../db/client";
import * as Idempotency from "../../http/idempotency";
import type { ProviderResult } from "../../providers/types";
import type { Job, JobHandler } from "../../scheduler/types";
import * as Semantic from "../cache/semantic";
import * as Cache from "../cache/service";
import * as Catalog from "../catalog/service";
import * as Files from "../files/service";
import { estimateTokens } from "../../canonical/usage";
import type { StreamEvent } from "../../canonical/stream";
import * as Ledger from "../ledger/service";
import { awaitUpstream, callbackUrl, newCallbackToken } from "./async";
import { CancelRequested } from "./cancel-request";
import { candidatesOfRow, fallsThrough, type Candidate } from "./candidates";
import type * as State from "./state";
import { answerHeadersOf, complete, failure, move } from "./finish";
import * as store from "./store";
import { DAY_MS } from "../../time";

const SWEEP_BATCH = 500;
/** Tasks whose output is tokens bounded by `max_tokens`. */
const OUTPUT_BOUNDED_TASKS = new Set(["chat", "text-generation"]);
const PURGE_BATCH = 1000;

/**
 * A stream that ended early (cancelled, or broken after content) is charged what it produced,
 * counted here (the upstream sent no usage), and keeps the text the caller already received.
 */
function chargeSoFar(model: Catalog.Model, row: store.ExecutionRow, produced: StreamEvent[]): State.Patch {
  const input = row.input ?? {};
  const content = produced.map((e) => (e.type === "text_delta" ? e.text : e.type === "thinking_delta" ? e.thinking : e.type === "tool_call_delta" ? e.arguments : "")).join("");
  if (!content) return { costMicros: 0 };
  const text = produced.map((e) => (e.type === "text_delta" ? e.text : "")).join("");
  const usage = { inputTokens: estimateTokens(JSON.stringify(input)), outputTokens: estimateTokens(content), estimated: true };
  return { usage, costMicros: Ledger.costMicros(Ledger.pricingWithDiscount(model.pricing, row.discountPercent), usage), output: { text, partial: true } };
}

export const runExecution: JobHandler<"execution.run"> = async (ctx, job) => {
  const id = job.payload.executionId;
  const row = store.byId(ctx.db, id);
  if (!row || store.isTerminal(row.status) || row.status === "AWAITING_WEBHOOK") return;
  const [candidate, ...fallbacks] = candidatesOfRow(ctx, row);
  if (!candidate) {
    await move(ctx, id, "FAILED", { errorCode: "MODEL_UNAVAILABLE", errorMessage: `The model ${row.model} was removed from the catalog.` });
    return;
  }
  const { model, routes } = candidate;
  const asynchronous = [candidate, ...fallbacks].some((c) => ctx.router.isAsync(c.routes));
  const now = ctx.clock.now();
  if (row.status === "PENDING") {
    if (row.deadlineAt !== null && row.deadlineAt <= now) {
      await move(ctx, id, "EXPIRED", { errorCode: "GENERATION_TIMEOUT", errorMessage: "The execution waited in the queue past its time to live." });
      return;
    }
    const patch = asynchronous ? { callbackToken: newCallbackToken() } : {};
    if (!(await move(ctx, id, "PROCESSING", patch, ["PENDING"]))) return; // cancelled meanwhile
  } else if (![candidate, ...fallbacks].every((c) => ctx.router.isIdempotent(c.routes))) {
    // PROCESSING after a restart: the provider call may have happened; it is not safe to repeat.
    await move(ctx, id, "FAILED", { errorCode: "GENERATION_FAILED", errorMessage: "The gateway restarted while the provider call was in flight." });
    return;
  }

  const controller = new AbortController();
  ctx.running.set(id, controller);
  // A cancel committed in the same batch as PROCESSING found no controller to abort: read the
  // status once the controller is registered, so the provider is never called for it.
  const current = store.byId(ctx.db, id);
  if (current?.status !== "PROCESSING") {
    ctx.running.delete(id);
    return;
  }
  let token = current.callbackToken;
  if (asynchronous && !token) {
    token = newCallbackToken(); // a re-run of an execution created before it had one
    const fresh = token;
    await ctx.writer.run((tx) => store.setCallbackToken(tx, id, fresh));
  }
  let input: Record<string, unknown>;
  let files: Files.ResolvedFile[];
  try {
    // The row was just read and parsed: defaults may be filled into it in place.
    input = Catalog.validateInput(model, row.input ?? {}, { inPlace: true });
    // Resolved again at run time: a file deleted since the create fails the run with FILE_NOT_FOUND.
    const fileFields = Catalog.fileFields(model);
    files = fileFields.length ? await Files.resolveInputFiles(ctx, row.orgId, fileFields, input, model.inputSchema) : [];
  } catch (error) {
    ctx.running.delete(id);
    await move(ctx, id, "FAILED", failure(error), ["PROCESSING"]);
    return;
  }
  await callProvider(ctx, job, { row, model, routes, input, files, controller, callbackToken: token, fallbacks });
};

/** An execution moved to PROCESSING in this process, with what its run needs already at hand. */
export type Started = {
  row: store.ExecutionRow;
  model: Catalog.Model;
  routes: ReturnType<typeof Catalog.routesOf>;
  /** Validated, defaults filled in. */
  input: Record<string, unknown>;
  files: Files.ResolvedFile[];
  /** Already in ctx.running. */
  controller: AbortController;
  callbackToken?: string | null;
  /** The models tried after `model`, in order (an alias, OpenRouter's `models`). */
  fallbacks?: Candidate[];
};

/**
 * The run of an execution that its create transaction started (executions/create.ts): the row,
 * model and validated input come from the create, not from reading them back.
 */
export const runStarted = (ctx: AppContext, job: Job<"execution.run">, started: Started) => callProvider(ctx, job, started);

/** The hold covered this many output tokens: the upstream may not produce more. */
function boundOutput(model: Catalog.Model, input: Record<string, unknown>) {
  if (OUTPUT_BOUNDED_TASKS.has(model.task) && input.max_tokens === undefined && (model.pricing.outputPer1mTokensMicros ?? 0) > 0)
    input.max_tokens = model.maxOutputTokens ?? Ledger.DEFAULT_MAX_OUTPUT_TOKENS;
}

/**
 * Calls the model's routes, then each fallback model's while the failure is one the next may not
 * share and nothing was streamed (docs/routing.md "Aliases and fallback models"); then ends the
 * execution with the result of the model that answered, the error or the cancel.
 */
async function callProvider(ctx: AppContext, job: Job<"execution.run">, started: Started) {
  const { row, input, files, controller } = started;
  const id = row.id;
  const token = started.callbackToken ?? null;
  const fallbacks = started.fallbacks ?? [];
  let model = started.model;
  let result: ProviderResult & { routeId: string } = undefined!;
  const produced: StreamEvent[] = [];
  const linked = linkedSignal([controller.signal, job.signal]);
  const signal = linked.signal;
  const run = (candidate: Catalog.Model, routes: Candidate["routes"], candidateInput: Record<string, unknown>, last: boolean) => {
    boundOutput(candidate, candidateInput);
    return ctx.router.run(candidate.task, candidateInput, routes, {
      files,
      signal,
      // Streamed upstream only when the caller streams: a stream has no total_ms, only the stream limit (docs/routing.md).
      emit:
        row.mode === "STREAMING"
          ? (event) => {
              if (produced.length === 0 && fallbacks.length > 0) ctx.bus.publish(id, { type: "serving", model: candidate.slug });
              produced.push(event);
              ctx.bus.publish(id, { type: "stream", event });
            }
          : undefined,
      warn: (message, fields) => ctx.log.warn(message, { execution_id: id, model: candidate.slug, ...fields }),
      async: token ? { jobId: id, callbackUrl: callbackUrl(ctx, token) } : undefined,
      now: ctx.clock.now,
      // A full route makes way for the next model at once rather than queueing for a slot.
      queue: last,
    });
  };
  try {
    try {
      result = await run(model, started.routes, input, fallbacks.length === 0);
    } catch (error) {
      let failed = error;
      for (const [i, next] of fallbacks.entries()) {
        if (!fallsThrough(failed) || produced.length > 0 || signal.aborted) break;
        let nextInput: Record<string, unknown>;
        try {
          nextInput = Catalog.validateInput(next.model, row.input ?? {});
        } catch {
          continue; // this model's schema refuses the request: the one after may take it
        }
        try {
          model = next.model;
          result = await run(next.model, next.routes, nextInput, i === fallbacks.length - 1);
          failed = null;
          break;
        } catch (nextError) {
          failed = nextError;
        }
      }
      if (failed !== null) throw failed;
    }
  } catch (error) {
    if (controller.signal.reason instanceof CancelRequested) {
      await move(ctx, id, "CANCELLED", { errorCode: "CANCELLED", errorMessage: "The execution was cancelled by request.", ...chargeSoFar(model, row, produced) }, ["PROCESSING"]);
      return;
    }
    if (controller.signal.aborted) return; // ended elsewhere: state.ts has already recorded it
    if (job.signal.aborted) throw error; // shutting down: the job is resumed after restart
    // A stream that broke after content: what the caller already received is kept and charged.
    await move(ctx, id, "FAILED", { ...failure(error), ...chargeSoFar(model, row, produced) }, ["PROCESSING"], answerHeadersOf(error));
    return;
  } finally {
    linked.dispose();
    ctx.running.delete(id);
  }
  if (result.pending) {
    const route = [started, ...fallbacks].flatMap((c) => c.routes).find((r) => r.id === result.routeId)!;
    await awaitUpstream(ctx, row, result, route, model.slug);
    return;
  }
  await complete(ctx, row, model, result, ["PROCESSING"]);
}

/** Expires executions past their deadline (queue TTL, or an async provider that never called back). */
export const sweepExecutions: JobHandler<"execution.sweep"> = async (ctx) => {
  for (const { id, status } of store.overdue(ctx.db, ctx.clock.now(), SWEEP_BATCH)) {
    const message = status === "PENDING" ? "The execution waited in the queue past its time to live." : "The provider did not call back before the deadline.";
    await move(ctx, id, "EXPIRED", { errorCode: "GENERATION_TIMEOUT", errorMessage: message }, [status]);
  }
};

/** What a module keeps of an execution's content beside it (an AIMP run's result, a stored response's instructions), dropped with it. */
export type PurgeHook = (tx: Tx, executionIds: string[]) => void;
const purgeHooks = new Set<PurgeHook>();

/** Registers a module's part of retention: called in the transaction that purges the executions. */
export const onPurge = (hook: PurgeHook) => void purgeHooks.add(hook);

/** Retention: drops input and output of executions finished more than N days ago (and what other modules keep of them), stale idempotency keys and expired cached answers. */
export const purgeExecutions: JobHandler<"execution.purge"> = async (ctx) => {
  const now = ctx.clock.now();
  Idempotency.purgeExpired(ctx.db, now);
  Semantic.forget(ctx, Cache.purgeExpired(ctx, now, PURGE_BATCH));
  const days = ctx.config.executionRetentionDays;
  if (days === 0) return;
  ctx.db.transaction((tx) => {
    const ids = store.purgeFinishedBefore(tx, now - days * DAY_MS, now, PURGE_BATCH);
    if (ids.length) for (const hook of purgeHooks) hook(tx, ids);
  });
};
