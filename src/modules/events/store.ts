import { and, asc, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { placeholders, preparedPerConnection } from "../../db/prepared";
import { events } from "../../db/schema";

export type EventRow = typeof events.$inferSelect;

const insertStatement = preparedPerConnection((conn) =>
  conn
    .insert(events)
    .values(placeholders("id", "orgId", "type", "data", "executionId", "webhookUrl", "createdAt"))
    .prepare(),
);

/** Every status change writes one: prepared. */
export const insertEvent = (tx: Conn, row: Required<Omit<typeof events.$inferInsert, "dispatchedAt">>) => insertStatement(tx).run(row);

/** What the dispatcher needs of an event to fan it out (not its data: that is read when sending). */
export type EventHead = Pick<EventRow, "id" | "orgId" | "type" | "webhookUrl" | "createdAt">;

const undispatchedStatement = preparedPerConnection((conn) =>
  conn
    .select({ id: events.id, orgId: events.orgId, type: events.type, webhookUrl: events.webhookUrl, createdAt: events.createdAt })
    .from(events)
    .where(isNull(events.dispatchedAt))
    .orderBy(asc(events.createdAt), asc(events.id))
    .limit(sql.placeholder("limit"))
    .prepare(),
);

/** The oldest events not yet handed to the webhook dispatcher. */
export const undispatched = (conn: Conn, limit: number): EventHead[] => undispatchedStatement(conn).all({ limit });

const markStatement = preparedPerConnection((conn) =>
  conn
    .update(events)
    .set({ dispatchedAt: sql`${sql.placeholder("now")}` })
    .where(and(eq(events.id, sql.placeholder("id")), isNull(events.dispatchedAt)))
    .prepare(),
);

/** Every event is marked once: prepared. */
export const markDispatched = (conn: Conn, id: string, now: number) => markStatement(conn).run({ id, now });

const byIdStatement = preparedPerConnection((conn) => conn.select().from(events).where(eq(events.id, sql.placeholder("id"))).prepare());

/** Every delivery attempt reads its event: prepared. */
export const eventById = (conn: Conn, id: string): EventRow | undefined => byIdStatement(conn).get({ id });

/** Retention: deletes dispatched events created before `before` (they hold copies of execution input and output). */
export const purgeDispatchedBefore = (conn: Conn, before: number, limit: number): number =>
  conn
    .delete(events)
    .where(
      inArray(
        events.id,
        conn.select({ id: events.id }).from(events).where(and(isNotNull(events.dispatchedAt), lt(events.createdAt, before))).limit(limit),
      ),
    )
    .returning({ id: events.id })
    .all().length;
