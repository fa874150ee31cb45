import { and, eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { auditLog } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type AuditRow = typeof auditLog.$inferSelect;

export const insertAudit = (conn: Conn, row: typeof auditLog.$inferInsert) => conn.insert(auditLog).values(row).run();

export function listAudit(conn: Conn, page: PageRequest, filter: { action?: string; target?: string }): AuditRow[] {
  const { where, orderBy, take } = pageClauses(
    auditLog.id,
    page,
    and(
      filter.action === undefined ? undefined : eq(auditLog.action, filter.action),
      filter.target === undefined ? undefined : eq(auditLog.target, filter.target),
    ),
  );
  return conn.select().from(auditLog).where(where).orderBy(orderBy).limit(take).all();
}
