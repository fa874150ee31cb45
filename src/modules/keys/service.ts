/**
 * API keys: issuing, verifying and managing them. Verification reads through a short-lived
 * in-memory cache so a request costs no query, yet a key revoked by another process (the CLI)
 * stops working within CACHE_TTL_MS. A refusal is a value, not an
 * exception (Unkey).
 *
 * Invariants: at most MAX_ACTIVE_KEYS_PER_ORG keys that are neither revoked nor expired per org
 * (checked and written in one IMMEDIATE transaction); rotation never adds to that count; an org
 * keeps at least one working full-permission key unless the operator revokes it.
 */
import type { Conn, Db, Tx } from "../../db/client";
import type { KeyLimits } from "../../db/schema";
import { AppError, invalidField } from "../../errors";
import { pageRequest, toList, type PageQuery } from "../../http/pagination";
import { isId, newId } from "../../ids";
import { limitsView, mergeLimits, type LimitsInput } from "./limits";
import * as store from "./store";
import { apiKeyProblem, generateApiKey, hashSecret, maskApiKey } from "./secret";
import { iso } from "../../time";

export const CACHE_TTL_MS = 1000;
const CACHE_MAX_ENTRIES = 10_000;
export const MAX_ACTIVE_KEYS_PER_ORG = 20;
/** How long the previous secret keeps working after a rotation (the API reference: "1h grace period"). */
export const ROTATION_GRACE_MS = 3_600_000;

export type Permission = "full" | "inference";

export type Caller = {
  orgId: string;
  keyId: string;
  permission: Permission;
  /** The key's own limits; effectiveLimits() (limits.ts) combines them with the guardrail's. */
  limits: KeyLimits;
  guardrailId: string | null;
  /** The assigned guardrail's limits, when it has one. */
  guardrailLimits?: KeyLimits | null;
  /** The key's response-cache setting (docs/cache.md); "default" when left out. */
  responseCache?: ResponseCacheSetting;
};

export type ResponseCacheSetting = store.ApiKeyRow["responseCache"];

export type Verification = { valid: true; caller: Caller } | { valid: false; message: string };

export type KeyCache = {
  entries: Map<string, { lookup: store.KeyLookup | undefined; fetchedAt: number }>;
  lastUsed: Map<string, number>;
};

export const createKeyCache = (): KeyCache => ({ entries: new Map(), lastUsed: new Map() });

type VerifyDeps = { db: Db; keyCache: KeyCache; now: () => number };

export function verifyApiKey(deps: VerifyDeps, key: string): Verification {
  const problem = apiKeyProblem(key);
  if (problem) return { valid: false, message: problem };
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
    caller: {
      orgId: row.orgId,
      keyId: row.id,
      permission: row.permission,
      limits: row.limits,
      guardrailId: row.guardrailId,
      guardrailLimits: found.guardrailLimits,
      responseCache: row.responseCache,
    },
  };
}

/** Forgets every cached lookup, so this process's own key changes apply to the next request. */
export const invalidateKeyCache = (cache: KeyCache) => cache.entries.clear();

/** Writes the last-used times gathered since the previous flush (called on a timer, not per request); a failed write keeps them. */
export function flushLastUsed(db: Db, cache: KeyCache) {
  if (cache.lastUsed.size === 0) return;
  const batch = new Map(cache.lastUsed);
  cache.lastUsed.clear();
  try {
    store.touchLastUsed(db, batch);
  } catch (error) {
    // Not written (a full disk): kept for the next flush, unless a newer use came meanwhile.
    for (const [id, at] of batch) if (!cache.lastUsed.has(id)) cache.lastUsed.set(id, at);
    throw error;
  }
}

export type NewKey = { id: string; key: string };

/** Inserts a key row and its secret; returns the secret, which is never stored in clear. */
export function issueKey(
  conn: Conn,
  input: { orgId: string; name: string; permission: Permission; limits?: KeyLimits; expiresAt?: number | null; responseCache?: ResponseCacheSetting },
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
      responseCache: input.responseCache ?? "default",
      expiresAt: input.expiresAt ?? null,
      createdAt: now,
    },
    hashSecret(key),
    now,
  );
  return { id, key };
}

// ---- Management (the /v1/api-keys routes, the admin API and the CLI share these) ----

