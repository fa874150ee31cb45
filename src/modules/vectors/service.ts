/**
 * Vector scopes: embeddings indexed under (organization, model, scope), searched by cosine
 * similarity. The database is the truth (vectors are float32 BLOBs in SQLite, so they survive
 * restarts, backups and restores); the search structure is a cache built from it on first use
 * in a process:
 * - a small scope (at most EXACT_MAX_ITEMS) is scanned exactly, from a matrix of its unit vectors;
 * - a larger one gets an HNSW graph (ann.ts). Its snapshot is saved under
 *   `<data-dir>/vectors/` with the scope's version; at the next start it is loaded instead of
 *   rebuilt when the version still matches, so a restore or any write since is never missed.
 * Filtered searches scan the items whose metadata matches (found by SQL) exactly, unless more than
 * FILTERED_EXACT_MAX match, when the graph is searched wider and its hits filtered.
 *
 * Invariants: every write changes the database and the cache in the same synchronous step (no
 * await between), and every read checks the scope's version first, so the cache never answers
 * for data it has not seen. Nothing here reads across organizations, models or scopes.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import { AppError, invalidField } from "../../errors";
import { iso } from "../../time";
import { AnnIndex, annAvailable } from "./ann";
import * as store from "./store";
import type { ScopeKey } from "./store";

export type { ScopeKey } from "./store";

/** Up to this many items a scope is searched exactly (a scan of 4,096 × 768 takes about 2 ms). */
export const EXACT_MAX_ITEMS = 4096;
/**
 * A filter matching at most this many items is answered by an exact scan of those items; past it
 * the graph is searched wider and its hits filtered, with the exact scan as the fallback when
 * that finds fewer than top_k (reading 20,000 vectors back from SQLite took about 0.5 s).
 */
export const FILTERED_EXACT_MAX = 2_000;
/** How many scopes one process keeps loaded; the least recently used is dropped (and saved) past it. */
const MAX_LOADED_SCOPES = 512;
const LOAD_BATCH = 8192;

export type Filter = Record<string, string | number | boolean>;
export type SearchHit = { item_id: string; score: number; metadata: Record<string, unknown>; input: Record<string, unknown> };

const unit = (v: Float32Array): Float32Array => {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * s;
  return out;
};

export const toBlob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
export const fromBlob = (b: Uint8Array) => new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Keeps the k best (highest score) of what it is offered. */
class TopK {
  readonly keys: number[] = [];
  readonly scores: number[] = [];
  constructor(readonly k: number) {}
  offer(key: number, score: number) {
    const n = this.scores.length;
    if (n === this.k && score <= this.scores[n - 1]!) return;
    let i = n === this.k ? n - 1 : n;
    while (i > 0 && this.scores[i - 1]! < score) {
      this.scores[i] = this.scores[i - 1]!;
      this.keys[i] = this.keys[i - 1]!;
      i--;
    }
    this.scores[i] = score;
    this.keys[i] = key;
  }
}

const dot = (a: Float32Array, b: Float32Array, offset: number, d: number) => {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let j = 0;
  for (; j + 3 < d; j += 4) {
    s0 += a[j]! * b[offset + j]!;
    s1 += a[j + 1]! * b[offset + j + 1]!;
    s2 += a[j + 2]! * b[offset + j + 2]!;
    s3 += a[j + 3]! * b[offset + j + 3]!;
  }
  for (; j < d; j++) s0 += a[j]! * b[offset + j]!;
  return s0 + s1 + s2 + s3;
};

/** Exact cosine top-k over unit vectors laid out row-major in `matrix` (`keys[i]` is row i). */
export function exactTopK(query: Float32Array, keys: ArrayLike<number>, matrix: Float32Array, count: number, k: number) {
  const q = unit(query);
  const d = q.length;
  const top = new TopK(k);
  for (let i = 0; i < count; i++) top.offer(keys[i]!, dot(q, matrix, i * d, d));
  return top.keys.map((key, i) => ({ key, score: top.scores[i]! }));
}

