/** Queries on executions and execution_events. Status is written only by state.ts. */
import { and, eq, inArray, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { Conn, Db } from "../../db/client";
import { executionEvents, executions } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type ExecutionRow = typeof executions.$inferSelect;
export type Status = ExecutionRow["status"];

export const TERMINAL: readonly Status[] = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];
export const isTerminal = (status: Status) => TERMINAL.includes(status);

export function insertExecution(tx: Conn, row: typeof executions.$inferInsert): number {
  tx.insert(executions).values(row).run();
  return insertEvent(tx, row.id, row.status, row.createdAt);
}

export function insertEvent(tx: Conn, executionId: string, status: string, at: number): number {
  return tx.insert(executionEvents).values({ executionId, status, at }).returning({ seq: executionEvents.seq }).get().seq;
}

const byIdStatements = new WeakMap<Db, ReturnType<typeof prepareById>>();
const prepareById = (db: Db) => db.select().from(executions).where(eq(executions.id, sql.placeholder("id"))).prepare();

/** One execution by id; prepared once per database handle (it is the polling hot path). */
export function byId(db: Conn, id: string): ExecutionRow | undefined {
  const asDb = db as Db;
  let statement = byIdStatements.get(asDb);
  if (!statement) byIdStatements.set(asDb, (statement = prepareById(asDb)));
  return statement.get({ id });
}

export function page(db: Conn, orgId: string, req: PageRequest, filters: { status?: Status; model?: string }) {
  const { where, orderBy, take } = pageClauses(
    executions.id,
    req,
    and(eq(executions.orgId, orgId), filters.status ? eq(executions.status, filters.status) : undefined, filters.model ? eq(executions.model, filters.model) : undefined),
  );
  return db.select().from(executions).where(where).orderBy(orderBy).limit(take).all();
}

export const eventsSince = (db: Conn, executionId: string, afterSeq: number) =>
  db
    .select()
    .from(executionEvents)
    .where(and(eq(executionEvents.executionId, executionId), sql`${executionEvents.seq} > ${afterSeq}`))
    .orderBy(executionEvents.seq)
    .all();

/** Non-terminal executions whose deadline has passed, for the sweep. */
export const overdue = (db: Conn, now: number, limit: number) =>
  db
    .select({ id: executions.id, status: executions.status })
    .from(executions)
    .where(and(inArray(executions.status, ["PENDING", "AWAITING_WEBHOOK"]), isNotNull(executions.deadlineAt), lt(executions.deadlineAt, now)))
    .limit(limit)
    .all();

/** Drops input and output of executions finished before `before` (retention); returns how many. */
export const purgeFinishedBefore = (db: Conn, before: number, now: number, limit: number) =>
  db
    .update(executions)
    .set({ input: null, output: null, purgedAt: now })
    .where(
      inArray(
        executions.id,
        db
          .select({ id: executions.id })
          .from(executions)
          .where(and(isNull(executions.purgedAt), isNotNull(executions.completedAt), lt(executions.completedAt, before)))
          .limit(limit),
      ),
    )
    .run();

export const countRunningForKey = (db: Conn, keyId: string): number =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(executions)
    .where(and(eq(executions.keyId, keyId), inArray(executions.status, ["PENDING", "PROCESSING", "AWAITING_WEBHOOK"])))
    .get()!.n;