/** What every write needs; keyCache is this process's, invalidated after the write commits. */
export type KeyDeps = { db: Db; now: number; keyCache?: KeyCache };
/** Runs inside the write's transaction (the admin surfaces write their audit row here). */
export type AlsoInTx = (tx: Tx) => void;

export type CreateKeyInput = { name: string; permission?: Permission; expires_at?: string; limits?: LimitsInput; response_cache?: ResponseCacheSetting };
export type UpdateKeyInput = { name?: string; disabled?: boolean; limits?: LimitsInput; response_cache?: ResponseCacheSetting };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

function parseExpiry(text: string, now: number): number {
  const at = ISO_UTC.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) throw invalidField("expires_at", "invalid_format", "Must be an ISO-8601 UTC time ending in Z, e.g. 2030-01-31T00:00:00Z.");
  if (at <= now) throw invalidField("expires_at", "out_of_range", "Must be in the future.");
  return at;
}

function validName(name: string, field = "name"): string {
  const trimmed = name.trim();
  if (trimmed.length === 0) throw invalidField(field, "too_short", "Must not be blank.");
  return trimmed;
}

export type KeyStatus = "active" | "disabled" | "expired" | "revoked";

function statusOf(row: store.ApiKeyRow, now: number): KeyStatus {
  if (row.revokedAt !== null) return "revoked";
  if (row.expiresAt !== null && row.expiresAt <= now) return "expired";
  return row.disabled ? "disabled" : "active";
}


/** The wire `api_key` object: masked, never the secret. */
export function keyView(deps: KeyDeps, row: store.ApiKeyRow) {
  const lastUsed = deps.keyCache?.lastUsed.get(row.id) ?? null;
  return {
    id: row.id,
    object: "api_key" as const,
    name: row.name,
    permission: row.permission,
    masked_key: row.maskedKey,
    status: statusOf(row, deps.now),
    disabled: row.disabled,
    limits: limitsView(row.limits),
    guardrail_id: row.guardrailId,
    response_cache: row.responseCache,
    expires_at: iso(row.expiresAt),
    previous_key_expires_at: iso(store.previousSecretExpiry(deps.db, row.id, deps.now)),
    last_used_at: iso(Math.max(lastUsed ?? 0, row.lastUsedAt ?? 0) || null),
    created_at: iso(row.createdAt)!,
  };
}
export type KeyView = ReturnType<typeof keyView>;

/** A live key of the org, or 404 (malformed, unknown, revoked and foreign ids look the same). */
export function findKey(deps: KeyDeps, orgId: string, id: string): store.ApiKeyRow {
  const row = isId("key", id) ? store.liveKeyInOrg(deps.db, orgId, id) : undefined;
  if (!row) throw new AppError("NOT_FOUND", `No API key ${id}.`);
  return row;
}

function afterWrite(deps: KeyDeps) {
  if (deps.keyCache) invalidateKeyCache(deps.keyCache);
}

export function createKey(deps: KeyDeps, orgId: string, input: CreateKeyInput, alsoInTx?: AlsoInTx): { view: KeyView; key: string } {
  const name = validName(input.name);
  const expiresAt = input.expires_at === undefined ? null : parseExpiry(input.expires_at, deps.now);
  const limits = mergeLimits({}, input.limits);
  const issued = deps.db.transaction(
    (tx) => {
      if (store.countActiveKeys(tx, orgId, deps.now) >= MAX_ACTIVE_KEYS_PER_ORG)
        throw new AppError(
          "API_KEY_LIMIT_REACHED",
          `This organization already has ${MAX_ACTIVE_KEYS_PER_ORG} active API keys, the most allowed; revoke one first.`,
        );
      const created = issueKey(tx, { orgId, name, permission: input.permission ?? "inference", limits, expiresAt, responseCache: input.response_cache }, deps.now);
      alsoInTx?.(tx);
      return created;
    },
    { behavior: "immediate" }, // the count and the insert must not interleave with another writer
  );
  afterWrite(deps);
  return { view: keyView(deps, store.keyById(deps.db, issued.id)!), key: issued.key };
}

