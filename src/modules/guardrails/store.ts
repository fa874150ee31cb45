import { and, count, eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { planPage, type Page, type PageQuery } from "../../db/page";
import { guardrails } from "../../db/schema";

export type GuardrailRow = typeof guardrails.$inferSelect;

export const insertGuardrail = (conn: Conn, row: typeof guardrails.$inferInsert) => conn.insert(guardrails).values(row).run();

export const guardrailById = (conn: Conn, id: string): GuardrailRow | undefined =>
  conn.select().from(guardrails).where(eq(guardrails.id, id)).get();

export const guardrailInOrg = (conn: Conn, orgId: string, id: string): GuardrailRow | undefined =>
  conn
    .select()
    .from(guardrails)
    .where(and(eq(guardrails.id, id), eq(guardrails.orgId, orgId)))
    .get();

export const countGuardrails = (conn: Conn, orgId: string): number =>
  conn.select({ n: count() }).from(guardrails).where(eq(guardrails.orgId, orgId)).get()!.n;

export function listGuardrails(conn: Conn, orgId: string, page: PageQuery): Page<GuardrailRow> {
  const plan = planPage(guardrails.id, page);
  const rows = conn.select().from(guardrails).where(plan.where(eq(guardrails.orgId, orgId))).orderBy(plan.orderBy).limit(plan.fetch).all();
  return plan.finish(rows);
}

export function updateGuardrail(conn: Conn, id: string, set: Partial<Omit<GuardrailRow, "id" | "orgId" | "createdAt">>) {
  conn.update(guardrails).set(set).where(eq(guardrails.id, id)).run();
}

export const deleteGuardrail = (conn: Conn, id: string) => conn.delete(guardrails).where(eq(guardrails.id, id)).run();
