/**
 * The delivery lifecycle (docs/architecture.md and docs/decisions.md "Webhooks"):
 * - fan-out: each outbox event becomes one delivery per subscribed, enabled endpoint of its org
 *   plus one for the execution's own webhook_url; deliveries, their jobs and the event's
 *   dispatched mark are written in one transaction, so a crash loses or doubles none;
 * - attempts: signed POSTs with the same evt_ id every time, retried on the configured schedule
 *   (±10 % jitter) or at the receiver's Retry-After, never after the deadline (event + 24 h);
 *   2xx succeeds, 410 disables the endpoint;
 * - fairness: one receiver has at most a quarter of the delivery workers in flight, so a slow
 *   one never holds up the others; a delivery that finds its receiver at that share waits in
 *   line in memory and goes as soon as one of the receiver's attempts ends, in that worker
 *   (its job, put back for later, is the crash-safe copy of its place in line);
 * - the delivery log: every attempt with its time, status code, latency, error and next retry.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import { pageRequest, toList } from "../../http/pagination";
import { isId, newId } from "../../ids";
import * as Events from "../events/service";
import type { WebhookModel } from "./model";
import { isSuccess, messageOf, send, type Outcome } from "./send";
import * as Webhooks from "./service";
import * as store from "./store";
import { deliveryDetailView, deliveryView } from "./view";

export const DELIVER_JOB = "webhook.deliver";
/** Automatic attempts are bounded by the schedule; this bounds manual retries too. */
export const MAX_ATTEMPTS_PER_DELIVERY = 25;
/** The job's own retry cap never decides: the schedule and deadline do (see nextAttemptAt). */
export const DELIVER_JOB_MAX_ATTEMPTS = 1000;
const DISPATCH_BATCH = 200;
const GONE = 410;

/** `waiting`: per receiver, the deliveries that found it at its share of workers, in arrival order. */
type Runtime = { inFlightByTarget: Map<string, number>; inFlight: Set<string>; waiting: Map<string, Set<string>> };
const runtimes = new WeakMap<AppContext, Runtime>();
const runtimeOf = (ctx: AppContext) => {
  let runtime = runtimes.get(ctx);
  if (!runtime) runtimes.set(ctx, (runtime = { inFlightByTarget: new Map(), inFlight: new Set(), waiting: new Map() }));
  return runtime;
};

/** How long one worker goes on sending waiting deliveries after its own before it gives its slot back (its job's lease is two timeouts and a minute). */
const LINE_MAX_MS = 10_000;

/** How many attempts one receiver may have in flight at once. */
export const perTargetLimit = (ctx: AppContext) => Math.max(1, Math.floor(ctx.config.webhookConcurrency / 4));

const jitter = (ms: number) => Math.round(ms * (0.9 + Math.random() * 0.2));

/** How long a delivery to a busy receiver waits before looking for a free slot again (a tenth of the timeout, 0.1–2 s, jittered). */
const deferralMs = (ctx: AppContext) => Math.round(Math.min(2000, Math.max(100, ctx.config.webhookTimeoutMs / 10)) * (0.5 + Math.random()));

/** Drains the outbox in batches; wakes the delivery workers after each committed batch. */
export function dispatchPending(ctx: AppContext) {
  for (;;) {
    const taken = dispatchBatch(ctx);
    if (taken.deliveries > 0) ctx.scheduler.wake(DELIVER_JOB);
    if (taken.events < DISPATCH_BATCH) return;
  }
}

