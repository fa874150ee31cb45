/**
 * The response cache (docs/cache.md). A cacheable request is keyed by a SHA-256 of its
 * organization, the model name it asked for and its canonical input (every parameter but
 * `user`, keys sorted), so the same question asked through any dialect finds the same answer
 * and no organization ever reads another's. Which requests are cacheable:
 * - the task's answer is text or numbers (chat, text generation, embeddings, rerank, moderation);
 * - not bypassed (`X-ModelRoute-Cache: bypass`, `Cache-Control: no-cache` or `no-store`);
 * - the model's `cache.exact` is not `never`;
 * - deterministic (temperature 0 or a seed), unless the model says `always` or the request
 *   `X-ModelRoute-Cache: use`;
 * - no tools the answer could call (they may have side effects: a replayed tool call makes the
 *   client act again), unless the request says `X-ModelRoute-Cache: use`.
 * A hit is an execution of its own (executions/create.ts); a miss stores its answer in the
 * transaction that completes it. Entries live for the model's TTL and the whole cache is bounded
 * in bytes, the least recently used evicted first. This process is the only writer of the table
 * (one server per data directory), so it keeps the total size in memory.
 */
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import type { ModelCacheSettings } from "../../db/schema";
import { invalidField } from "../../errors";
import type { Usage } from "../../canonical/usage";
import type * as Catalog from "../catalog/service";
import * as store from "./store";

export type { EntryRow } from "./store";

/** What a request's headers ask of the cache: use it even when it would not, or leave it alone. */
export type RequestPolicy = "use" | "bypass" | undefined;

const CACHEABLE_TASKS = new Set(["chat", "text-generation", "embedding", "rerank", "moderation"]);
export const DEFAULT_TTL_SECONDS = 3600;
const EVICT_BATCH = 64;
const NO_CACHE = /(?:^|,)\s*no-(?:cache|store)\s*(?:,|$)/i;

/** `X-ModelRoute-Cache: use | bypass`, or `Cache-Control: no-cache` / `no-store` (bypass); 400 on another value. */
export function requestPolicy(headers: Headers): RequestPolicy {
  const asked = headers.get("x-modelroute-cache");
  if (asked !== null) {
    const value = asked.trim().toLowerCase();
    if (value === "use" || value === "bypass") return value;
    throw invalidField("X-ModelRoute-Cache", "invalid_format", 'X-ModelRoute-Cache is "use" (cache this request) or "bypass" (neither read nor write the cache).');
  }
  const control = headers.get("cache-control");
  return control !== null && NO_CACHE.test(control) ? "bypass" : undefined;
}

export type Decision = { key: string; ttlMs: number; semantic: NonNullable<ModelCacheSettings["semantic"]> | null };

const deterministic = (input: Record<string, unknown>) => input.temperature === 0 || (input.seed !== undefined && input.seed !== null);

/** Tools the answer may call: the client would act on a replayed call again. */
const offersTools = (input: Record<string, unknown>) => Array.isArray(input.tools) && input.tools.length > 0 && input.tool_choice !== "none";

/**
 * Whether (and under which key) a request is cached; null when it is not. `model` is the first
 * model that may answer it; `keySetting` the caller's key's. A request's bypass, the key's
 * `never` and the model's `never` each rule it out; the request's `use` or the key's `always`
 * cache it whether or not it is deterministic (tools still need the request's `use`).
 */