/** A scope's search structure: an exact matrix while small, an HNSW graph past EXACT_MAX_ITEMS. */
class ScopeIndex {
  keys: number[] = [];
  matrix: Float32Array;
  slots = new Map<number, number>();
  ann: AnnIndex | null = null;
  /** The graph has writes its saved snapshot lacks. */
  dirty = false;
  constructor(readonly dimensions: number, public version: string) {
    this.matrix = new Float32Array(dimensions * 64);
  }

  get count() {
    return this.ann ? this.ann.size : this.keys.length;
  }

  upsert(key: number, vector: Float32Array) {
    if (this.ann) {
      this.ann.upsert(key, vector);
      this.dirty = true;
      return;
    }
    const v = unit(vector);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.keys.length;
      if ((slot + 1) * this.dimensions > this.matrix.length) {
        const grown = new Float32Array(this.matrix.length * 2);
        grown.set(this.matrix);
        this.matrix = grown;
      }
      this.keys.push(key);
      this.slots.set(key, slot);
    }
    this.matrix.set(v, slot * this.dimensions);
    if (this.keys.length > EXACT_MAX_ITEMS && annAvailable()) this.toGraph();
  }

  remove(key: number) {
    if (this.ann) {
      this.ann.remove(key);
      this.dirty = true;
      return;
    }
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    const last = this.keys.length - 1;
    const d = this.dimensions;
    if (slot !== last) {
      const moved = this.keys[last]!;
      this.matrix.copyWithin(slot * d, last * d, (last + 1) * d);
      this.keys[slot] = moved;
      this.slots.set(moved, slot);
    }
    this.keys.pop();
    this.slots.delete(key);
  }

  /** Moves the scope from the exact matrix to a graph (and frees the matrix). */
  private toGraph() {
    const ann = new AnnIndex(this.dimensions);
    ann.addMany(this.keys, this.matrix.subarray(0, this.keys.length * this.dimensions));
    this.ann = ann;
    this.keys = [];
    this.slots.clear();
    this.matrix = new Float32Array(0);
    this.dirty = true;
  }

  search(query: Float32Array, k: number) {
    if (this.ann) return this.ann.search(query, k);
    return exactTopK(query, this.keys, this.matrix, this.keys.length, k);
  }
}

type Cache = { scopes: Map<string, ScopeIndex>; dir: string };
const caches = new WeakMap<AppContext, Cache>();

function cacheOf(ctx: AppContext): Cache {
  let cache = caches.get(ctx);
  if (!cache) caches.set(ctx, (cache = { scopes: new Map(), dir: join(ctx.config.dataDir, "vectors") }));
  return cache;
}

const cacheKey = (k: ScopeKey) => `${k.orgId}\u0000${k.model}\u0000${k.scope}`;
const snapshotName = (k: ScopeKey) => new Bun.CryptoHasher("sha256").update(cacheKey(k)).digest("hex");

function snapshotPaths(cache: Cache, k: ScopeKey) {
  const base = join(cache.dir, snapshotName(k));
  return { index: `${base}.usearch`, meta: `${base}.json` };
}

/** Writes a graph's snapshot (index file first, then the version that makes it valid). */
function saveSnapshot(ctx: AppContext, cache: Cache, k: ScopeKey, index: ScopeIndex) {
  if (!index.ann || !index.dirty) return;
  mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
  const paths = snapshotPaths(cache, k);
  rmSync(paths.meta, { force: true });
  index.ann.save(`${paths.index}.tmp`);
  renameSync(`${paths.index}.tmp`, paths.index);
  writeFileSync(paths.meta, JSON.stringify({ version: index.version, dimensions: index.dimensions }), { mode: 0o600 });
  index.dirty = false;
  ctx.log.debug("vectors: snapshot saved", { model: k.model, scope: k.scope, items: index.count });
}

