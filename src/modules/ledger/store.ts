/**
 * Ledger tables: append-only entries and one balance row per org, always written together in
 * the caller's transaction. Guards sit in the WHERE clause so check and write are one statement.
 * The balance row also holds the `balance.low` settings (low_balance_threshold_micros,
 * low_balance_armed): every balance update returns them, so the alert costs no extra query.
 * Statements on the execution hot path (hold, settle) are prepared once per connection.
 */
import { and, eq, gte, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/sqlite-core";
import type { Conn } from "../../db/client";
import { preparedPerConnection, rawPerConnection } from "../../db/prepared";
import { balances, ledgerEntries } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";
import { newId } from "../../ids";

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
const resolveRow = alias(ledgerEntries, "resolution");

const statements = preparedPerConnection((conn: Conn) => ({
    balanceOf: conn.select().from(balances).where(eq(balances.orgId, p("org"))).prepare(),
    // A key's spend since a time: each hold placed since then counts its capture once
    // resolved, its full amount while open.
    spendOfKey: conn
      .select({ spentMicros: sql<number>`coalesce(sum(coalesce(${resolveRow.capturedMicros}, -${ledgerEntries.amountMicros})), 0)` })
      .from(ledgerEntries)
      .leftJoin(resolveRow, eq(resolveRow.holdId, ledgerEntries.id))
      // `kind = 'hold'` as a literal: the partial index ledger_key_holds is chosen at prepare time.
      .where(and(eq(ledgerEntries.keyId, p("key")), sql`${ledgerEntries.kind} = 'hold'`, gte(ledgerEntries.createdAt, p("since"))))
      .prepare(),
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
  // The unique hold_id index turns a second resolution into a no-op (no row returned).
  insertEntry: sqlite.prepare(
    `INSERT INTO ledger_entries (id, org_id, kind, amount_micros, captured_micros, released_micros, execution_id, key_id, hold_id, created_at)
     VALUES ($id, $org, $kind, $amount, $captured, $released, $execution, $key, $hold, $now)
     ON CONFLICT DO NOTHING RETURNING id`,
  ),
}));

/** Moves amount from available to held and records the hold; null when available is short. */
export function placeHold(conn: Conn, orgId: string, executionId: string, keyId: string | null, amountMicros: number, now: number): { holdId: string; after: BalanceAfter } | null {
  const s = hot(conn);
  const after = s.hold.get({ org: orgId, amount: amountMicros }) as BalanceAfter | null;
  if (!after) return null;
  const holdId = holdIdOf(executionId);
  s.insertEntry.get({ id: holdId, org: orgId, kind: "hold", amount: -amountMicros, captured: null, released: null, execution: executionId, key: keyId, hold: null, now });
  return { holdId, after };
}

/**
 * An execution has at most one hold; its entry id is the execution's own UUIDv7 under the
 * `entry_` prefix, so settling finds it without a lookup (and without an index on execution_id).
 */
export const holdIdOf = (executionId: string) => `entry_${executionId.slice(executionId.indexOf("_") + 1)}`;

/** What resolving a hold needs, all known from the execution row. */
export type HoldRef = { id: string; orgId: string; executionId: string; keyId: string | null; heldMicros: number };

/**
 * Resolves a hold with one entry carrying both the captured and the released part. The unique
 * index on hold_id makes a second resolution a no-op (null), so "exactly once" is a database fact.
 */
export function resolveHold(conn: Conn, hold: HoldRef, capturedMicros: number, now: number): BalanceAfter | null {
  const s = hot(conn);
  const heldMicros = hold.heldMicros;
  const releasedMicros = heldMicros - capturedMicros;
  const inserted = s.insertEntry.get({
    id: newId("entry"),
    org: hold.orgId,
    kind: "resolve",
    amount: releasedMicros,
    captured: capturedMicros,
    released: releasedMicros,
    execution: hold.executionId,
    key: hold.keyId,
    hold: hold.id,
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
export const spendOfKeySince = (conn: Conn, keyId: string, sinceMs: number): number =>
  statements(conn).spendOfKey.get({ key: keyId, since: sinceMs })?.spentMicros ?? 0;

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
