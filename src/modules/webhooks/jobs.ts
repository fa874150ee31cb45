/**
 * Scheduler handlers of webhooks: `events.dispatch` drains the outbox into deliveries (woken
 * after every committed event, and every second as a fallback); `webhook.deliver` makes one
 * attempt of one delivery. Both are idempotent: a re-run after a crash finds the work done or
 * sends the same evt_ id again.
 */
import { RetryLater, type JobHandler } from "../../scheduler/types";
import * as Deliveries from "./deliveries";

declare module "../../scheduler/types" {
  interface JobPayloads {
    "events.dispatch": Record<string, never>;
    "webhook.deliver": { deliveryId: string };
  }
}

export const dispatchEvents: JobHandler<"events.dispatch"> = async (ctx) => {
  Deliveries.dispatchPending(ctx);
};

export const deliverWebhook: JobHandler<"webhook.deliver"> = async (ctx, job) => {
  const retryInMs = await Deliveries.attemptScheduled(ctx, job.payload.deliveryId, job.signal);
  if (retryInMs !== null) throw new RetryLater(`webhook delivery ${job.payload.deliveryId} will be retried`, retryInMs);
};
