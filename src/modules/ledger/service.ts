/**
 * The only code that moves money (docs/architecture.md "Money"). Every balance change takes the caller's
 * transaction: a hold is placed in the transaction that inserts the execution, and resolved in
 * the one that sets its terminal status. Invariants: available + held = total;
 * total = credits − captures ± adjustments; held = sum of open holds; each hold is resolved
 * exactly once, capture ≤ hold. A key's spend limit is checked in the hold's transaction, and
 * `balance.low` is written to the outbox in the transaction whose change crosses the threshold.
 */
import type { Conn, Db } from "../../db/client";
import { AppError, invalidField } from "../../errors";
import type { Metrics } from "../../http/metrics";
import { pageRequest, toList } from "../../http/pagination";
import { formatUsd, parseUsd } from "../../money";
import * as Audit from "../audit/service";
import * as Events from "../events/service";
import type { SpendLimit } from "../keys/limits";
import * as Orgs from "../orgs/service";
import * as store from "./store";

export { costMicros, DEFAULT_MAX_OUTPUT_TOKENS, maxCostMicros, pricingWithDiscount } from "./pricing";

export const BALANCE_LOW_EVENT = "balance.low";

export type HoldRequest = {
  orgId: string;
  executionId: string;
  keyId: string | null;
  amountMicros: number;
  now: number;
  /** The caller's spend limits (keys/limits.ts effectiveLimits); each must still hold with this hold. */
  spendLimits?: readonly SpendLimit[];
};

const PERIOD_NAMES: Record<SpendLimit["reset"], string> = { daily: "daily", weekly: "weekly", monthly: "monthly", none: "total" };

function checkSpendLimits(tx: Conn, hold: HoldRequest) {
  if (!hold.keyId) return;
  for (const limit of hold.spendLimits ?? []) {
    // The execution being held is already inserted: its own hold is `amountMicros`, not spend so far.
    const spentMicros = store.spendOfKeySince(tx, hold.keyId, limit.windowStartMs, hold.executionId);
    if (spentMicros + hold.amountMicros <= limit.limitMicros) continue;
    const owner = limit.source === "key" ? "This API key's" : "The API key's guardrail";
    const since = limit.reset === "none" ? "" : ` since ${new Date(limit.windowStartMs).toISOString()}`;
    throw new AppError(
      "INSUFFICIENT_BALANCE",
      `${owner} ${PERIOD_NAMES[limit.reset]} spend limit of $${formatUsd(limit.limitMicros)} would be exceeded: ` +
        `$${formatUsd(spentMicros)} spent or held${since}, and this execution may cost up to $${formatUsd(hold.amountMicros)}.`,
    );
  }
}

/**
 * Places the hold for a new execution, or throws 402 INSUFFICIENT_BALANCE naming what is short:
 * a spend limit of the key, or the organization's available balance. A zero hold always passes.
 */
export function placeHold(tx: Conn, hold: HoldRequest): void {
  if (hold.amountMicros <= 0) return;
  checkSpendLimits(tx, hold);
  const after = store.placeHold(tx, hold.orgId, hold.amountMicros);
  if (!after) throw new AppError("INSUFFICIENT_BALANCE", `The available balance is below this execution's maximum cost of $${formatUsd(hold.amountMicros)}.`);
  watchThreshold(tx, hold.orgId, after, hold.now);
}

/**
 * Captures min(cost, hold) and releases the rest. Called once per execution, by the transition
 * that finishes it (executions/state.ts), whose guarded status change makes it once. Returns the
 * captured amount (0 when there was no hold).
 */
export function settle(
  tx: Conn,
  execution: { orgId: string; keyId: string | null; holdMicros: number; createdAt: number },
  costMicros: number,
  now: number,
  metrics?: Metrics,
): number {
  const held = execution.holdMicros;
  if (held <= 0) return 0; // nothing was held (a free model): nothing to capture
  const captured = Math.min(costMicros, held);
  if (costMicros > held) metrics?.increment("modelroute_ledger_capture_shortfall_total", "Executions whose cost exceeded their hold.");
  const after = store.resolveHold(tx, { orgId: execution.orgId, keyId: execution.keyId, heldMicros: held, createdAt: execution.createdAt }, captured);
  if (after) watchThreshold(tx, execution.orgId, after, now);
  return captured;
}

/**
 * Adds a credit. With an idempotency key this org has used before, returns the first entry
 * (`created: false`) and changes nothing.
 */
