/**
 * The execution state machine (docs/architecture.md "Life of an execution"): the only code that writes `status`.
 * Each transition is one guarded UPDATE (`WHERE status IN (from)`), an execution_events row,
 * an outbox event, and — for terminal states — the ledger settlement, all in the caller's
 * transaction. Terminal states never change.
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

/** The states a transition to `to` may start from. */
export const sourcesOf = (to: Status): Status[] => (Object.keys(ALLOWED) as Status[]).filter((from) => ALLOWED[from].includes(to));

const EVENT_TYPES: Partial<Record<Status, string>> = {
  PROCESSING: "execution.started",
  COMPLETED: "execution.completed",
  FAILED: "execution.failed",
  CANCELLED: "execution.cancelled",
  EXPIRED: "execution.expired",
};

export type Patch = Partial<Pick<typeof executions.$inferInsert, "output" | "usage" | "costMicros" | "errorCode" | "errorMessage" | "startedAt" | "routeId" | "providerJob" | "deadlineAt" | "callbackToken">>;

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
  const updated = store.guardedUpdate(tx, id, from, set);
  if (!updated) return null;
  const row = terminal ? settle(tx, updated, now, opts.metrics) : updated;
  const seq = store.insertEvent(tx, id, to, now);
  const type = EVENT_TYPES[to];
  const eventId = type
    ? Events.recordIfHeard(tx, { orgId: row.orgId, type, executionId: id, webhookUrl: terminal ? row.webhookUrl : null, now }, () => executionView(row))
    : null;
  return { row, seq, at: now, eventId };
}
