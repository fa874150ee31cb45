/**
 * The only code that moves money (DESIGN.md "Ledger"). Every function takes the caller's
 * transaction: a hold is placed in the transaction that inserts the execution, and resolved in
 * the one that sets its terminal status. Invariants: available + held = total;
 * held = sum of open holds; each hold is resolved exactly once, capture ≤ hold.
 */
import type { Conn } from "../../db/client";
import { formatUsd } from "../../money";
import type { Metrics } from "../../http/metrics";
import * as store from "./store";

export { costMicros, maxCostMicros } from "./pricing";

/** Places the hold for a new execution; false when the available balance is short. */
export function placeHold(tx: Conn, orgId: string, executionId: string, keyId: string | null, amountMicros: number, now: number): boolean {
  if (amountMicros <= 0) return true;
  return store.placeHold(tx, orgId, executionId, keyId, amountMicros, now) !== null;
}

/**
 * Captures min(cost, hold) and releases the rest, once. Returns the captured amount (0 when
 * there was no hold or it was resolved already).
 */
export function settle(tx: Conn, executionId: string, costMicros: number, now: number, metrics?: Metrics): number {
  const hold = store.holdOf(tx, executionId);
  if (!hold) return 0;
  const held = -hold.amountMicros;
  const captured = Math.min(costMicros, held);
  if (costMicros > held) metrics?.increment("modelroute_ledger_capture_shortfall_total", "Executions whose cost exceeded their hold.");
  return store.resolveHold(tx, hold, captured, now) ? captured : 0;
}

export function credit(tx: Conn, orgId: string, amountMicros: number, now: number, opts: { note?: string; idempotencyKey?: string } = {}) {
  return store.credit(tx, orgId, amountMicros, opts.note ?? null, opts.idempotencyKey ?? null, now);
}

export function balanceView(conn: Conn, orgId: string) {
  const b = store.balanceOf(conn, orgId);
  return {
    object: "balance" as const,
    available: formatUsd(b.availableMicros),
    held: formatUsd(b.heldMicros),
    total: formatUsd(b.availableMicros + b.heldMicros),
    currency: "USD" as const,
  };
}
