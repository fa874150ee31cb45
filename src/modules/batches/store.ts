/** The batches and batch_lines tables. Every status change is a guarded UPDATE (`WHERE status IN …`). */
import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { batchLines, batches } from "../../db/schema";

export type BatchRow = typeof batches.$inferSelect;
export type BatchStatus = BatchRow["status"];
export type LineRow = typeof batchLines.$inferSelect;
export type Outcome = NonNullable<LineRow["outcome"]>;

/** Statuses after which nothing changes. */
export const ENDED: readonly BatchStatus[] = ["failed", "completed", "expired", "cancelled"];
export const isEnded = (status: BatchStatus) => ENDED.includes(status);

export const insertBatch = (conn: Conn, row: typeof batches.$inferInsert) => conn.insert(batches).values(row).run();

export const batchById = (conn: Conn, id: string): BatchRow | undefined => conn.select().from(batches).where(and(eq(batches.id, id), isNull(batches.deletedAt))).get();

/** Moves a batch from one of `from` to `to` with the given columns; the row, or undefined when the guard did not match. */
export const moveBatch = (conn: Conn, id: string, from: readonly BatchStatus[], to: BatchStatus, set: Partial<BatchRow> = {}) =>
  conn.update(batches).set({ ...set, status: to }).where(and(eq(batches.id, id), inArray(batches.status, [...from]))).returning().get();

export const updateBatch = (conn: Conn, id: string, set: Partial<BatchRow>) => conn.update(batches).set(set).where(eq(batches.id, id)).run();

export const markDeleted = (conn: Conn, id: string, now: number) => conn.update(batches).set({ deletedAt: now }).where(eq(batches.id, id)).run();

export type BatchPage = { dialect: BatchRow["dialect"]; limit: number; after?: string; before?: string };

/** A page of an org's batches of one surface, newest first: `limit + 1` rows older than `after` (or newer than `before`). */
export function listBatches(conn: Conn, orgId: string, page: BatchPage): BatchRow[] {
  const cursor = page.after ? lt(batches.id, page.after) : page.before ? gt(batches.id, page.before) : undefined;
  const rows = conn
    .select()
    .from(batches)
    .where(and(eq(batches.orgId, orgId), eq(batches.dialect, page.dialect), isNull(batches.deletedAt), cursor))
    .orderBy(page.before ? asc(batches.id) : desc(batches.id))
    .limit(page.limit + 1)
    .all();
  return page.before ? rows.reverse() : rows;
}

export const insertLines = (conn: Conn, rows: (typeof batchLines.$inferInsert)[]) => {
  if (rows.length) conn.insert(batchLines).values(rows).run();
};

export const deleteLines = (conn: Conn, batchId: string) => conn.delete(batchLines).where(eq(batchLines.batchId, batchId)).run();

export const lineOf = (conn: Conn, batchId: string, line: number): LineRow | undefined =>
  conn.select().from(batchLines).where(and(eq(batchLines.batchId, batchId), eq(batchLines.line, line))).get();

/** Ties a line to the execution created for it; false when it already has one or has ended (the create must roll back). */
export const attachExecution = (conn: Conn, batchId: string, line: number, executionId: string): boolean =>
  conn
    .update(batchLines)
    .set({ executionId })
    .where(and(eq(batchLines.batchId, batchId), eq(batchLines.line, line), isNull(batchLines.executionId), isNull(batchLines.outcome)))
    .returning({ line: batchLines.line })
    .get() !== undefined;

const COUNTER = { succeeded: batches.succeeded, errored: batches.errored, canceled: batches.canceled, expired: batches.expired } as const;

/** Adds `n` lines ended with `outcome` to the batch's counters; returns the counters after. */
const countOutcome = (conn: Conn, batchId: string, outcome: Outcome, n: number) =>
  conn
    .update(batches)
    .set({ [outcome]: sql`${COUNTER[outcome]} + ${n}` })
    .where(eq(batches.id, batchId))
    .returning()
    .get()!;

/** Ends one line, once: its outcome, status code and result, and the batch's counter. Undefined when it had ended already. */
export function settleLine(conn: Conn, batchId: string, line: number, outcome: Outcome, statusCode: number | null, result: Record<string, unknown>): BatchRow | undefined {
  const ended = conn
    .update(batchLines)
    .set({ outcome, statusCode, result })
    .where(and(eq(batchLines.batchId, batchId), eq(batchLines.line, line), isNull(batchLines.outcome)))
    .returning({ line: batchLines.line })
    .get();
  return ended ? countOutcome(conn, batchId, outcome, 1) : undefined;
}

/** Ends every line that has no execution yet with `outcome` (a cancel or an expiry); returns the counters after. */
export function settleUnstarted(conn: Conn, batchId: string, outcome: Outcome, result: Record<string, unknown>): BatchRow {
  const ended = conn
    .update(batchLines)
    .set({ outcome, result })
    .where(and(eq(batchLines.batchId, batchId), isNull(batchLines.outcome), isNull(batchLines.executionId)))
    .returning({ line: batchLines.line })
    .all();
  return countOutcome(conn, batchId, outcome, ended.length);
}

/** Executions of lines still running. */
export const runningExecutions = (conn: Conn, batchId: string): string[] =>
  conn
    .select({ id: batchLines.executionId })
    .from(batchLines)
    .where(and(eq(batchLines.batchId, batchId), isNull(batchLines.outcome), isNotNull(batchLines.executionId)))
    .all()
    .map((r) => r.id!);

/** Ended lines in order, `limit` after line `afterLine` (the finalizer writes them out page by page). */
export const linesAfter = (conn: Conn, batchId: string, afterLine: number, limit: number): LineRow[] =>
  conn
    .select()
    .from(batchLines)
    .where(and(eq(batchLines.batchId, batchId), gt(batchLines.line, afterLine)))
    .orderBy(asc(batchLines.line))
    .limit(limit)
    .all();
