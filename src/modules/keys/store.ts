import { eq, sql } from "drizzle-orm";
import type { Conn, Db } from "../../db/client";
import { apiKeys, apiKeySecrets, orgs } from "../../db/schema";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export function insertKey(conn: Conn, row: typeof apiKeys.$inferInsert, secretHash: string, now: number) {
  conn.insert(apiKeys).values(row).run();
  conn.insert(apiKeySecrets).values({ hash: secretHash, keyId: row.id, createdAt: now }).run();
}

export type KeyLookup = {
  key: ApiKeyRow;
  orgStatus: "active" | "suspended";
  secretExpiresAt: number | null;
};

const lookupStatements = new WeakMap<Db, ReturnType<typeof prepareLookup>>();
const prepareLookup = (db: Db) =>
  db
    .select({ key: apiKeys, orgStatus: orgs.status, secretExpiresAt: apiKeySecrets.expiresAt })
    .from(apiKeySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeySecrets.keyId))
    .innerJoin(orgs, eq(orgs.id, apiKeys.orgId))
    .where(eq(apiKeySecrets.hash, sql.placeholder("hash")))
    .prepare();

/** The key a secret hash belongs to, with what auth needs to judge it; prepared once per handle. */
export function lookupBySecretHash(db: Db, hash: string): KeyLookup | undefined {
  let statement = lookupStatements.get(db);
  if (!statement) lookupStatements.set(db, (statement = prepareLookup(db)));
  return statement.get({ hash }) as KeyLookup | undefined;
}

export const keyById = (conn: Conn, id: string): ApiKeyRow | undefined =>
  conn.select().from(apiKeys).where(eq(apiKeys.id, id)).get();

/** Writes the batched last-used times (one statement per key, one transaction). */
export function touchLastUsed(db: Db, times: Map<string, number>) {
  db.transaction((tx) => {
    for (const [id, at] of times) tx.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id)).run();
  });
}

