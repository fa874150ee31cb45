import { sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { executions } from "../../db/schema";

/**
 * Executions by status, for the operator's stats. A read-only aggregate over the executions
 * table; it moves to the executions store once that module exports one (issue 8 note).
 */
export function countExecutionsByStatus(conn: Conn): Record<string, number> {
  const rows = conn.select({ status: executions.status, n: sql<number>`count(*)` }).from(executions).groupBy(executions.status).all();
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