export function credit(tx: Conn, orgId: string, amountMicros: number, now: number, opts: { note?: string | null; idempotencyKey?: string | null } = {}) {
  if (opts.idempotencyKey) {
    const existing = store.creditByIdempotencyKey(tx, orgId, opts.idempotencyKey);
    if (existing) return { entry: existing, created: false };
  }
  const { entry, after } = store.insertCredit(tx, orgId, amountMicros, opts.note ?? null, opts.idempotencyKey ?? null, now);
  watchThreshold(tx, orgId, after, now);
  return { entry, created: true };
}

/**
 * `balance.low` fires once when available drops below the threshold and re-arms when it is back
 * at or above it (docs/decisions.md "Balance, ledger and usage"); off while no threshold is set.
 */
function watchThreshold(tx: Conn, orgId: string, after: store.BalanceAfter, now: number) {
  const thresholdMicros = after.thresholdMicros;
  if (thresholdMicros === null) return;
  const below = after.availableMicros < thresholdMicros;
  const armed = Boolean(after.armed);
  if (below && armed) {
    store.setAlertSettings(tx, orgId, { armed: false });
    Events.recordIfHeard(tx, { orgId, type: BALANCE_LOW_EVENT, now }, () => lowBalanceData(after.availableMicros, after.heldMicros, thresholdMicros));
  } else if (!below && !armed) {
    store.setAlertSettings(tx, orgId, { armed: true });
  }
}

const lowBalanceData = (availableMicros: number, heldMicros: number, thresholdMicros: number) => ({
  ...balanceShape(availableMicros, heldMicros),
  low_balance_threshold: formatUsd(thresholdMicros),
});

/**
 * Sets (or with null clears) the low-balance threshold. When available is already below the new
 * threshold, `balance.low` fires at once, so a threshold set too late still warns; returns
 * whether it fired.
 */
export function setLowBalanceThreshold(tx: Conn, orgId: string, thresholdMicros: number | null, now: number): boolean {
  if (thresholdMicros === null) {
    store.setAlertSettings(tx, orgId, { thresholdMicros: null, armed: true });
    return false;
  }
  const balance = store.balanceOf(tx, orgId);
  const below = balance.availableMicros < thresholdMicros;
  store.setAlertSettings(tx, orgId, { thresholdMicros, armed: !below });
  if (below) Events.recordIfHeard(tx, { orgId, type: BALANCE_LOW_EVENT, now }, () => lowBalanceData(balance.availableMicros, balance.heldMicros, thresholdMicros));
  return below;
}

export function balanceSettingsView(conn: Conn, orgId: string) {
  const settings = store.alertSettingsOf(conn, orgId);
  const threshold = settings?.thresholdMicros ?? null;
  return { object: "balance_settings" as const, low_balance_threshold: threshold === null ? null : formatUsd(threshold) };
}

const balanceShape = (availableMicros: number, heldMicros: number) => ({
  object: "balance" as const,
  available: formatUsd(availableMicros),
  held: formatUsd(heldMicros),
  total: formatUsd(availableMicros + heldMicros),
  currency: "USD" as const,
});

export function balanceView(conn: Conn, orgId: string) {
  const b = store.balanceOf(conn, orgId);
  return balanceShape(b.availableMicros, b.heldMicros);
}

/** Credited and captured since the organization began (OpenRouter's credits endpoint). */
export const lifetimeTotals = (conn: Conn, orgId: string) => store.lifetimeTotals(conn, orgId);

/** What a key has spent (captured, or held while running) since `sinceMs`: spend limits and key reports. */
export const spentByKeySince = (conn: Conn, keyId: string, sinceMs: number) => store.spendOfKeySince(conn, keyId, sinceMs);

export type TransactionType = "credit" | "capture" | "release" | "adjustment";

/**
 * A ledger entry on the wire. A resolution reads as `capture` when it charged anything (the
 * rest of the hold is released in the same entry) and `release` when it charged nothing.
 * `amount` is the signed effect on `available` of the whole execution: minus what it charged.
 */
export function transactionView(row: store.EntryRow) {
  const resolved = row.kind === "resolve";
  const type: TransactionType = resolved ? ((row.capturedMicros ?? 0) > 0 ? "capture" : "release") : (row.kind as Exclude<store.EntryRow["kind"], "resolve">);
  return {
    id: row.id,
    object: "balance_transaction" as const,
    type,
    amount: formatUsd(row.amountMicros),
    captured: resolved ? formatUsd(row.capturedMicros ?? 0) : null,
    released: resolved ? formatUsd(row.releasedMicros ?? 0) : null,
    execution_id: row.executionId,
    note: row.note,
    created_at: new Date(row.createdAt).toISOString(),
  };
}

