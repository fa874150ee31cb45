import { and, count, eq } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { guardrails } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

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

export function listGuardrails(conn: Conn, orgId: string, page: PageRequest): GuardrailRow[] {
  const { where, orderBy, take } = pageClauses(guardrails.id, page, eq(guardrails.orgId, orgId));
  return conn.select().from(guardrails).where(where).orderBy(orderBy).limit(take).all();
}

export function updateGuardrail(conn: Conn, id: string, set: Partial<Omit<GuardrailRow, "id" | "orgId" | "createdAt">>) {
  conn.update(guardrails).set(set).where(eq(guardrails.id, id)).run();
}

export const deleteGuardrail = (conn: Conn, id: string) => conn.delete(guardrails).where(eq(guardrails.id, id)).run();
