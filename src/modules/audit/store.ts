import { and, eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { planPage, type Page, type PageQuery } from "../../db/page";
import { auditLog } from "../../db/schema";

export type AuditRow = typeof auditLog.$inferSelect;

export const insertAudit = (conn: Conn, row: typeof auditLog.$inferInsert) => conn.insert(auditLog).values(row).run();

export function listAudit(conn: Conn, page: PageQuery, filter: { action?: string; target?: string }): Page<AuditRow> {
  const plan = planPage(auditLog.id, page);
  const where = and(
    filter.action === undefined ? undefined : eq(auditLog.action, filter.action),
    filter.target === undefined ? undefined : eq(auditLog.target, filter.target),
  );
  return plan.finish(conn.select().from(auditLog).where(plan.where(where)).orderBy(plan.orderBy).limit(plan.fetch).all());
}