async function readSnapshot(cache: Cache, k: ScopeKey, scope: store.ScopeRow): Promise<AnnIndex | null> {
  const paths = snapshotPaths(cache, k);
  const meta = Bun.file(paths.meta);
  if (!(await meta.exists())) return null;
  const saved = (await meta.json()) as { version?: string; dimensions?: number };
  if (saved.version !== scope.version || saved.dimensions !== scope.dimensions) return null;
  return AnnIndex.load(paths.index, scope.dimensions);
}

/** Builds a scope's index from its rows (or its valid snapshot). */
async function build(ctx: AppContext, cache: Cache, k: ScopeKey, scope: store.ScopeRow): Promise<ScopeIndex> {
  const index = new ScopeIndex(scope.dimensions, scope.version);
  const large = scope.itemCount > EXACT_MAX_ITEMS && annAvailable();
  if (large) {
    const snapshot = await readSnapshot(cache, k, scope);
    if (snapshot && snapshot.size === scope.itemCount) {
      index.ann = snapshot;
      index.matrix = new Float32Array(0);
      return index;
    }
    index.ann = new AnnIndex(scope.dimensions);
    index.matrix = new Float32Array(0);
    index.dirty = true;
  }
  const d = scope.dimensions;
  for (let after = 0; ; ) {
    const rows = store.vectorBatch(ctx.db, k, after, LOAD_BATCH);
    if (rows.length === 0) break;
    if (index.ann) {
      const block = new Float32Array(rows.length * d);
      rows.forEach((r, i) => block.set(fromBlob(r.vector), i * d));
      index.ann.addMany(rows.map((r) => r.rowId), block);
    } else for (const r of rows) index.upsert(r.rowId, fromBlob(r.vector));
    after = rows[rows.length - 1]!.rowId;
    if (rows.length < LOAD_BATCH) break;
  }
  if (index.ann) saveSnapshot(ctx, cache, k, index);
  return index;
}

/** The scope's index, current with the database, or null when the scope does not exist. */
async function indexOf(ctx: AppContext, k: ScopeKey): Promise<{ scope: store.ScopeRow; index: ScopeIndex } | null> {
  const scope = store.scopeOf(ctx.db, k);
  const cache = cacheOf(ctx);
  const key = cacheKey(k);
  if (!scope) {
    cache.scopes.delete(key);
    return null;
  }
  let index = cache.scopes.get(key);
  if (index && index.version === scope.version) {
    cache.scopes.delete(key); // re-inserted below: Map order is the LRU order
  } else {
    index = await build(ctx, cache, k, scope);
    // Another request may have built it meanwhile; the newer version wins.
    const raced = cache.scopes.get(key);
    const current = store.scopeOf(ctx.db, k);
    if (raced && current && raced.version === current.version) index = raced;
    else if (!current || current.version !== index.version) return indexOf(ctx, k);
  }
  cache.scopes.set(key, index);
  while (cache.scopes.size > MAX_LOADED_SCOPES) {
    const [oldestKey, oldest] = cache.scopes.entries().next().value!;
    const [orgId, model, scopeName] = oldestKey.split("\u0000") as [string, string, string];
    saveSnapshot(ctx, cache, { orgId, model, scope: scopeName }, oldest);
    cache.scopes.delete(oldestKey);
  }
  return { scope, index };
}

export type UpsertItem = {
  itemId: string;
  vector: Float32Array;
  metadata: Record<string, unknown>;
  inputRef: Record<string, unknown>;
  runId: string;
};

/**
 * Indexes one item (replacing the one with its id) in the caller's transaction. Returns a step
 * to run right after the commit that brings the loaded index up to date; the scope is loaded
 * (from the database) before, so the step is synchronous.
 */
