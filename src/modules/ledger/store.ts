/**
 * Ledger tables: append-only entries and one balance row per org, always written together in
 * the caller's transaction. Guards sit in the WHERE clause so check and write are one statement.
 * The balance row also holds the `balance.low` settings (low_balance_threshold_micros,
 * low_balance_armed): every balance update returns them, so the alert costs no extra query.
 * Statements on the execution hot path (hold, settle) are prepared once per connection.
 */
import { and, eq, gte, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { preparedPerConnection, rawPerConnection } from "../../db/prepared";
import { balances, ledgerEntries } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";
import { firstIdAt, newId } from "../../ids";

export type EntryRow = typeof ledgerEntries.$inferSelect;

/** A balance row as it stands after an update, with the org's low-balance alert state. */
export type BalanceAfter = { availableMicros: number; heldMicros: number; thresholdMicros: number | null; armed: boolean | number | null };

const afterFields = {
  availableMicros: balances.availableMicros,
  heldMicros: balances.heldMicros,
  thresholdMicros: balances.lowBalanceThresholdMicros,
  armed: balances.lowBalanceArmed,
};

const p = sql.placeholder;

const statements = preparedPerConnection((conn: Conn) => ({
    balanceOf: conn.select().from(balances).where(eq(balances.orgId, p("org"))).prepare(),
}));

export function ensureBalance(conn: Conn, orgId: string) {
  conn.insert(balances).values({ orgId }).onConflictDoNothing().run();
}

export const balanceOf = (conn: Conn, orgId: string) => statements(conn).balanceOf.get({ org: orgId }) ?? { orgId, availableMicros: 0, heldMicros: 0 };

/** The two statements of a hold and the two of a settlement, raw: every execution runs them (db/prepared.ts). */
const hot = rawPerConnection((sqlite) => ({
  hold: sqlite.prepare(
    `UPDATE balances SET available_micros = available_micros - $amount, held_micros = held_micros + $amount
     WHERE org_id = $org AND available_micros >= $amount
     RETURNING available_micros AS availableMicros, held_micros AS heldMicros, low_balance_threshold_micros AS thresholdMicros, low_balance_armed AS armed`,
  ),
  release: sqlite.prepare(
    `UPDATE balances SET available_micros = available_micros + $released, held_micros = held_micros - $held
     WHERE org_id = $org
     RETURNING available_micros AS availableMicros, held_micros AS heldMicros, low_balance_threshold_micros AS thresholdMicros, low_balance_armed AS armed`,
  ),
  // The primary key (the execution's own id, resolutionIdOf) turns a second resolution into a no-op (no row returned).
  insertEntry: sqlite.prepare(
    `INSERT INTO ledger_entries (id, org_id, kind, amount_micros, captured_micros, released_micros, execution_id, key_id, hold_id, created_at)
     VALUES ($id, $org, $kind, $amount, $captured, $released, $execution, $key, $hold, $now)
     ON CONFLICT DO NOTHING RETURNING id`,
  ),
  // A key's spend on the executions it created since a time: what their resolutions captured
  // (a resolution's id is its execution's, so ids from $sinceId on are executions created since),
  // and what the open ones hold (a hold is the execution row's hold_micros until it is resolved).
  // Both terms name their partial index's WHERE exactly, as SQLite needs to use it.
  spendOfKey: sqlite.prepare(
    `SELECT coalesce((SELECT sum(captured_micros) FROM ledger_entries WHERE kind = 'resolve' AND key_id = $key AND id >= $sinceId), 0)
          + coalesce((SELECT sum(hold_micros) FROM executions WHERE status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK') AND key_id = $key AND created_at >= $since AND id != $except), 0) AS spentMicros`,
  ),
}));

/**
 * Moves amount from available to held; null when available is short. A hold has no entry of its
 * own: it is the execution's `hold_micros` while the execution is open (docs/decisions.md "One
 * ledger entry per execution"), and the entry that resolves it records what it became.
 */
export function placeHold(conn: Conn, orgId: string, amountMicros: number): BalanceAfter | null {
  return (hot(conn).hold.get({ org: orgId, amount: amountMicros }) as BalanceAfter | null) ?? null;
}

/**
 * An execution's resolution entry has the execution's own UUIDv7 under the `entry_` prefix, so
 * the primary key makes a second resolution a no-op: "exactly once" is a database fact.
 */
export const resolutionIdOf = (executionId: string) => `entry_${executionId.slice(executionId.indexOf("_") + 1)}`;

/** What resolving a hold needs, all known from the execution row. */
export type HoldRef = { orgId: string; executionId: string; keyId: string | null; heldMicros: number };

/**
 * Resolves a hold with one entry: its amount is what the execution took from available in all
 * (minus the capture), with the captured and released parts beside it. Null when the execution
 * was resolved already.
 */
export function resolveHold(conn: Conn, hold: HoldRef, capturedMicros: number, now: number): BalanceAfter | null {
  const s = hot(conn);
  const heldMicros = hold.heldMicros;
  const releasedMicros = heldMicros - capturedMicros;
  const inserted = s.insertEntry.get({
    id: resolutionIdOf(hold.executionId),
    org: hold.orgId,
    kind: "resolve",
    amount: -capturedMicros,
    captured: capturedMicros,
    released: releasedMicros,
    execution: hold.executionId,
    key: hold.keyId,
    hold: null,
    now,
  });
  if (!inserted) return null;
  return (s.release.get({ org: hold.orgId, released: releasedMicros, held: heldMicros }) as BalanceAfter | null) ?? null;
}

export const creditByIdempotencyKey = (conn: Conn, orgId: string, idempotencyKey: string): EntryRow | undefined =>
  conn
    .select()
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.orgId, orgId), eq(ledgerEntries.idempotencyKey, idempotencyKey)))
    .get();