/** `guardrail`: only keys under that guardrail id, or under any ("assigned"). */
export function listKeys(deps: KeyDeps, orgId: string, query: PageQuery, guardrail?: string) {
  const page = pageRequest(query);
  return toList(store.listKeys(deps.db, orgId, page, guardrail), page, (row) => keyView(deps, row));
}

export const getKey = (deps: KeyDeps, orgId: string, id: string) => keyView(deps, findKey(deps, orgId, id));

/** 409 when the change would leave the org without a working full-permission key. */
function guardLastFullKey(tx: Tx, row: store.ApiKeyRow, now: number, action: string) {
  if (row.permission !== "full" || statusOf(row, now) !== "active") return;
  if (store.countUsableFullKeys(tx, row.orgId, now, row.id) === 0)
    throw new AppError("CONFLICT", `This is the organization's last working full-permission key; create another one before you ${action} it.`);
}

export function updateKey(deps: KeyDeps, orgId: string, id: string, input: UpdateKeyInput, alsoInTx?: AlsoInTx): KeyView {
  const row = findKey(deps, orgId, id);
  const set: Parameters<typeof store.updateKey>[2] = {};
  if (input.name !== undefined) set.name = validName(input.name);
  if (input.limits !== undefined) set.limits = mergeLimits(row.limits, input.limits);
  if (input.disabled !== undefined) set.disabled = input.disabled;
  if (input.response_cache !== undefined) set.responseCache = input.response_cache;
  deps.db.transaction(
    (tx) => {
      if (input.disabled === true) guardLastFullKey(tx, row, deps.now, "disable");
      if (Object.keys(set).length > 0) store.updateKey(tx, id, set);
      alsoInTx?.(tx);
    },
    { behavior: "immediate" },
  );
  afterWrite(deps);
  return keyView(deps, store.keyById(deps.db, id)!);
}

/**
 * Revokes a key at once. `operator` skips the last-full-key check: the operator can always issue
 * a new key, and may mean to lock an org out.
 */
export function revokeKey(deps: KeyDeps, orgId: string, id: string, opts: { operator?: boolean; alsoInTx?: AlsoInTx } = {}) {
  const row = findKey(deps, orgId, id);
  deps.db.transaction(
    (tx) => {
      if (!opts.operator) guardLastFullKey(tx, row, deps.now, "delete");
      store.revokeKey(tx, id, deps.now);
      opts.alsoInTx?.(tx);
    },
    { behavior: "immediate" },
  );
  afterWrite(deps);
  return { id, object: "api_key" as const, deleted: true as const };
}

/**
 * Issues a new secret for the same key (same id, limits, guardrail and counters). The previous
 * secret keeps working for ROTATION_GRACE_MS, then answers 401 with its own message. Never
 * refused by the key limit: the key count does not change.
 */
export function rotateKey(deps: KeyDeps, orgId: string, id: string, alsoInTx?: AlsoInTx): { view: KeyView; key: string } {
  findKey(deps, orgId, id);
  const key = generateApiKey();
  deps.db.transaction(
    (tx) => {
      store.rotateSecret(tx, id, hashSecret(key), maskApiKey(key), deps.now + ROTATION_GRACE_MS, deps.now);
      alsoInTx?.(tx);
    },
    { behavior: "immediate" },
  );
  afterWrite(deps);
  return { view: keyView(deps, store.keyById(deps.db, id)!), key };
}

// ---- For the guardrails module (it reaches keys only through these) ----

/** Ids among `keyIds` that are live keys of the org. */
export const liveKeyIds = store.liveKeyIds;
/** Points live keys of the org at a guardrail; returns how many changed. */
export const assignGuardrail = (tx: Tx, orgId: string, keyIds: string[], guardrailId: string) => store.setGuardrail(tx, orgId, keyIds, guardrailId);
/** Detaches keys from this guardrail (keys under another one are left alone); returns how many changed. */
export const unassignGuardrail = (tx: Tx, orgId: string, keyIds: string[], guardrailId: string) =>
  store.setGuardrail(tx, orgId, keyIds, null, guardrailId);
export const detachGuardrail = store.clearGuardrail;
export const countLiveKeys = store.countLiveKeysAll;

/** See store.lockKeyForLimits: a key's limits checked once at a time across replicas. */
export const lockKeyForLimits = store.lockKeyForLimits;
