import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { preparedPerConnection } from "../../db/prepared";
import { events } from "../../db/schema";

export type EventRow = typeof events.$inferSelect;

const insertStatement = preparedPerConnection((conn) =>
  conn
    .insert(events)
    .values({
      id: sql.placeholder("id"), orgId: sql.placeholder("orgId"), type: sql.placeholder("type"), data: sql.placeholder("data"),
      executionId: sql.placeholder("executionId"), webhookUrl: sql.placeholder("webhookUrl"), createdAt: sql.placeholder("createdAt"),
    })
    .prepare(),
);

/** Every status change writes one: prepared. */
export const insertEvent = (tx: Conn, row: Required<Omit<typeof events.$inferInsert, "dispatchedAt">>) => insertStatement(tx).run(row);

/** The oldest events not yet handed to the webhook dispatcher. */
export const undispatched = (conn: Conn, limit: number): EventRow[] =>
  conn.select().from(events).where(isNull(events.dispatchedAt)).orderBy(asc(events.createdAt), asc(events.id)).limit(limit).all();

export const markDispatched = (conn: Conn, id: string, now: number) =>
  conn.update(events).set({ dispatchedAt: now }).where(and(eq(events.id, id), isNull(events.dispatchedAt))).run();

export const eventById = (conn: Conn, id: string): EventRow | undefined => conn.select().from(events).where(eq(events.id, id)).get();