/** Turns up to DISPATCH_BATCH outbox events into deliveries, in one transaction. */
function dispatchBatch(ctx: AppContext): { events: number; deliveries: number } {
  const batch = Events.undispatched(ctx.db, DISPATCH_BATCH);
  if (batch.length === 0) return { events: 0, deliveries: 0 };
  const now = ctx.clock.now();
  let deliveries = 0;
  ctx.db.transaction((tx) => {
    const endpointsByOrg = new Map<string, ReturnType<typeof store.enabledEndpoints>>();
    for (const event of batch) {
      let endpoints = endpointsByOrg.get(event.orgId);
      if (!endpoints) endpointsByOrg.set(event.orgId, (endpoints = store.enabledEndpoints(tx, event.orgId)));
      const targets: { endpointId: string | null; url: string }[] = endpoints
        .filter((endpoint) => store.subscribes(endpoint, event.type))
        .map((endpoint) => ({ endpointId: endpoint.id, url: endpoint.url }));
      if (event.webhookUrl) targets.push({ endpointId: null, url: event.webhookUrl });
      for (const target of targets) {
        const id = newId("whdl");
        store.insertDelivery(tx, {
          id,
          orgId: event.orgId,
          eventId: event.id,
          endpointId: target.endpointId,
          url: target.url,
          status: "pending",
          nextAttemptAt: now,
          deadlineAt: event.createdAt + ctx.config.webhookMaxAgeMs,
          createdAt: now,
        });
        ctx.scheduler.enqueue(tx, DELIVER_JOB, { deliveryId: id }, { maxAttempts: DELIVER_JOB_MAX_ATTEMPTS });
        deliveries++;
      }
      Events.markDispatched(tx, event.id, now);
    }
  });
  return { events: batch.length, deliveries };
}

type Ready = { delivery: store.DeliveryRow; url: string; secrets: string[]; targetKey: string };

/** Where and with what secrets a delivery goes now; pending ones of a gone or disabled endpoint end here. */
function prepare(ctx: AppContext, delivery: store.DeliveryRow, now: number, opts: { manual: boolean }): Ready | { stop: string } {
  if (!delivery.endpointId)
    return { delivery, url: delivery.url, secrets: Webhooks.orgSecrets(ctx, delivery.orgId, now), targetKey: `url:${new URL(delivery.url).origin}` };
  const endpoint = store.endpointById(ctx.db, delivery.endpointId);
  if (!endpoint || endpoint.deletedAt !== null) return { stop: "The endpoint was deleted." };
  if (!endpoint.enabled && !opts.manual) return { stop: "The endpoint is disabled." };
  // Pending deliveries follow the endpoint: a fixed URL or a rotated secret applies to their retries.
  return { delivery, url: endpoint.url, secrets: Webhooks.endpointSecrets(endpoint, now), targetKey: endpoint.id };
}

/** When the next automatic attempt goes, or null when none does (schedule used up or past the deadline). */
function nextAttemptAt(ctx: AppContext, delivery: store.DeliveryRow, attemptNumber: number, outcome: Outcome, now: number): number | null {
  const schedule = ctx.config.webhookRetryScheduleMs;
  if (attemptNumber > schedule.length) return null;
  const at = now + (outcome.retryAfterMs ?? jitter(schedule[attemptNumber - 1]!));
  return at < delivery.deadlineAt ? at : null;
}

type Mode = "automatic" | "manual" | "once";

/**
 * Records one attempt and the delivery's new state in one transaction, committed with the other
 * writes of this event-loop turn (db/write-batcher.ts); returns the next automatic attempt time.
 */
async function record(ctx: AppContext, ready: Ready, outcome: Outcome, mode: Mode, at: number): Promise<number | null> {
  const { delivery } = ready;
  const now = ctx.clock.now();
  const gone = outcome.statusCode === GONE;
  const next = await ctx.writer.run((tx) => {
    const attempt = store.countAttempt(tx, delivery.id);
    let status: store.DeliveryStatus;
    let next: number | null = null;
    if (isSuccess(outcome.statusCode)) status = "succeeded";
    else if (gone || mode === "once") status = delivery.status === "succeeded" ? "succeeded" : "failed";
    else if (mode === "manual") {
      status = delivery.status; // a failed manual retry leaves the automatic schedule as it was
      next = delivery.status === "pending" ? delivery.nextAttemptAt : null;
    } else {
      next = nextAttemptAt(ctx, delivery, attempt, outcome, now);
      status = next === null ? "failed" : "pending";
    }
    if (gone && delivery.endpointId)
      store.updateEndpoint(tx, delivery.endpointId, { enabled: false, disabledReason: "The receiver answered 410 Gone.", updatedAt: now });
    store.insertAttempt(tx, { deliveryId: delivery.id, attempt, at, statusCode: outcome.statusCode, latencyMs: outcome.latencyMs, error: outcome.error, nextRetryAt: next });
    store.recordOutcome(tx, delivery.id, { status, lastStatusCode: outcome.statusCode, nextAttemptAt: next, url: ready.url });
    return next;
  });
  ctx.metrics.increment("modelroute_webhook_attempts_total", "Webhook delivery attempts made.");
  if (!isSuccess(outcome.statusCode)) ctx.metrics.increment("modelroute_webhook_attempts_failed_total", "Webhook delivery attempts that got no 2xx answer.");
  if (mode === "automatic" && next === null && !isSuccess(outcome.statusCode)) {
    ctx.metrics.increment("modelroute_webhook_deliveries_failed_total", "Webhook deliveries that ran out of attempts or time, or got 410.");
    ctx.log.warn("webhook delivery failed for good", { delivery_id: delivery.id, event_id: delivery.eventId, error: outcome.error });
  }
  if (gone && delivery.endpointId) ctx.log.warn("webhook endpoint disabled: the receiver answered 410", { endpoint_id: delivery.endpointId });
  return mode === "automatic" ? next : null;
}

