/** The aimp_runs table: what an AIMP run adds to its execution (mode, scope, item, settled result). */
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { aimpRuns } from "../../db/schema";

export type RunRow = typeof aimpRuns.$inferSelect;

export const insertRun = (tx: Conn, row: typeof aimpRuns.$inferInsert) => tx.insert(aimpRuns).values(row).run();

export const runOf = (conn: Conn, orgId: string, executionId: string): RunRow | undefined =>
  conn.select().from(aimpRuns).where(and(eq(aimpRuns.executionId, executionId), eq(aimpRuns.orgId, orgId))).get();

/** Records the result once; false when another settle got there first. */
export const settleRun = (tx: Conn, executionId: string, result: Record<string, unknown>): boolean =>
  tx.update(aimpRuns).set({ result }).where(and(eq(aimpRuns.executionId, executionId), isNull(aimpRuns.result))).returning({ id: aimpRuns.executionId }).get() !== undefined;

/** Retention: a purged execution's run keeps its mode and scope, not its request or result. */
export const purgeRuns = (tx: Conn, executionIds: string[]) =>
  tx.update(aimpRuns).set({ request: null, result: null }).where(inArray(aimpRuns.executionId, executionIds)).run();
