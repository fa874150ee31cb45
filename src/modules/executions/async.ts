/**
 * Executions an asynchronous upstream (Cog, Replicate) is working on. Once the upstream has
 * accepted the job the execution waits in AWAITING_WEBHOOK with the job's reference and a
 * deadline (the route's total time). It ends on the first terminal word from the upstream, a
 * callback on `/v1/providers/callbacks/{token}` or a poll when the upstream can be asked: the
 * guarded transition makes duplicates and late callbacks no-ops, so the status and the ledger
 * settle exactly once. Past the deadline the sweep expires it and releases the hold. A cancel
 * is forwarded upstream by a durable job.
 */
import { linkedSignal } from "../../abort";
import { randomBytes } from "node:crypto";
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import { publicUrl } from "../../context";
import { ProviderError, withoutKey } from "../../providers/errors";
import { adapterFor } from "../../providers/registry";
import type { AsyncJob, AsyncOutcome, ProviderResult, RouteInfo } from "../../providers/types";
import type { JobHandler } from "../../scheduler/types";
import { RetryLater } from "../../scheduler/types";
import * as Catalog from "../catalog/service";
import { complete, move } from "./finish";
import { announce } from "./announce";
import * as State from "./state";
import * as store from "./store";

/** How long one poll or cancel of an upstream job may take. */
const UPSTREAM_JOB_CALL_MS = 30_000;

export const POLL_JOB = "execution.poll";
const CANCEL_UPSTREAM_JOB = "execution.cancel-upstream";

declare module "../../scheduler/types" {
  interface JobPayloads {
    "execution.poll": { executionId: string };
    "execution.cancel-upstream": { executionId: string };
  }
}

const DEFAULT_POLL_MS = 10_000;
const MAX_POLL_MS = 60_000;

/** 32 random bytes, URL-safe: the only thing a callback has to prove where it comes from. */
export const newCallbackToken = () => randomBytes(32).toString("base64url");

export const callbackUrl = (ctx: AppContext, token: string) => `${publicUrl(ctx)}/v1/providers/callbacks/${token}`;

type StoredJob = AsyncJob & { providerId: string };

const jobOf = (row: store.ExecutionRow): StoredJob | null => (row.providerJob && typeof row.providerJob.ref === "string" ? (row.providerJob as StoredJob) : null);

/** The route that took the job: by id, or by provider when the catalog was applied since. */
function routeOf(ctx: AppContext, row: store.ExecutionRow, job: StoredJob): { route: RouteInfo; model: Catalog.Model } | null {
  const model = Catalog.findModel(ctx.db, row.servedModel ?? row.model);
  if (!model) return null;
  const routes = Catalog.routesOf(ctx.db, model);
  const route = routes.find((r) => r.id === row.routeId) ?? routes.find((r) => r.provider.id === job.providerId);
  return route ? { route, model } : null;
}

const pollDelay = (route: RouteInfo, attempt: number) => {
  const base = Number(route.provider.config.poll_interval_ms ?? DEFAULT_POLL_MS);
  return Math.min(MAX_POLL_MS, base * 2 ** Math.min(attempt - 1, 6));
};

/** The upstream took the job: wait for it (and poll, where the upstream can be asked). */
export async function awaitUpstream(ctx: AppContext, row: store.ExecutionRow, result: ProviderResult & { routeId: string }, route: RouteInfo, servedModel: string) {
  const now = ctx.clock.now();
  const job: StoredJob = { ...result.pending!, providerId: route.provider.id };
  const pollable = adapterFor(route.provider.kind)?.async?.pollable ?? false;
  const moved = await ctx.writer.run((tx) => {
    const t = State.transition(tx, row.id, "AWAITING_WEBHOOK", now, { providerJob: job, routeId: route.id, servedModel, deadlineAt: now + route.timeouts.totalMs }, { from: ["PROCESSING"], metrics: ctx.metrics });
    if (t && pollable) ctx.scheduler.enqueue(tx, POLL_JOB, { executionId: row.id }, { runAt: now + pollDelay(route, 1), maxAttempts: 100_000 });
    return t;
  });
  if (moved) return announce(ctx, moved);
  // Cancelled while the create was in flight: the upstream must hear it too.
  const current = store.byId(ctx.db, row.id);
  if (current?.status === "CANCELLED") {
    await ctx.writer.run((tx) => {
      store.setProviderJob(tx, row.id, job);
      enqueueCancel(ctx, tx, row.id);
    });
  }
}

