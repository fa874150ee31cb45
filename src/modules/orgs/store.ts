import { eq, sql } from "drizzle-orm";
import type { Conn } from "../../db/client";
import { orgs } from "../../db/schema";

export type OrgRow = typeof orgs.$inferSelect;

export const insertOrg = (conn: Conn, row: typeof orgs.$inferInsert) => conn.insert(orgs).values(row).run();

export const orgById = (conn: Conn, id: string): OrgRow | undefined =>
  conn.select().from(orgs).where(eq(orgs.id, id)).get();

export const countOrgs = (conn: Conn): number =>
  conn.select({ n: sql<number>`count(*)` }).from(orgs).get()!.n;
