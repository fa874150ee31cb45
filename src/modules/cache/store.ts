/** The response cache's SQL (docs/cache.md): entries by key, their use, and eviction in least-recently-used order. */
import { and, asc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { placeholders, preparedPerConnection } from "../../db/prepared";
import { responseCache } from "../../db/schema";

export type EntryRow = typeof responseCache.$inferSelect;
export type NewEntry = typeof responseCache.$inferInsert;

const byKeyStatement = preparedPerConnection((conn) => conn.select().from(responseCache).where(eq(responseCache.key, sql.placeholder("key"))).prepare());

/** One entry by key (the lookup of every cacheable request). */
export const entryByKey = (conn: Conn, key: string): EntryRow | undefined => byKeyStatement(conn).get({ key });

const touchStatement = preparedPerConnection((conn) =>
  conn
    .update(responseCache)
    .set({ lastUsedAt: sql.placeholder("now") as never, hits: sql`${responseCache.hits} + 1` })
    .where(eq(responseCache.key, sql.placeholder("key")))
    .prepare(),
);

/** A hit: the entry is now the most recently used. */
export const touch = (tx: Conn, key: string, now: number) => touchStatement(tx).run({ key, now });

const upsertStatement = preparedPerConnection((conn) =>
  conn
    .insert(responseCache)
    .values(placeholders("key", "orgId", "model", "executionId", "output", "usage", "costMicros", "servedModel", "routeId", "vectorScope", "vectorModel", "sizeBytes", "createdAt", "expiresAt", "lastUsedAt"))
    .onConflictDoUpdate({
      target: responseCache.key,
      set: {
        executionId: sql`excluded.execution_id`,
        output: sql`excluded.output`,
        usage: sql`excluded.usage`,
        costMicros: sql`excluded.cost_micros`,
        servedModel: sql`excluded.served_model`,
        routeId: sql`excluded.route_id`,
        vectorScope: sql`excluded.vector_scope`,
        vectorModel: sql`excluded.vector_model`,
        sizeBytes: sql`excluded.size_bytes`,
        createdAt: sql`excluded.created_at`,
        expiresAt: sql`excluded.expires_at`,
        lastUsedAt: sql`excluded.last_used_at`,
      },
    })
    .prepare(),
);

/** Stores (or replaces) an answer. */
export const upsert = (tx: Conn, row: Omit<NewEntry, "hits">) => upsertStatement(tx).run(row as never);

const sizeStatement = preparedPerConnection((conn) => conn.select({ size: responseCache.sizeBytes }).from(responseCache).where(eq(responseCache.key, sql.placeholder("key"))).prepare());

/** The size of the entry under `key` (every miss asks, before it replaces one). */
export const sizeOf = (conn: Conn, key: string): number | undefined => sizeStatement(conn).get({ key })?.size;

/** Bytes of every entry together (read once per process; kept up to date after each write). */
export const totalBytes = (conn: Conn): number => conn.select({ n: sql<number>`coalesce(sum(${responseCache.sizeBytes}), 0)` }).from(responseCache).get()!.n;

export type Evicted = Pick<EntryRow, "key" | "orgId" | "sizeBytes" | "vectorScope" | "vectorModel">;

const evictedColumns = { key: responseCache.key, orgId: responseCache.orgId, sizeBytes: responseCache.sizeBytes, vectorScope: responseCache.vectorScope, vectorModel: responseCache.vectorModel };

/** The least recently used entries, oldest first. */
export const leastRecentlyUsed = (conn: Conn, limit: number): Evicted[] =>
  conn.select(evictedColumns).from(responseCache).orderBy(asc(responseCache.lastUsedAt)).limit(limit).all();

/** Entries past their expiry. */
export const expired = (conn: Conn, now: number, limit: number): Evicted[] =>
  conn.select(evictedColumns).from(responseCache).where(lt(responseCache.expiresAt, now)).limit(limit).all();

export const deleteKeys = (tx: Conn, keys: string[]) => {
  if (keys.length) tx.delete(responseCache).where(inArray(responseCache.key, keys)).run();
};

export const deleteKey = (tx: Conn, orgId: string, key: string) => tx.delete(responseCache).where(and(eq(responseCache.key, key), eq(responseCache.orgId, orgId))).run();