export async function prepareUpsert(ctx: AppContext, k: ScopeKey, dimensions: number) {
  const loaded = await indexOf(ctx, k);
  if (loaded && loaded.scope.dimensions !== dimensions)
    throw invalidField(
      "input",
      "invalid_format",
      `Scope ${k.scope} of ${k.model} holds ${loaded.scope.dimensions}-dimensional vectors; this input embeds to ${dimensions}. Use another scope, or delete this one first.`,
    );
  return (tx: Conn, item: UpsertItem, now: number) => {
    const scope = store.scopeOf(tx, k);
    if (scope && scope.dimensions !== dimensions) throw invalidField("input", "invalid_format", `Scope ${k.scope} holds ${scope.dimensions}-dimensional vectors.`);
    const { rowId, replaced } = store.upsertItem(tx, { ...k, itemId: item.itemId, vector: toBlob(item.vector), metadata: item.metadata, inputRef: item.inputRef, runId: item.runId, createdAt: now, updatedAt: now });
    const version = Bun.randomUUIDv7();
    store.touchScope(tx, k, dimensions, replaced ? 0 : 1, version, now);
    const apply = () => {
      const cache = cacheOf(ctx);
      const key = cacheKey(k);
      let index = cache.scopes.get(key);
      if (!index && !scope) cache.scopes.set(key, (index = new ScopeIndex(dimensions, version))); // a new scope starts loaded
      if (!index || index.version !== (scope?.version ?? version)) {
        cache.scopes.delete(key); // not loaded at the version this write followed: rebuilt on next use
        return;
      }
      index.upsert(rowId, item.vector);
      index.version = version;
    };
    return { rowId, replaced, apply };
  };
}

/** Exact top-k over the given rows, read back from the database. */
function exactOver(ctx: AppContext, k: ScopeKey, d: number, rowIds: number[], query: Float32Array, topK: number) {
  const matrix = new Float32Array(rowIds.length * d);
  const keys: number[] = [];
  for (let i = 0; i < rowIds.length; i += 500) {
    for (const row of store.itemsByRowIds(ctx.db, k, rowIds.slice(i, i + 500))) {
      matrix.set(unit(fromBlob(row.vector)), keys.length * d);
      keys.push(row.rowId);
    }
  }
  return exactTopK(query, keys, matrix, keys.length, topK);
}

export async function search(ctx: AppContext, k: ScopeKey, query: Float32Array, topK: number, filter: Filter | undefined): Promise<SearchHit[]> {
  const loaded = await indexOf(ctx, k);
  if (!loaded) return [];
  if (loaded.scope.dimensions !== query.length)
    throw invalidField("input", "invalid_format", `Scope ${k.scope} of ${k.model} holds ${loaded.scope.dimensions}-dimensional vectors; this query embeds to ${query.length}.`);
  let hits: { key: number; score: number }[];
  if (filter && Object.keys(filter).length > 0) {
    const matching = store.rowIdsMatching(ctx.db, k, filter);
    const ann = loaded.index.ann;
    hits = [];
    if (ann && matching.length > FILTERED_EXACT_MAX) {
      const allowed = new Set(matching);
      hits = ann.search(query, Math.min(ann.size, Math.max(topK * 20, 200))).filter((h) => allowed.has(h.key)).slice(0, topK);
    }
    if (hits.length < Math.min(topK, matching.length)) hits = exactOver(ctx, k, loaded.scope.dimensions, matching, query, topK);
  } else hits = loaded.index.search(query, topK);
  const rows = new Map(store.itemsByRowIds(ctx.db, k, hits.map((h) => h.key)).map((r) => [r.rowId, r]));
  return hits.flatMap((h) => {
    const row = rows.get(h.key);
    return row ? [{ item_id: row.itemId, score: Math.round(h.score * 1e6) / 1e6, metadata: row.metadata, input: row.inputRef }] : [];
  });
}

