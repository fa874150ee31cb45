/**
 * The vector tables: one row per scope (organization, model, scope) with its item count and a
 * version that changes on every write, and one row per item with its float32 vector. Every
 * query names the organization, the model and the scope, so nothing crosses them.
 */
import { and, desc, eq, gt, inArray, lt, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { isPostgres } from "../../db/prepared";
import { vectorItems, vectorScopes } from "../../db/schema";

export type ScopeKey = { orgId: string; model: string; scope: string };
export type ScopeRow = typeof vectorScopes.$inferSelect;
export type ItemRow = typeof vectorItems.$inferSelect;

const scopeWhere = (k: ScopeKey) => and(eq(vectorScopes.orgId, k.orgId), eq(vectorScopes.model, k.model), eq(vectorScopes.scope, k.scope));
const itemsWhere = (k: ScopeKey) => and(eq(vectorItems.orgId, k.orgId), eq(vectorItems.model, k.model), eq(vectorItems.scope, k.scope));

export const scopeOf = (conn: Conn, k: ScopeKey): ScopeRow | undefined => conn.select().from(vectorScopes).where(scopeWhere(k)).get();

export const listScopes = (conn: Conn, orgId: string, model?: string): ScopeRow[] =>
  conn
    .select()
    .from(vectorScopes)
    .where(and(eq(vectorScopes.orgId, orgId), model === undefined ? undefined : eq(vectorScopes.model, model)))
    .orderBy(vectorScopes.model, vectorScopes.scope)
    .all();

/** Creates the scope or moves it to a new version with `countDelta` more items. */
export function touchScope(tx: Conn, k: ScopeKey, dimensions: number, countDelta: number, version: string, now: number) {
  tx.insert(vectorScopes)
    .values({ ...k, dimensions, itemCount: Math.max(0, countDelta), version, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [vectorScopes.orgId, vectorScopes.model, vectorScopes.scope],
      set: { itemCount: sql`${vectorScopes.itemCount} + ${countDelta}`, version, updatedAt: now },
    })
    .run();
}

export const deleteScopeRow = (tx: Conn, k: ScopeKey) => tx.delete(vectorScopes).where(scopeWhere(k)).run();

export const itemOf = (conn: Conn, k: ScopeKey, itemId: string): ItemRow | undefined =>
  conn.select().from(vectorItems).where(and(itemsWhere(k), eq(vectorItems.itemId, itemId))).get();

/** Inserts the item or replaces the one with the same id; returns its row id and whether it replaced one. */
export function upsertItem(tx: Conn, row: Omit<typeof vectorItems.$inferInsert, "rowId">): { rowId: number; replaced: boolean } {
  const existing = itemOf(tx, row, row.itemId);
  if (existing) {
    tx.update(vectorItems)
      .set({ vector: row.vector, metadata: row.metadata, inputRef: row.inputRef, runId: row.runId, updatedAt: row.updatedAt })
      .where(eq(vectorItems.rowId, existing.rowId))
      .run();
    return { rowId: existing.rowId, replaced: true };
  }
  const inserted = tx.insert(vectorItems).values(row).returning({ rowId: vectorItems.rowId }).get();
  return { rowId: inserted.rowId, replaced: false };
}

/** Deletes one item; its row id, or null when there was none. */
export function deleteItem(tx: Conn, k: ScopeKey, itemId: string): number | null {
  const gone = tx.delete(vectorItems).where(and(itemsWhere(k), eq(vectorItems.itemId, itemId))).returning({ rowId: vectorItems.rowId }).get();
  return gone?.rowId ?? null;
}

/** Deletes every item of a scope and the scope; how many items went. */
export function deleteScope(tx: Conn, k: ScopeKey): number {
  const gone = tx.delete(vectorItems).where(itemsWhere(k)).returning({ rowId: vectorItems.rowId }).all();
  deleteScopeRow(tx, k);
  return gone.length;
}

/** A batch of a scope's vectors in row order after `afterRowId`, for building the in-memory index. */
export const vectorBatch = (conn: Conn, k: ScopeKey, afterRowId: number, limit: number) =>
  conn
    .select({ rowId: vectorItems.rowId, vector: vectorItems.vector })
    .from(vectorItems)
    .where(and(itemsWhere(k), gt(vectorItems.rowId, afterRowId)))
    .orderBy(vectorItems.rowId)
    .limit(limit)
    .all();

/** Items by row id, within the scope (a stale key from another scope matches nothing). */
export const itemsByRowIds = (conn: Conn, k: ScopeKey, rowIds: number[]): ItemRow[] =>
  rowIds.length === 0 ? [] : conn.select().from(vectorItems).where(and(itemsWhere(k), inArray(vectorItems.rowId, rowIds))).all();

/** Row ids of the scope's items whose metadata has every `filter` key equal to its value. */
export function rowIdsMatching(conn: Conn, k: ScopeKey, filter: Record<string, string | number | boolean>): number[] {
  const postgres = isPostgres(conn);
  const clauses = Object.entries(filter).map(([key, value]) => {
    // jsonb equality compares type and value: "1" does not match 1, true matches only true.
    if (postgres) return sql`(${vectorItems.metadata}::jsonb -> ${key}::text) = ${JSON.stringify(value)}::jsonb`;
    const path = `$.${JSON.stringify(key)}`;
    // json_extract gives SQLite's 1/0 for JSON true/false, so booleans compare as integers; the type check keeps "1" from matching 1.
    const type = typeof value === "string" ? "text" : typeof value === "boolean" ? (value ? "true" : "false") : Number.isInteger(value) ? "integer" : "real";
    const equal = typeof value === "boolean" ? sql`1 = 1` : sql`json_extract(${vectorItems.metadata}, ${path}) = ${value}`;
    return and(sql`json_type(${vectorItems.metadata}, ${path}) = ${type}`, equal)!;
  });
  return conn
    .select({ rowId: vectorItems.rowId })
    .from(vectorItems)
    .where(and(itemsWhere(k), ...clauses))
    .all()
    .map((r) => r.rowId);
}

/** A page of the scope's items, newest first; `beforeRowId` is the cursor. */
export const itemsPage = (conn: Conn, k: ScopeKey, beforeRowId: number | null, take: number): ItemRow[] =>
  conn
    .select()
    .from(vectorItems)
    .where(and(itemsWhere(k), beforeRowId === null ? undefined : lt(vectorItems.rowId, beforeRowId)))
    .orderBy(desc(vectorItems.rowId))
    .limit(take)
    .all();
