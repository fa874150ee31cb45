/**
 * Scheduler handlers of webhooks: `events.dispatch` drains the outbox into deliveries (woken
 * after every committed event, and every second as a fallback); `webhook.deliver` makes one
 * attempt of one delivery. Both are idempotent: a re-run after a crash finds the work done or
 * sends the same evt_ id again.
 */
import { RetryLater, type JobHandler } from "../../scheduler/types";
import * as Events from "../events/service";
import * as Deliveries from "./deliveries";
import * as store from "./store";
import { DAY_MS } from "../../time";

const PURGE_BATCH = 1000;

declare module "../../scheduler/types" {
  interface JobPayloads {
    "events.dispatch": Record<string, never>;
    "webhook.deliver": { deliveryId: string };
    "webhooks.purge": Record<string, never>;
  }
}

export const dispatchEvents: JobHandler<"events.dispatch"> = async (ctx) => {
  Deliveries.dispatchPending(ctx);
};

export const deliverWebhook: JobHandler<"webhook.deliver"> = async (ctx, job) => {
  const retryInMs = await Deliveries.attemptScheduled(ctx, job.payload.deliveryId, job.signal);
  if (retryInMs !== null) throw new RetryLater(`webhook delivery ${job.payload.deliveryId} will be retried`, retryInMs);
};

/**
 * Retention: dispatched outbox events (copies of execution input and output) and finished
 * deliveries with their attempts go after MODELROUTE_EXECUTION_RETENTION_DAYS, like the
 * executions they describe. Pending deliveries are kept until they end.
 */
export const purgeWebhookHistory: JobHandler<"webhooks.purge"> = async (ctx) => {
  const days = ctx.config.executionRetentionDays;
  if (days === 0) return;
  const before = ctx.clock.now() - days * DAY_MS;
  while (store.purgeFinishedBefore(ctx.db, before, PURGE_BATCH) === PURGE_BATCH);
  while (Events.purgeDispatchedBefore(ctx.db, before, PURGE_BATCH) === PURGE_BATCH);
};
