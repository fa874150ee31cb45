import { and, asc, eq, isNull } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { events } from "../../db/schema";

export type EventRow = typeof events.$inferSelect;

export const insertEvent = (tx: Conn, row: typeof events.$inferInsert) => tx.insert(events).values(row).run();

/** The oldest events not yet handed to the webhook dispatcher. */
export const undispatched = (conn: Conn, limit: number): EventRow[] =>
  conn.select().from(events).where(isNull(events.dispatchedAt)).orderBy(asc(events.createdAt), asc(events.id)).limit(limit).all();

export const markDispatched = (conn: Conn, id: string, now: number) =>
  conn.update(events).set({ dispatchedAt: now }).where(and(eq(events.id, id), isNull(events.dispatchedAt))).run();

export const eventById = (conn: Conn, id: string): EventRow | undefined => conn.select().from(events).where(eq(events.id, id)).get();
