/**
 * Ledger tables: append-only entries and one balance row per org, always written together in
 * the caller's transaction. Guards sit in the WHERE clause so check and write are one statement.
 */
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { balances, ledgerEntries } from "../../db/schema";
import { newId } from "../../ids";

export type EntryRow = typeof ledgerEntries.$inferSelect;

export function ensureBalance(conn: Conn, orgId: string) {
  conn.insert(balances).values({ orgId }).onConflictDoNothing().run();
}

export const balanceOf = (conn: Conn, orgId: string) =>
  conn.select().from(balances).where(eq(balances.orgId, orgId)).get() ?? { orgId, availableMicros: 0, heldMicros: 0 };

/** Moves amount from available to held and records the hold; null when available is short. */
export function placeHold(conn: Conn, orgId: string, executionId: string, keyId: string | null, amountMicros: number, now: number): string | null {
  const moved = conn
    .update(balances)
    .set({ availableMicros: sql`${balances.availableMicros} - ${amountMicros}`, heldMicros: sql`${balances.heldMicros} + ${amountMicros}` })
    .where(and(eq(balances.orgId, orgId), gte(balances.availableMicros, amountMicros)))
    .returning({ orgId: balances.orgId })
    .get();
  if (!moved) return null;
  const id = newId("entry");
  conn.insert(ledgerEntries).values({ id, orgId, kind: "hold", amountMicros: -amountMicros, executionId, keyId, createdAt: now }).run();
  return id;
}

export const holdOf = (conn: Conn, executionId: string): EntryRow | undefined =>
  conn.select().from(ledgerEntries).where(and(eq(ledgerEntries.executionId, executionId), eq(ledgerEntries.kind, "hold"))).get();

/**
 * Resolves a hold with one entry carrying both the captured and the released part. The unique
 * index on hold_id makes a second resolution fail, so "exactly once" is a database fact.
 */
export function resolveHold(conn: Conn, hold: EntryRow, capturedMicros: number, now: number): boolean {
  const heldMicros = -hold.amountMicros;
  const releasedMicros = heldMicros - capturedMicros;
  const inserted = conn
    .insert(ledgerEntries)
    .values({
      id: newId("entry"),
      orgId: hold.orgId,
      kind: "resolve",
      amountMicros: releasedMicros,
      capturedMicros,
      releasedMicros,
      executionId: hold.executionId,
      keyId: hold.keyId,
      holdId: hold.id,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: ledgerEntries.id })
    .get();
  if (!inserted) return false;
  conn
    .update(balances)
    .set({ availableMicros: sql`${balances.availableMicros} + ${releasedMicros}`, heldMicros: sql`${balances.heldMicros} - ${heldMicros}` })
    .where(eq(balances.orgId, hold.orgId))
    .run();
  return true;
}

/** Adds a credit; with an idempotency key already used by this org, returns the first entry instead. */
export function credit(conn: Conn, orgId: string, amountMicros: number, note: string | null, idempotencyKey: string | null, now: number): { entry: EntryRow; created: boolean } {
  if (idempotencyKey) {
    const existing = conn
      .select()
      .from(ledgerEntries)
      .where(and(eq(ledgerEntries.orgId, orgId), eq(ledgerEntries.idempotencyKey, idempotencyKey)))
      .get();
    if (existing) return { entry: existing, created: false };
  }
  ensureBalance(conn, orgId);
  const entry = conn
    .insert(ledgerEntries)
    .values({ id: newId("entry"), orgId, kind: "credit", amountMicros, note, idempotencyKey, createdAt: now })
    .returning()
    .get();
  conn.update(balances).set({ availableMicros: sql`${balances.availableMicros} + ${amountMicros}` }).where(eq(balances.orgId, orgId)).run();
  return { entry, created: true };
}

export const entriesPage = (conn: Conn, orgId: string, limit: number, startingAfter?: string) =>
  conn
    .select()
    .from(ledgerEntries)
    .where(startingAfter ? and(eq(ledgerEntries.orgId, orgId), lt(ledgerEntries.id, startingAfter)) : eq(ledgerEntries.orgId, orgId))
    .orderBy(desc(ledgerEntries.id))
    .limit(limit)
    .all();
