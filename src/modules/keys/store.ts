import { and, count, eq, gt, inArray, isNotNull, isNull, max, ne, or, sql } from "drizzle-orm";
import type { Conn, Db } from "../../db/client";
import { isPostgres, preparedPerConnection } from "../../db/prepared";
import { apiKeys, apiKeySecrets, guardrails, orgs, type KeyLimits } from "../../db/schema";
import { pageClauses, type PageRequest } from "../../http/pagination";

export type ApiKeyRow = typeof apiKeys.$inferSelect;

export function insertKey(conn: Conn, row: typeof apiKeys.$inferInsert, secretHash: string, now: number) {
  conn.insert(apiKeys).values(row).run();
  conn.insert(apiKeySecrets).values({ hash: secretHash, keyId: row.id, createdAt: now }).run();
}

export type KeyLookup = {
  key: ApiKeyRow;
  orgStatus: "active" | "suspended";
  secretExpiresAt: number | null;
  /** The assigned guardrail's limits, joined here so auth needs one query per key per second. */
  guardrailLimits: KeyLimits | null;
};

const lookupStatement = preparedPerConnection((conn) =>
  conn
    .select({ key: apiKeys, orgStatus: orgs.status, secretExpiresAt: apiKeySecrets.expiresAt, guardrailLimits: guardrails.limits })
    .from(apiKeySecrets)
    .innerJoin(apiKeys, eq(apiKeys.id, apiKeySecrets.keyId))
    .innerJoin(orgs, eq(orgs.id, apiKeys.orgId))
    .leftJoin(guardrails, eq(guardrails.id, apiKeys.guardrailId))
    .where(eq(apiKeySecrets.hash, sql.placeholder("hash")))
    .prepare(),
);

/** The key a secret hash belongs to, with what auth needs to judge it; prepared once per connection. */
export const lookupBySecretHash = (conn: Conn, hash: string): KeyLookup | undefined => lookupStatement(conn).get({ hash }) as KeyLookup | undefined;

/**
 * Replicas on PostgreSQL: holds the key's row until the commit, so two replicas creating
 * executions for one key with limits count each other's (a concurrency or spend limit is one
 * check-and-insert per key, as on SQLite's single writer). Nothing to do on SQLite.
 */
export function lockKeyForLimits(conn: Conn, keyId: string) {
  if (isPostgres(conn)) conn.run(sql`SELECT id FROM api_keys WHERE id = ${keyId} FOR UPDATE`);
}

export const keyById = (conn: Conn, id: string): ApiKeyRow | undefined =>
  conn.select().from(apiKeys).where(eq(apiKeys.id, id)).get();

/** A key of the org that has not been revoked. */
export const liveKeyInOrg = (conn: Conn, orgId: string, id: string): ApiKeyRow | undefined =>
  conn
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), eq(apiKeys.orgId, orgId), isNull(apiKeys.revokedAt)))
    .get();

/** `guardrail`: only keys under that guardrail id, or under any ("assigned"). */
export function listKeys(conn: Conn, orgId: string, page: PageRequest, guardrail?: string): ApiKeyRow[] {
  const byGuardrail = guardrail === undefined ? undefined : guardrail === "assigned" ? isNotNull(apiKeys.guardrailId) : eq(apiKeys.guardrailId, guardrail);
  const { where, orderBy, take } = pageClauses(apiKeys.id, page, and(eq(apiKeys.orgId, orgId), isNull(apiKeys.revokedAt), byGuardrail));
  return conn.select().from(apiKeys).where(where).orderBy(orderBy).limit(take).all();
}

const notExpired = (now: number) => or(isNull(apiKeys.expiresAt), gt(apiKeys.expiresAt, now));

/** Keys that count toward the per-org limit: not revoked, not expired (disabled ones count). */
export const countActiveKeys = (conn: Conn, orgId: string, now: number): number =>
  conn
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.orgId, orgId), isNull(apiKeys.revokedAt), notExpired(now)))
    .get()!.n;

