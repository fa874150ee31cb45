/**
 * The events outbox (DESIGN.md "Webhooks"): `execution.*` and `balance.low` events are written
 * in the same transaction as the change they describe, so none is lost to a crash. The
 * webhooks module drains it with the `events.dispatch` job; callers wake that job after commit.
 */
import type { Conn } from "../../db/client";
import { newId } from "../../ids";
import * as store from "./store";

export const DISPATCH_JOB = "events.dispatch";

export type NewEvent = {
  orgId: string;
  type: string;
  data: Record<string, unknown>;
  executionId?: string | null;
  /** An execution's own webhook_url, which receives its terminal events. */
  webhookUrl?: string | null;
  now: number;
};

export function record(tx: Conn, event: NewEvent): string {
  const id = newId("evt");
  store.insertEvent(tx, {
    id,
    orgId: event.orgId,
    type: event.type,
    data: event.data,
    executionId: event.executionId ?? null,
    webhookUrl: event.webhookUrl ?? null,
    createdAt: event.now,
  });
  return id;
}

export const undispatched = store.undispatched;
export const markDispatched = store.markDispatched;
export const eventById = store.eventById;
export const purgeDispatchedBefore = store.purgeDispatchedBefore;