/** Adds a credit entry and the amount to available; returns the entry and the balance after. */
export function insertCredit(conn: Conn, orgId: string, amountMicros: number, note: string | null, idempotencyKey: string | null, now: number): { entry: EntryRow; after: BalanceAfter } {
  ensureBalance(conn, orgId);
  const entry = conn
    .insert(ledgerEntries)
    .values({ id: newId("entry"), orgId, kind: "credit", amountMicros, note, idempotencyKey, createdAt: now })
    .returning()
    .get();
  const after = conn
    .update(balances)
    .set({ availableMicros: sql`${balances.availableMicros} + ${amountMicros}` })
    .where(eq(balances.orgId, orgId))
    .returning(afterFields)
    .get()!;
  return { entry, after };
}

/** Everything credited to an organization (credits and adjustments) and everything captured from it. */
export function lifetimeTotals(conn: Conn, orgId: string): { creditedMicros: number; capturedMicros: number } {
  return conn
    .select({
      creditedMicros: sql<number>`coalesce(sum(case when ${ledgerEntries.kind} in ('credit', 'adjustment') then ${ledgerEntries.amountMicros} else 0 end), 0)`,
      capturedMicros: sql<number>`coalesce(sum(case when ${ledgerEntries.kind} = 'resolve' then ${ledgerEntries.capturedMicros} else 0 end), 0)`,
    })
    .from(ledgerEntries)
    .where(eq(ledgerEntries.orgId, orgId))
    .get()!;
}

/** What a key has spent (captured, or held while running) on executions created since `sinceMs`. */
export const spendOfKeySince = (conn: Conn, keyId: string, sinceMs: number, exceptExecutionId = ""): number =>
  (hot(conn).spendOfKey.get({ key: keyId, since: sinceMs, sinceId: firstIdAt("entry", sinceMs), except: exceptExecutionId }) as { spentMicros: number } | null)?.spentMicros ?? 0;

export function entriesPage(conn: Conn, orgId: string, page: PageRequest): EntryRow[] {
  const { where, orderBy, take } = pageClauses(ledgerEntries.id, page, eq(ledgerEntries.orgId, orgId));
  return conn.select().from(ledgerEntries).where(where).orderBy(orderBy).limit(take).all();
}

export type AlertSettings = { thresholdMicros: number | null; armed: boolean };

export const alertSettingsOf = (conn: Conn, orgId: string): AlertSettings | undefined =>
  conn.select({ thresholdMicros: balances.lowBalanceThresholdMicros, armed: balances.lowBalanceArmed }).from(balances).where(eq(balances.orgId, orgId)).get();

export function setAlertSettings(conn: Conn, orgId: string, settings: Partial<AlertSettings>) {
  ensureBalance(conn, orgId); // an org never credited has no balance row yet
  conn
    .update(balances)
    .set({ lowBalanceThresholdMicros: settings.thresholdMicros, lowBalanceArmed: settings.armed })
    .where(eq(balances.orgId, orgId))
    .run();
}
