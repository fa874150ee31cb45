import { eq, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { orgs } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type OrgRow = typeof orgs.$inferSelect;

export const insertOrg = (conn: Conn, row: typeof orgs.$inferInsert) => conn.insert(orgs).values(row).run();

export const orgById = (conn: Conn, id: string): OrgRow | undefined =>
  conn.select().from(orgs).where(eq(orgs.id, id)).get();

export const countOrgs = (conn: Conn): number =>
  conn.select({ n: sql<number>`count(*)` }).from(orgs).get()!.n;

export const orgsByName = (conn: Conn, name: string): OrgRow[] => conn.select().from(orgs).where(eq(orgs.name, name)).limit(2).all();

export function listOrgs(conn: Conn, page: PageRequest): OrgRow[] {
  const { where, orderBy, take } = pageClauses(orgs.id, page);
  return conn.select().from(orgs).where(where).orderBy(orderBy).limit(take).all();
}

export function setOrgStatus(conn: Conn, id: string, status: OrgRow["status"]) {
  conn.update(orgs).set({ status }).where(eq(orgs.id, id)).run();
}

export const countOrgsByStatus = (conn: Conn): Record<OrgRow["status"], number> => {
  const counts = { active: 0, suspended: 0 };
  for (const row of conn.select({ status: orgs.status, n: sql<number>`count(*)` }).from(orgs).groupBy(orgs.status).all()) counts[row.status] = row.n;
  return counts;
};
