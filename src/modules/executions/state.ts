/**
 * The execution state machine (docs/architecture.md "Life of an execution"): the only code that writes `status`.
 * Each transition is one guarded UPDATE (`WHERE status IN (from)`) that also stamps the
 * status's time, an outbox event, and — for terminal states — the ledger settlement, all in the
 * caller's transaction. Terminal states never change. The history of an execution is derived
 * from those times (statusHistory), not stored once more.
 *
 * PENDING -> PROCESSING | CANCELLED | EXPIRED | FAILED
 * PROCESSING -> AWAITING_WEBHOOK | COMPLETED | FAILED | CANCELLED
 * AWAITING_WEBHOOK -> COMPLETED | FAILED | CANCELLED | EXPIRED
 */
import type { Conn } from "../../db/client";
import { executions } from "../../db/schema";
import type { Metrics } from "../../http/metrics";
import * as Events from "../events/service";
import * as Ledger from "../ledger/service";
import * as store from "./store";
import { executionView } from "./view";

type Status = store.Status;

const ALLOWED: Record<Status, readonly Status[]> = {
  PENDING: ["PROCESSING", "CANCELLED", "EXPIRED", "FAILED"],
  PROCESSING: ["AWAITING_WEBHOOK", "COMPLETED", "FAILED", "CANCELLED"],
  AWAITING_WEBHOOK: ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  EXPIRED: [],
};

/**
 * Each status's place in an execution's history, which is also the `id:` of its SSE status
 * event: histories only move forward, so "after event n" is "statuses ranked above n".
 */
export const STATUS_SEQ: Record<Status, number> = { PENDING: 1, PROCESSING: 2, AWAITING_WEBHOOK: 3, COMPLETED: 4, FAILED: 4, CANCELLED: 4, EXPIRED: 4 };

export type StatusEvent = { seq: number; status: Status; at: number };

/** The statuses an execution went through, in order, with their times. */
export function statusHistory(row: store.ExecutionRow): StatusEvent[] {
  const history: StatusEvent[] = [{ seq: 1, status: "PENDING", at: row.createdAt }];
  if (row.startedAt !== null) history.push({ seq: 2, status: "PROCESSING", at: row.startedAt });
  if (row.awaitingAt !== null) history.push({ seq: 3, status: "AWAITING_WEBHOOK", at: row.awaitingAt });
  if (store.isTerminal(row.status)) history.push({ seq: 4, status: row.status, at: row.completedAt ?? row.createdAt });
  return history;
}

/** The states a transition to `to` may start from. */
export const sourcesOf = (to: Status): Status[] => (Object.keys(ALLOWED) as Status[]).filter((from) => ALLOWED[from].includes(to));

const EVENT_TYPES: Partial<Record<Status, string>> = {
  PROCESSING: "execution.started",
  COMPLETED: "execution.completed",
  FAILED: "execution.failed",
  CANCELLED: "execution.cancelled",
  EXPIRED: "execution.expired",
};

export type Patch = Partial<Pick<typeof executions.$inferInsert, "output" | "usage" | "costMicros" | "errorCode" | "errorMessage" | "startedAt" | "routeId" | "servedModel" | "providerJob" | "deadlineAt" | "callbackToken">>;

/** A new execution, as service.ts creates it. */
export type NewExecution = Omit<store.NewExecution, "status" | "startedAt">;

/** `eventId` is set when the outbox kept an event for this change (someone receives it). */
export type Transitioned = { row: store.ExecutionRow; seq: number; at: number; eventId: string | null };

/** Resolves the hold of an execution that just ended; the hold caps the charge (docs/architecture.md "Money": capture = min(cost, hold)). */
function settle(tx: Conn, row: store.ExecutionRow, now: number, metrics?: Metrics): store.ExecutionRow {
  const captured = Ledger.settle(tx, row, row.costMicros ?? 0, now, metrics);
  return captured === row.costMicros ? row : store.guardedUpdate(tx, row.id, [row.status], { costMicros: captured })!;
}

/**
 * Moves an execution to `to` if its status is one of `from` (default: every legal source).
 * Returns null when the guard did not match (someone else moved it first).
 */
export function transition(tx: Conn, id: string, to: Status, now: number, patch: Patch = {}, opts: { from?: Status[]; metrics?: Metrics } = {}): Transitioned | null {
  const from = (opts.from ?? sourcesOf(to)).filter((s) => ALLOWED[s].includes(to));
  const terminal = store.isTerminal(to);
  const set: Partial<typeof executions.$inferInsert> = { ...patch, status: to };
  if (terminal) {
    set.completedAt = now;
    set.costMicros = patch.costMicros ?? 0;
  }
  if (to === "PROCESSING" && patch.startedAt === undefined) set.startedAt = now;
  if (to === "AWAITING_WEBHOOK") set.awaitingAt = now;
  const updated = store.guardedUpdate(tx, id, from, set);
  if (!updated) return null;
  const row = terminal ? settle(tx, updated, now, opts.metrics) : updated;
  return { row, seq: STATUS_SEQ[to], at: now, eventId: recordEvent(tx, row, to, now) };
}

/** The outbox event of a change to `to`, when someone receives it. */
function recordEvent(tx: Conn, row: store.ExecutionRow, to: Status, now: number): string | null {
  const type = EVENT_TYPES[to];
  if (!type) return null;
  const terminal = store.isTerminal(to);
  return Events.recordIfHeard(tx, { orgId: row.orgId, type, executionId: row.id, webhookUrl: terminal ? row.webhookUrl : null, now }, () => executionView(row));
}

/**
 * Inserts a new execution PENDING, or already PROCESSING when this process runs it at once
 * (one write instead of an insert and a transition). `started` is what announce() needs then.
 */
export function insert(tx: Conn, execution: NewExecution, start: boolean): { row: store.ExecutionRow; started: Transitioned | null } {
  const status: Status = start ? "PROCESSING" : "PENDING";
  const row = store.insertExecution(tx, { ...execution, status, startedAt: start ? execution.createdAt : null });
  if (!start) return { row, started: null };
  return { row, started: { row, seq: STATUS_SEQ.PROCESSING, at: row.createdAt, eventId: recordEvent(tx, row, "PROCESSING", row.createdAt) } };
}

/**
 * Inserts an execution already COMPLETED (a response-cache hit: nothing to run), settling its
 * hold and recording its completed event in the caller's transaction, as a transition would.
 */
export function insertCompleted(tx: Conn, execution: NewExecution, finished: Omit<store.FinishedAtCreate, "completedAt">, metrics?: Metrics): Transitioned {
  const inserted = store.insertFinishedExecution(tx, { ...execution, ...finished, status: "COMPLETED", startedAt: execution.createdAt, completedAt: execution.createdAt });
  const row = settle(tx, inserted, execution.createdAt, metrics);
  return { row, seq: STATUS_SEQ.COMPLETED, at: row.createdAt, eventId: recordEvent(tx, row, "COMPLETED", row.createdAt) };
}