export function itemView(row: store.ItemRow) {
  return {
    id: row.itemId,
    object: "vector_item" as const,
    metadata: row.metadata,
    input: row.inputRef,
    dimensions: row.vector.byteLength / 4,
    run_id: row.runId,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

export function scopeView(row: store.ScopeRow) {
  return {
    object: "vector_scope" as const,
    model: row.model,
    scope: row.scope,
    item_count: row.itemCount,
    dimensions: row.dimensions,
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

const scopeNotFound = (k: ScopeKey) => new AppError("NOT_FOUND", `No scope ${k.scope} for model ${k.model}.`);

export function listScopes(ctx: AppContext, orgId: string, model?: string) {
  // The semantic response cache's scopes (`cache:<model>`, docs/cache.md) are the gateway's, not the organization's datasets.
  const scopes = store.listScopes(ctx.db, orgId, model).filter((s) => !s.scope.startsWith("cache:"));
  return { object: "list" as const, data: scopes.map(scopeView), has_more: false };
}

/** A page of a scope's items, newest first; `starting_after` is an item id of this scope. */
export function listItems(ctx: AppContext, k: ScopeKey, query: { limit?: number; starting_after?: string }) {
  if (!store.scopeOf(ctx.db, k)) throw scopeNotFound(k);
  const limit = query.limit ?? 20;
  let before: number | null = null;
  if (query.starting_after !== undefined) {
    const cursor = store.itemOf(ctx.db, k, query.starting_after);
    if (!cursor) throw invalidField("starting_after", "not_found", `No item ${query.starting_after} in this scope.`);
    before = cursor.rowId;
  }
  const rows = store.itemsPage(ctx.db, k, before, limit + 1);
  return { object: "list" as const, data: rows.slice(0, limit).map(itemView), has_more: rows.length > limit };
}

export function getItem(ctx: AppContext, k: ScopeKey, itemId: string) {
  const row = store.itemOf(ctx.db, k, itemId);
  if (!row) throw new AppError("NOT_FOUND", `No item ${itemId} in scope ${k.scope} of ${k.model}.`);
  return itemView(row);
}

export function deleteItem(ctx: AppContext, k: ScopeKey, itemId: string) {
  const cache = cacheOf(ctx);
  const key = cacheKey(k);
  const now = ctx.clock.now();
  const version = Bun.randomUUIDv7();
  const outcome = ctx.db.transaction((tx) => {
    const scope = store.scopeOf(tx, k);
    const rowId = scope ? store.deleteItem(tx, k, itemId) : null;
    if (rowId === null || !scope) return null;
    if (scope.itemCount <= 1) store.deleteScopeRow(tx, k);
    else store.touchScope(tx, k, scope.dimensions, -1, version, now);
    return { rowId, previous: scope.version };
  });
  if (!outcome) throw new AppError("NOT_FOUND", `No item ${itemId} in scope ${k.scope} of ${k.model}.`);
  const index = cache.scopes.get(key);
  if (index && index.version === outcome.previous) {
    index.remove(outcome.rowId);
    index.version = version;
  } else cache.scopes.delete(key);
  return { id: itemId, object: "vector_item" as const, deleted: true as const };
}

export function deleteScope(ctx: AppContext, k: ScopeKey) {
  const cache = cacheOf(ctx);
  const deleted = ctx.db.transaction((tx) => (store.scopeOf(tx, k) ? store.deleteScope(tx, k) : null));
  if (deleted === null) throw scopeNotFound(k);
  cache.scopes.delete(cacheKey(k));
  const paths = snapshotPaths(cache, k);
  rmSync(paths.meta, { force: true });
  rmSync(paths.index, { force: true });
  return { object: "vector_scope" as const, model: k.model, scope: k.scope, deleted: true as const, items_deleted: deleted };
}

/** Saves the snapshots of loaded graphs that changed since their last save (at shutdown). */
export function saveSnapshots(ctx: AppContext) {
  const cache = caches.get(ctx);
  if (!cache) return;
  for (const [key, index] of cache.scopes) {
    const [orgId, model, scope] = key.split("\u0000") as [string, string, string];
    saveSnapshot(ctx, cache, { orgId, model, scope }, index);
  }
}
