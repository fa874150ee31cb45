/**
 * The events outbox (docs/architecture.md "Webhooks"): `execution.*` and `balance.low` events are written
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

/** Whether anyone receives events of this type for this org (the webhooks module answers). */
export type Audience = (tx: Conn, orgId: string, type: string) => boolean;
let audience: Audience = () => true;

/** Set once at start-up by the consumer of the outbox (src/jobs.ts wires webhooks in). */
export function setAudience(fn: Audience) {
  audience = fn;
}

/**
 * Records the event only when it has a receiver now: the execution's own webhook_url, or an
 * enabled endpoint of the org subscribed to the type, read in the same transaction. An event
 * nobody subscribed to when it happened would be dispatched to no one; skipping it saves two
 * writes on every status change of orgs without webhooks. `data` is built only when recorded.
 */
export function recordIfHeard(tx: Conn, event: Omit<NewEvent, "data">, data: () => Record<string, unknown>): string | null {
  if (!event.webhookUrl && !audience(tx, event.orgId, event.type)) return null;
  return record(tx, { ...event, data: data() });
}

export const undispatched = store.undispatched;
export const markDispatched = store.markDispatched;
export const eventById = store.eventById;
export const purgeDispatchedBefore = store.purgeDispatchedBefore;