/** Full-permission keys that work right now, other than `exceptId`. */
export const countUsableFullKeys = (conn: Conn, orgId: string, now: number, exceptId: string): number =>
  conn
    .select({ n: count() })
    .from(apiKeys)
    .where(
      and(
        eq(apiKeys.orgId, orgId),
        eq(apiKeys.permission, "full"),
        eq(apiKeys.disabled, false),
        isNull(apiKeys.revokedAt),
        notExpired(now),
        ne(apiKeys.id, exceptId),
      ),
    )
    .get()!.n;

export function updateKey(conn: Conn, id: string, set: Partial<Pick<ApiKeyRow, "name" | "limits" | "disabled" | "responseCache">>) {
  conn.update(apiKeys).set(set).where(eq(apiKeys.id, id)).run();
}

export function revokeKey(conn: Conn, id: string, now: number) {
  conn.update(apiKeys).set({ revokedAt: now }).where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt))).run();
}

/**
 * Adds a new secret; every secret of the key that had no expiry gets `graceEndsAt` (one rotated
 * earlier keeps its own, shorter, grace).
 */
export function rotateSecret(conn: Conn, keyId: string, secretHash: string, maskedKey: string, graceEndsAt: number, now: number) {
  conn
    .update(apiKeySecrets)
    .set({ expiresAt: graceEndsAt })
    .where(and(eq(apiKeySecrets.keyId, keyId), isNull(apiKeySecrets.expiresAt)))
    .run();
  conn.insert(apiKeySecrets).values({ hash: secretHash, keyId, createdAt: now }).run();
  conn.update(apiKeys).set({ maskedKey }).where(eq(apiKeys.id, keyId)).run();
}

/** When the last previous secret still in its grace period stops working; null when none is. */
export const previousSecretExpiry = (conn: Conn, keyId: string, now: number): number | null =>
  conn
    .select({ at: max(apiKeySecrets.expiresAt) })
    .from(apiKeySecrets)
    .where(and(eq(apiKeySecrets.keyId, keyId), gt(apiKeySecrets.expiresAt, now)))
    .get()?.at ?? null;

/** Points the given live keys of the org at a guardrail (or at none); returns how many changed. */
export function setGuardrail(conn: Conn, orgId: string, keyIds: string[], guardrailId: string | null, onlyFrom?: string): number {
  if (keyIds.length === 0) return 0;
  return conn
    .update(apiKeys)
    .set({ guardrailId })
    .where(
      and(
        eq(apiKeys.orgId, orgId),
        inArray(apiKeys.id, keyIds),
        isNull(apiKeys.revokedAt),
        onlyFrom === undefined ? undefined : eq(apiKeys.guardrailId, onlyFrom),
        guardrailId === null ? undefined : or(isNull(apiKeys.guardrailId), ne(apiKeys.guardrailId, guardrailId)),
      ),
    )
    .returning({ id: apiKeys.id })
    .all().length;
}

/** Detaches every key from a guardrail being deleted. */
export function clearGuardrail(conn: Conn, guardrailId: string) {
  conn.update(apiKeys).set({ guardrailId: null }).where(eq(apiKeys.guardrailId, guardrailId)).run();
}

/** Ids among `keyIds` that are live keys of the org. */
export const liveKeyIds = (conn: Conn, orgId: string, keyIds: string[]): Set<string> =>
  new Set(
    keyIds.length === 0
      ? []
      : conn
          .select({ id: apiKeys.id })
          .from(apiKeys)
          .where(and(eq(apiKeys.orgId, orgId), inArray(apiKeys.id, keyIds), isNull(apiKeys.revokedAt)))
          .all()
          .map((r) => r.id),
  );

/** Writes the batched last-used times (one statement per key, one transaction). */
export function touchLastUsed(db: Db, times: Map<string, number>) {
  db.transaction((tx) => {
    for (const [id, at] of times) tx.update(apiKeys).set({ lastUsedAt: at }).where(eq(apiKeys.id, id)).run();
  });
}

export const countLiveKeysAll = (conn: Conn, now: number): number =>
  conn.select({ n: count() }).from(apiKeys).where(and(isNull(apiKeys.revokedAt), notExpired(now))).get()!.n;
