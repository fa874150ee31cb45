/**
 * Ledger tables: credit and adjustment entries, one balance row per org and each key's spend by
 * day, always written together in the caller's transaction. A resolution is not stored: it is the
 * finished execution's own row (derivedResolutions). Guards sit in the WHERE clause so check and
 * write are one statement. The balance row also holds the `balance.low` settings
 * (low_balance_threshold_micros, low_balance_armed): every balance update returns them, so the
 * alert costs no extra query. Statements on the execution hot path (hold, settle) are prepared
 * once per connection.
 */
import { and, eq, gt, inArray, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { preparedPerConnection, rawPerConnection } from "../../db/prepared";
import { balances, executions, keySpend, ledgerEntries } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";
import { newId } from "../../ids";
import { DAY_MS } from "../../time";
import { TERMINAL } from "../executions/store";

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
  // Adds to the key's spend on the day its execution was created (the key_spend table).
  addKeySpend: sqlite.prepare(
    `INSERT INTO key_spend (key_id, day, captured_micros) VALUES ($key, $day, $captured)
     ON CONFLICT (key_id, day) DO UPDATE SET captured_micros = key_spend.captured_micros + excluded.captured_micros`,
  ),
  // A key's spend on the executions it created since a UTC day: what their resolutions captured
  // (key_spend), and what the open ones hold (a hold is the execution row's hold_micros until it
  // is resolved). The second term names its partial index's WHERE exactly, as SQLite needs to use it.
  spendOfKey: sqlite.prepare(
    `SELECT coalesce((SELECT sum(captured_micros) FROM key_spend WHERE key_id = $key AND day >= $sinceDay), 0)
          + coalesce((SELECT sum(hold_micros) FROM executions WHERE status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK') AND key_id = $key AND created_at >= $since AND id != $except), 0) AS spentMicros`,
  ),
}));

/**
 * Moves amount from available to held; null when available is short. A hold has no entry of its
 * own: it is the execution's `hold_micros` while the execution is open (docs/decisions.md "One
 * ledger entry per execution"), and the finished execution row records what it became.
 */
export function placeHold(conn: Conn, orgId: string, amountMicros: number): BalanceAfter | null {
  return (hot(conn).hold.get({ org: orgId, amount: amountMicros }) as BalanceAfter | null) ?? null;
}

/** A resolution reads with the execution's own UUIDv7 under the `entry_` prefix: one id per execution, stable. */
export const resolutionIdOf = (executionId: string) => `entry_${executionId.slice(executionId.indexOf("_") + 1)}`;
const executionIdOf = (resolutionId: string) => `exec_${resolutionId.slice(resolutionId.indexOf("_") + 1)}`;


/** What resolving a hold needs, all known from the execution row. */
export type HoldRef = { orgId: string; keyId: string | null; heldMicros: number; createdAt: number };

/**
 * Resolves a hold: releases it from held and gives back to available what was not captured,
 * and adds the capture to the key's spend. Exactly once is the caller's guarded status change
 * to a terminal state (executions/state.ts), in the same transaction: the finished execution row
 * is the resolution's record.
 */
export function resolveHold(conn: Conn, hold: HoldRef, capturedMicros: number): BalanceAfter | null {
  const s = hot(conn);
  if (hold.keyId !== null && capturedMicros > 0) s.addKeySpend.run({ key: hold.keyId, day: Math.floor(hold.createdAt / DAY_MS), captured: capturedMicros });
  return (s.release.get({ org: hold.orgId, released: hold.heldMicros - capturedMicros, held: hold.heldMicros }) as BalanceAfter | null) ?? null;
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

/**
 * Everything credited to an organization (credits and adjustments) and everything captured from
 * it: holds and releases keep the total, so what is not in available or held was captured.
 */
export function lifetimeTotals(conn: Conn, orgId: string): { creditedMicros: number; capturedMicros: number } {
  const { creditedMicros } = conn
    .select({ creditedMicros: sql<number>`coalesce(sum(${ledgerEntries.amountMicros}), 0)` })
    .from(ledgerEntries)
    .where(and(eq(ledgerEntries.orgId, orgId), inArray(ledgerEntries.kind, ["credit", "adjustment"])))
    .get()!;
  const balance = balanceOf(conn, orgId);
  return { creditedMicros, capturedMicros: creditedMicros - balance.availableMicros - balance.heldMicros };
}

/**
 * What a key has spent (captured, or held while running) on executions created since `sinceMs`,
 * a UTC midnight (every spend window starts at one) or 0.
 */
export const spendOfKeySince = (conn: Conn, keyId: string, sinceMs: number, exceptExecutionId = ""): number =>
  (hot(conn).spendOfKey.get({ key: keyId, sinceDay: Math.floor(sinceMs / DAY_MS), since: sinceMs, except: exceptExecutionId }) as { spentMicros: number } | null)?.spentMicros ?? 0;

/**
 * The resolutions of an org's finished executions that held anything, as entries: captured is
 * the cost (settlement caps it at the hold), released the rest of the hold, at completion time.
 */
function derivedResolutions(conn: Conn, orgId: string, page: PageRequest): EntryRow[] {
  // The same page over the executions' ids: a resolution's id is its execution's UUIDv7.
  const onExecutions = { ...page, startingAfter: page.startingAfter && executionIdOf(page.startingAfter), endingBefore: page.endingBefore && executionIdOf(page.endingBefore) };
  const { where, orderBy, take } = pageClauses(executions.id, onExecutions, and(eq(executions.orgId, orgId), inArray(executions.status, [...TERMINAL]), gt(executions.holdMicros, 0)));
  const rows = conn
    .select({ id: executions.id, orgId: executions.orgId, keyId: executions.keyId, costMicros: executions.costMicros, holdMicros: executions.holdMicros, completedAt: executions.completedAt })
    .from(executions)
    .where(where)
    .orderBy(orderBy)
    .limit(take)
    .all();
  return rows.map((e) => {
    const captured = e.costMicros ?? 0;
    return {
      id: resolutionIdOf(e.id),
      orgId: e.orgId,
      kind: "resolve" as const,
      amountMicros: -captured,
      capturedMicros: captured,
      releasedMicros: e.holdMicros - captured,
      executionId: e.id,
      keyId: e.keyId,
      holdId: null,
      note: null,
      idempotencyKey: null,
      createdAt: e.completedAt ?? 0,
    };
  });
}

/** A page of an org's ledger, newest first: its stored entries and its executions' resolutions, merged by id. */
export function entriesPage(conn: Conn, orgId: string, page: PageRequest): EntryRow[] {
  const { where, orderBy, take } = pageClauses(ledgerEntries.id, page, eq(ledgerEntries.orgId, orgId));
  const stored = conn.select().from(ledgerEntries).where(where).orderBy(orderBy).limit(take).all();
  const ascending = page.endingBefore !== undefined;
  return [...stored, ...derivedResolutions(conn, orgId, page)]
    .sort((a, b) => (a.id < b.id === ascending ? -1 : 1))
    .slice(0, take);
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
