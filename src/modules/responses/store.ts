/** Stored responses of the OpenAI Responses API: one row beside each execution that keeps one. */
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { storedResponses } from "../../db/schema";

export type StoredResponseRow = typeof storedResponses.$inferSelect;

export const insertStoredResponse = (conn: Conn, row: typeof storedResponses.$inferInsert) => conn.insert(storedResponses).values(row).run();

/** The organization's stored response, unless it was deleted. */
export const storedResponse = (conn: Conn, orgId: string, executionId: string): StoredResponseRow | undefined =>
  conn
    .select()
    .from(storedResponses)
    .where(and(eq(storedResponses.executionId, executionId), eq(storedResponses.orgId, orgId), isNull(storedResponses.deletedAt)))
    .get();

/** True when a row was deleted now (false: unknown, another org's, or deleted already). */
export const deleteStoredResponse = (conn: Conn, orgId: string, executionId: string, now: number): boolean =>
  conn
    .update(storedResponses)
    .set({ deletedAt: now })
    .where(and(eq(storedResponses.executionId, executionId), eq(storedResponses.orgId, orgId), isNull(storedResponses.deletedAt)))
    .returning({ id: storedResponses.executionId })
    .all().length > 0;

/** Retention: a purged execution's stored response keeps no instructions and no echoed parameters (tools, formats). */
export const purgeStoredResponses = (tx: Conn, executionIds: string[]) =>
  tx.update(storedResponses).set({ instructions: null, echo: {} }).where(inArray(storedResponses.executionId, executionIds)).run();