async function attempt(ctx: AppContext, ready: Ready, mode: Mode, signal?: AbortSignal): Promise<number | null> {
  const event = Events.eventById(ctx.db, ready.delivery.eventId)!;
  const at = ctx.clock.now();
  const outcome = await send(ready.url, messageOf(event), {
    secrets: ready.secrets,
    timeoutMs: ctx.config.webhookTimeoutMs,
    allowPrivate: ctx.config.webhookAllowPrivate,
    now: at,
    signal,
  });
  return record(ctx, ready, outcome, mode, at);
}

/**
 * The scheduled attempt of a delivery (the webhook.deliver job). Returns the delay before the
 * next automatic attempt, or null when the delivery is finished or was put back in line.
 */
export async function attemptScheduled(ctx: AppContext, deliveryId: string, signal: AbortSignal): Promise<number | null> {
  const delivery = store.deliveryById(ctx.db, deliveryId);
  if (!delivery || delivery.status !== "pending") return null;
  const now = ctx.clock.now();
  // Sent while it waited in line (below), it has its next attempt on its row: this job is early.
  if (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now) return delivery.nextAttemptAt - now;
  const ready = now >= delivery.deadlineAt ? { stop: "The delivery passed its deadline." } : prepare(ctx, delivery, now, { manual: false });
  if ("stop" in ready) {
    store.updateDelivery(ctx.db, deliveryId, { status: "failed", nextAttemptAt: null });
    ctx.log.info("webhook delivery stopped", { delivery_id: deliveryId, reason: ready.stop });
    return null;
  }
  const runtime = runtimeOf(ctx);
  const busy = runtime.inFlightByTarget.get(ready.targetKey) ?? 0;
  if (busy >= perTargetLimit(ctx) || runtime.inFlight.has(deliveryId)) {
    // Put back in line without counting an attempt: this receiver already has its share of workers.
    if (!runtime.inFlight.has(deliveryId)) {
      const line = runtime.waiting.get(ready.targetKey) ?? new Set<string>();
      runtime.waiting.set(ready.targetKey, line.add(deliveryId));
    }
    const runAt = now + deferralMs(ctx);
    await ctx.writer.run((tx) => ctx.scheduler.enqueue(tx, DELIVER_JOB, { deliveryId }, { runAt, maxAttempts: DELIVER_JOB_MAX_ATTEMPTS }));
    return null;
  }
  runtime.inFlightByTarget.set(ready.targetKey, busy + 1);
  runtime.inFlight.add(deliveryId);
  try {
    const next = await attempt(ctx, ready, "automatic", signal);
    await sendWaiting(ctx, runtime, ready.targetKey, signal);
    return next === null ? null : Math.max(0, next - ctx.clock.now());
  } finally {
    runtime.inFlight.delete(deliveryId);
    const left = (runtime.inFlightByTarget.get(ready.targetKey) ?? 1) - 1;
    if (left > 0) runtime.inFlightByTarget.set(ready.targetKey, left);
    else runtime.inFlightByTarget.delete(ready.targetKey);
  }
}

/**
 * Sends the deliveries waiting for this receiver, in this worker and its receiver slot, until
 * none is left or the bounds are reached. One that fails has its next attempt on its row, where
 * its own job finds it; one already sent, stopped or in flight is skipped.
 */