export function decide(
  ctx: AppContext,
  model: Catalog.Model,
  name: string,
  orgId: string,
  input: Record<string, unknown>,
  policy: RequestPolicy,
  keySetting: "default" | "always" | "never" = "default",
): Decision | null {
  if (policy === "bypass" || keySetting === "never" || ctx.config.cacheMaxKb === 0 || !CACHEABLE_TASKS.has(model.task)) return null;
  const settings = model.cache ?? {};
  const exact = settings.exact ?? "deterministic";
  if (exact === "never") return null;
  if (policy !== "use" && offersTools(input)) return null;
  if (policy !== "use" && keySetting !== "always" && exact === "deterministic" && !deterministic(input)) return null;
  return { key: keyOf(orgId, name, input), ttlMs: (settings.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000, semantic: settings.semantic ?? null };
}

/** JSON with every object's keys sorted: the same request in another key order is the same request. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object)
    .filter((k) => object[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`).join(",")}}`;
}

/** `user` names the end user; it does not change the answer. */
const keyedInput = (input: Record<string, unknown>) => {
  if (!("user" in input)) return input;
  const { user: _user, ...rest } = input;
  return rest;
};

export const keyOf = (orgId: string, name: string, input: Record<string, unknown>) =>
  new Bun.CryptoHasher("sha256").update(`${orgId}\u0000${name}\u0000${canonicalJson(keyedInput(input))}`).digest("hex");

/** The organization's live entry under `key`, if any. */
export function lookup(ctx: Pick<AppContext, "db">, orgId: string, key: string, now: number): store.EntryRow | null {
  const entry = store.entryByKey(ctx.db, key);
  return entry && entry.orgId === orgId && entry.expiresAt > now ? entry : null;
}

/** Per process: the cache's total size once read, and the last use time handed out. */
type State = { bytes: number | null; lastUse: number };
const states = new WeakMap<AppContext, State>();
const stateOf = (ctx: AppContext): State => {
  let state = states.get(ctx);
  if (!state) states.set(ctx, (state = { bytes: null, lastUse: 0 }));
  return state;
};

/** Use times strictly increase, so two uses in one millisecond still have an order for eviction. */
function useTime(ctx: AppContext, now: number) {
  const state = stateOf(ctx);
  state.lastUse = Math.max(now, state.lastUse + 1);
  return state.lastUse;
}

/** Inside a hit's transaction: the entry becomes the most recently used. */
export const touch = (ctx: AppContext, tx: Conn, key: string, now: number) => store.touch(tx, key, useTime(ctx, now));

export type Answer = { orgId: string; model: string; executionId: string; output: Record<string, unknown>; usage: Usage; costMicros: number; servedModel: string; routeId: string | null };
export type Stored = { bytes: number; evicted: store.Evicted[] };

/**
 * Inside the transaction that completes a miss: stores its answer, then evicts the least
 * recently used entries while the cache is over its bound. `applyStored` runs after the commit.
 */
export function remember(ctx: AppContext, tx: Conn, key: string, answer: Answer, ttlMs: number, now: number, vector?: { scope: string; model: string }): Stored | null {
  const maxBytes = ctx.config.cacheMaxKb * 1024;
  const sizeBytes = Buffer.byteLength(JSON.stringify(answer.output)) + Buffer.byteLength(JSON.stringify(answer.usage)) + key.length + 128;
  if (sizeBytes > maxBytes) return null;
  const state = stateOf(ctx);
  let bytes = (state.bytes ?? store.totalBytes(tx)) - (store.sizeOf(tx, key) ?? 0);
  store.upsert(tx, { key, ...answer, vectorScope: vector?.scope ?? null, vectorModel: vector?.model ?? null, sizeBytes, createdAt: now, expiresAt: now + ttlMs, lastUsedAt: useTime(ctx, now) });
  bytes += sizeBytes;
  const evicted: store.Evicted[] = [];
  while (bytes > maxBytes) {
    const oldest = store.leastRecentlyUsed(tx, EVICT_BATCH + evicted.length + 1).slice(evicted.length).filter((e) => e.key !== key);
    if (oldest.length === 0) break;
    for (const entry of oldest) {
      if (bytes <= maxBytes) break;
      evicted.push(entry);
      bytes -= entry.sizeBytes;
    }
  }
  store.deleteKeys(tx, evicted.map((e) => e.key));
  return { bytes, evicted };
}

/** After the commit of `remember` or `purge`: the size it left. */
export function applyStored(ctx: AppContext, stored: Stored | null) {
  if (stored) stateOf(ctx).bytes = stored.bytes;
}

/** Drops expired entries (the purge job); returns what went, for their vectors to follow. */
export function purgeExpired(ctx: AppContext, now: number, limit: number): store.Evicted[] {
  const gone = ctx.db.transaction((tx) => {
    const rows = store.expired(tx, now, limit);
    store.deleteKeys(tx, rows.map((r) => r.key));
    return rows;
  });
  const state = stateOf(ctx);
  if (state.bytes !== null) state.bytes -= gone.reduce((n, r) => n + r.sizeBytes, 0);
  return gone;
}

/** `X-ModelRoute-Cache` of a cacheable request's answer: HIT or MISS; null when it was not cacheable. */
export const CACHE_HEADER = "x-modelroute-cache";
export const cacheHeaderOf = (row: { cacheStatus: "hit" | "semantic_hit" | "miss" | null }) => (row.cacheStatus === null ? null : row.cacheStatus === "miss" ? "MISS" : "HIT");

/** Hits, misses and what the hits saved, for /metrics. */
export function countHit(ctx: AppContext, savedMicros: number) {
  ctx.metrics.increment("modelroute_cache_hits_total", "Requests answered from the response cache.");
  ctx.metrics.increment("modelroute_cache_saved_usd_total", "What the response cache's hits would have cost had the model answered them again, in USD.", savedMicros / 1_000_000);
}

export const countMiss = (ctx: AppContext) => ctx.metrics.increment("modelroute_cache_misses_total", "Cacheable requests the model answered (and the cache stored).");
