/**
 * API keys: issuing and verifying. Verification reads through a short-lived in-memory cache so
 * a request costs no query, yet a key revoked by another process (the CLI) stops working
 * within CACHE_TTL_MS (CONTRACT.md "Caches"). A refusal is a value, not an exception (Unkey).
 */
import type { Db } from "../../db/client";
import type { KeyLimits } from "../../db/schema";
import { newId } from "../../ids";
import * as store from "./store";
import { generateApiKey, hashSecret, isWellFormedApiKey, maskApiKey } from "./secret";

export const CACHE_TTL_MS = 1000;
const CACHE_MAX_ENTRIES = 10_000;

export type Caller = {
  orgId: string;
  keyId: string;
  permission: "full" | "inference";
  limits: KeyLimits;
  guardrailId: string | null;
};

export type Verification = { valid: true; caller: Caller } | { valid: false; message: string };

export type KeyCache = {
  entries: Map<string, { lookup: store.KeyLookup | undefined; fetchedAt: number }>;
  lastUsed: Map<string, number>;
};

export const createKeyCache = (): KeyCache => ({ entries: new Map(), lastUsed: new Map() });

type VerifyDeps = { db: Db; keyCache: KeyCache; now: () => number };

export function verifyApiKey(deps: VerifyDeps, key: string): Verification {
  if (!isWellFormedApiKey(key)) return { valid: false, message: "The API key is malformed: expected sk_<64 hex>_<8 hex checksum>." };
  const hash = hashSecret(key);
  const now = deps.now();
  let cached = deps.keyCache.entries.get(hash);
  if (!cached || now - cached.fetchedAt > CACHE_TTL_MS) {
    if (deps.keyCache.entries.size >= CACHE_MAX_ENTRIES) deps.keyCache.entries.clear();
    cached = { lookup: store.lookupBySecretHash(deps.db, hash), fetchedAt: now };
    deps.keyCache.entries.set(hash, cached);
  }
  const found = cached.lookup;
  if (!found) return { valid: false, message: "The API key is not recognised." };
  const { key: row } = found;
  if (row.revokedAt !== null) return { valid: false, message: "The API key has been revoked." };
  if (row.disabled) return { valid: false, message: "The API key is disabled." };
  if (row.expiresAt !== null && row.expiresAt <= now) return { valid: false, message: "The API key has expired." };
  if (found.secretExpiresAt !== null && found.secretExpiresAt <= now)
    return { valid: false, message: "The API key was rotated and its grace period has ended." };
  if (found.orgStatus !== "active") return { valid: false, message: "The organization is suspended." };
  deps.keyCache.lastUsed.set(row.id, now);
  return {
    valid: true,
    caller: { orgId: row.orgId, keyId: row.id, permission: row.permission, limits: row.limits, guardrailId: row.guardrailId },
  };
}

/** Forgets every cached lookup, so this process's own key changes apply to the next request. */
export const invalidateKeyCache = (cache: KeyCache) => cache.entries.clear();

/** Writes the last-used times gathered since the previous flush (called on a timer, not per request). */
export function flushLastUsed(db: Db, cache: KeyCache) {
  if (cache.lastUsed.size === 0) return;
  const batch = new Map(cache.lastUsed);
  cache.lastUsed.clear();
  store.touchLastUsed(db, batch);
}

export type NewKey = { id: string; key: string };

/** Inserts a key row and its secret; returns the secret, which is never stored in clear. */
export function issueKey(
  conn: Parameters<typeof store.insertKey>[0],
  input: { orgId: string; name: string; permission: "full" | "inference"; limits?: KeyLimits; expiresAt?: number | null },
  now: number,
): NewKey {
  const id = newId("key");
  const key = generateApiKey();
  store.insertKey(
    conn,
    {
      id,
      orgId: input.orgId,
      name: input.name,
      permission: input.permission,
      maskedKey: maskApiKey(key),
      limits: input.limits ?? {},
      expiresAt: input.expiresAt ?? null,
      createdAt: now,
    },
    hashSecret(key),
    now,
  );
  return { id, key };
}