async function sendWaiting(ctx: AppContext, runtime: Runtime, targetKey: string, signal: AbortSignal) {
  const started = ctx.clock.now();
  while (ctx.clock.now() - started < LINE_MAX_MS && !signal.aborted) {
    const line = runtime.waiting.get(targetKey);
    const deliveryId = line?.values().next().value;
    if (!line || deliveryId === undefined) return;
    line.delete(deliveryId);
    if (line.size === 0) runtime.waiting.delete(targetKey);
    if (runtime.inFlight.has(deliveryId)) continue;
    const delivery = store.deliveryById(ctx.db, deliveryId);
    const now = ctx.clock.now();
    if (!delivery || delivery.status !== "pending" || now >= delivery.deadlineAt || (delivery.nextAttemptAt !== null && delivery.nextAttemptAt > now)) continue;
    const ready = prepare(ctx, delivery, now, { manual: false });
    if ("stop" in ready || ready.targetKey !== targetKey) continue; // its own job ends it, or takes it to its new receiver
    runtime.inFlight.add(deliveryId);
    try {
      await attempt(ctx, ready, "automatic", signal);
    } catch (error) {
      ctx.log.warn("webhook: an attempt from the line failed; its own job tries again", { delivery_id: deliveryId, error });
      return;
    } finally {
      runtime.inFlight.delete(deliveryId);
    }
  }
}

function findDelivery(ctx: AppContext, orgId: string, id: string): store.DeliveryWithEvent {
  const row = isId("whdl", id) ? store.deliveryInOrg(ctx.db, orgId, id) : undefined;
  if (!row) throw new AppError("NOT_FOUND", `No webhook delivery ${id}.`);
  return row;
}

export function getDelivery(ctx: AppContext, orgId: string, id: string) {
  const row = findDelivery(ctx, orgId, id);
  return deliveryDetailView(row, store.attemptsOf(ctx.db, id));
}

/** The org's deliveries, or one endpoint's, newest first. */
export function listDeliveries(ctx: AppContext, orgId: string, query: WebhookModel.deliveryQuery, endpointId?: string) {
  if (endpointId) Webhooks.findEndpoint(ctx, orgId, endpointId);
  const page = pageRequest(query);
  return toList(store.pageOfDeliveries(ctx.db, orgId, page, { endpointId, status: query.status }), page, deliveryView);
}

/** Sends a delivery again now, whatever its status; answers with the delivery and its attempts. */
export async function retryDelivery(ctx: AppContext, orgId: string, id: string) {
  const row = findDelivery(ctx, orgId, id);
  if (row.attempts >= MAX_ATTEMPTS_PER_DELIVERY)
    throw new AppError("CONFLICT", `This delivery has had ${row.attempts} attempts, the most one may have.`);
  const runtime = runtimeOf(ctx);
  if (runtime.inFlight.has(id)) throw new AppError("CONFLICT", "An attempt of this delivery is in flight; look again when it has finished.");
  const ready = prepare(ctx, row, ctx.clock.now(), { manual: true });
  if ("stop" in ready) throw new AppError("CONFLICT", `${ready.stop} Its deliveries cannot be sent again.`);
  runtime.inFlight.add(id);
  try {
    await attempt(ctx, ready, "manual");
  } finally {
    runtime.inFlight.delete(id);
  }
  return getDelivery(ctx, orgId, id);
}

/** POST /endpoints/{id}/test: a signed `webhook.test` event sent now, logged as a delivery; no retries. */
export async function sendTest(ctx: AppContext, orgId: string, endpointId: string) {
  const endpoint = Webhooks.findEndpoint(ctx, orgId, endpointId);
  const now = ctx.clock.now();
  const deliveryId = newId("whdl");
  ctx.db.transaction((tx) => {
    const eventId = Events.record(tx, { orgId, type: "webhook.test", data: { endpoint_id: endpoint.id, message: "A test event from ModelRoute." }, now });
    Events.markDispatched(tx, eventId, now); // goes to this endpoint only, never through the fan-out
    store.insertDelivery(tx, { id: deliveryId, orgId, eventId, endpointId: endpoint.id, url: endpoint.url, status: "pending", nextAttemptAt: null, deadlineAt: now + ctx.config.webhookMaxAgeMs, createdAt: now });
  });
  const delivery = store.deliveryById(ctx.db, deliveryId)!;
  await attempt(ctx, { delivery, url: endpoint.url, secrets: Webhooks.endpointSecrets(endpoint, now), targetKey: endpoint.id }, "once");
  return getDelivery(ctx, orgId, deliveryId);
}