/** Ends the execution on a terminal outcome; "running" changes nothing. */
async function apply(ctx: AppContext, row: store.ExecutionRow, model: Catalog.Model, route: RouteInfo, outcome: AsyncOutcome) {
  if (outcome.state === "running") return;
  if (outcome.state === "done") return complete(ctx, row, model, { ...outcome.result, routeId: route.id }, ["AWAITING_WEBHOOK"]);
  const message = outcome.state === "failed" ? `The provider's job failed: ${outcome.message}` : "The provider cancelled the job.";
  return move(ctx, row.id, "FAILED", { errorCode: "GENERATION_FAILED", errorMessage: message.slice(0, 1000) }, ["AWAITING_WEBHOOK"]);
}

export type CallbackAnswer = { status: 200 | 400 | 401 | 404 | 503; message: string; retryAfter?: number };

/** A callback from an upstream, by its token. Answers what the upstream should know: done, retry, or go away. */
export async function handleCallback(ctx: AppContext, token: string, raw: string, headers: Headers): Promise<CallbackAnswer> {
  const row = store.byCallbackToken(ctx.db, token);
  if (!row) return { status: 404, message: "No execution waits on this callback." };
  if (store.isTerminal(row.status)) return { status: 200, message: `The execution has already ended (${row.status}).` };
  const job = jobOf(row);
  // The create's answer is not recorded yet: ask the upstream to send it again in a moment.
  if (row.status !== "AWAITING_WEBHOOK" || !job) return { status: 503, message: "The execution is not waiting yet; retry shortly.", retryAfter: 1 };
  const found = routeOf(ctx, row, job);
  if (!found) return { status: 404, message: "The execution's model or provider left the catalog." };
  const adapter = adapterFor(found.route.provider.kind);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return { status: 400, message: "The callback body is not JSON." };
  }
  const outcome = await adapter!.async!.callback({ route: found.route, job, task: found.model.task, input: row.input ?? {} }, body, raw, headers, found.route.webhookSecret());
  if (!outcome) {
    ctx.log.warn("provider callback refused: bad signature", { execution_id: row.id, provider: found.route.provider.id });
    return { status: 401, message: "The callback's signature does not verify." };
  }
  await apply(ctx, row, found.model, found.route, outcome);
  return { status: 200, message: "Received." };
}

/** Asks the upstream where a job stands, for callbacks that never come; again later while it runs. */
export const pollExecution: JobHandler<"execution.poll"> = async (ctx, job) => {
  const row = store.byId(ctx.db, job.payload.executionId);
  const stored = row && jobOf(row);
  if (!row || row.status !== "AWAITING_WEBHOOK" || !stored) return;
  if (row.deadlineAt !== null && row.deadlineAt <= ctx.clock.now()) return; // the sweep expires it
  const found = routeOf(ctx, row, stored);
  if (!found) return;
  const adapter = adapterFor(found.route.provider.kind)!.async!;
  let outcome: AsyncOutcome;
  const apiKey = found.route.apiKeys()[0] ?? null;
  const limit = linkedSignal([job.signal], UPSTREAM_JOB_CALL_MS);
  try {
    outcome = await adapter.poll({ route: found.route, apiKey, job: stored, task: found.model.task, input: row.input ?? {}, signal: limit.signal });
  } catch (error) {
    // An upstream may quote the key it was sent in its error (as the router masks it for calls).
    ctx.log.warn("polling a provider job failed; trying again", { execution_id: row.id, error: error instanceof ProviderError ? withoutKey(error, apiKey) : error });
    throw new RetryLater("poll failed", pollDelay(found.route, job.attempt));
  } finally {
    limit.dispose();
  }
  if (outcome.state === "running") throw new RetryLater("still running", pollDelay(found.route, job.attempt));
  await apply(ctx, row, found.model, found.route, outcome);
};

function enqueueCancel(ctx: AppContext, tx: Conn, executionId: string) {
  ctx.scheduler.enqueue(tx, CANCEL_UPSTREAM_JOB, { executionId }, { maxAttempts: 5 });
}

/** Tells the upstream a cancelled execution's job is no longer wanted (it may stop paying for it). */
export const cancelUpstream: JobHandler<"execution.cancel-upstream"> = async (ctx, job) => {
  const row = store.byId(ctx.db, job.payload.executionId);
  const stored = row && jobOf(row);
  if (!row || !stored) return;
  const found = routeOf(ctx, row, stored);
  if (!found) return;
  const apiKey = found.route.apiKeys()[0] ?? null;
  const limit = linkedSignal([job.signal], UPSTREAM_JOB_CALL_MS);
  try {
    await adapterFor(found.route.provider.kind)!.async!.cancel({ route: found.route, apiKey, job: stored, task: found.model.task, input: {}, signal: limit.signal });
  } finally {
    limit.dispose();
  }
};