export function listTransactions(conn: Conn, orgId: string, query: { limit?: number; starting_after?: string; ending_before?: string }) {
  const page = pageRequest(query);
  return toList(store.entriesPage(conn, orgId, page), page, transactionView);
}

/** The largest single credit: keeps every balance far inside exact integer range. */
export const MAX_CREDIT_MICROS = 1_000_000 * 1_000_000;
export const MAX_NOTE_LENGTH = 500;
const IDEMPOTENCY_KEY_SHAPE = /^[\x20-\x7e]{1,255}$/;

export type CreditInput = { amount: string; note?: string; idempotencyKey?: string };
export type OperatorDeps = { db: Db; now: number; actor: Audit.Actor };

/** A positive USD amount as a string ("25.00"), parsed exactly; 400 naming `field` otherwise. */
export function parseAmount(text: string, field: string, opts: { allowZero?: boolean; maxMicros?: number } = {}): number {
  const micros = parseUsd(text);
  if (micros === null) throw invalidField(field, "invalid_format", `${field} must be a decimal USD amount with at most 6 decimals, e.g. "25.00".`);
  if (micros === 0 && !opts.allowZero) throw invalidField(field, "out_of_range", `${field} must be greater than 0.`);
  if (opts.maxMicros !== undefined && micros > opts.maxMicros) throw invalidField(field, "out_of_range", `${field} may be at most ${formatUsd(opts.maxMicros)}.`);
  return micros;
}

/**
 * An operator's credit (admin API or CLI), with an audit row in the same transaction. An
 * idempotency key already used by this org returns the first entry (`created: false`); with a
 * different amount or note it is 422 IDEMPOTENCY_KEY_REUSED.
 */
export function addCredit(deps: OperatorDeps, orgId: string, input: CreditInput) {
  const amountMicros = parseAmount(input.amount, "amount", { maxMicros: MAX_CREDIT_MICROS });
  const note = input.note ?? null;
  if (note !== null && note.length > MAX_NOTE_LENGTH) throw invalidField("note", "too_long", `note may be at most ${MAX_NOTE_LENGTH} characters.`);
  const key = input.idempotencyKey;
  if (key !== undefined && !IDEMPOTENCY_KEY_SHAPE.test(key))
    throw invalidField("Idempotency-Key", "invalid_format", "The idempotency key must be 1–255 printable ASCII characters.");
  Orgs.findOrg(deps.db, orgId);
  // IMMEDIATE: take the write lock before the idempotency read, so a CLI and a server never race.
  const result = deps.db.transaction(
    (tx) => {
      const outcome = credit(tx, orgId, amountMicros, deps.now, { note, idempotencyKey: key });
      if (outcome.created)
        Audit.recordAudit(tx, { actor: deps.actor, action: "balance.credit", target: orgId, details: { entry_id: outcome.entry.id, amount: formatUsd(amountMicros), note, idempotency_key: key ?? null } }, deps.now);
      return outcome;
    },
    { behavior: "immediate" },
  );
  if (!result.created && (result.entry.amountMicros !== amountMicros || result.entry.note !== note))
    throw new AppError("IDEMPOTENCY_KEY_REUSED", "This idempotency key was used for a credit with a different amount or note.", [
      { field: "Idempotency-Key", code: "invalid_format", message: "Use a new key for a different credit." },
    ]);
  return { transaction: transactionView(result.entry), created: result.created, balance: balanceView(deps.db, orgId) };
}

/**
 * Sets the org's low-balance threshold ("5.00", or null to turn the alert off); an operator
 * change is audited. Returns the settings and whether `balance.low` fired at once.
 */
export function updateBalanceSettings(deps: { db: Db; now: number; actor?: Audit.Actor }, orgId: string, lowBalanceThreshold: string | null) {
  const thresholdMicros = lowBalanceThreshold === null ? null : parseAmount(lowBalanceThreshold, "low_balance_threshold", { allowZero: true, maxMicros: MAX_CREDIT_MICROS });
  const fired = deps.db.transaction(
    (tx) => {
      const fired = setLowBalanceThreshold(tx, orgId, thresholdMicros, deps.now);
      if (deps.actor)
        Audit.recordAudit(tx, { actor: deps.actor, action: "balance.settings", target: orgId, details: { low_balance_threshold: lowBalanceThreshold } }, deps.now);
      return fired;
    },
    { behavior: "immediate" },
  );
  return { settings: balanceSettingsView(deps.db, orgId), fired };
}
