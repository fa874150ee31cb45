/**
 * The approximate nearest-neighbour index: USearch's HNSW graph (docs/dependencies.md "usearch"),
 * loaded straight from the prebuilt addon the npm package ships. The package's own JavaScript
 * finds its addon on disk at run time (node-gyp-build), which a compiled binary cannot do; a
 * `require` of the `.node` path itself is embedded by `bun build --compile` and loaded from the
 * binary. That native API is small (add, search, remove, save, load) and is wrapped here with
 * types; the version is pinned exactly so the wrapper and the addon cannot drift apart.
 *
 * Keys are the SQLite rowids of the vectors, so a hit maps back to its row with no side table.
 * Scores are cosine similarities (1 − USearch's cosine distance).
 */

type NativeIndex = {
  add(keys: BigUint64Array, vectors: Float32Array, threads: number): void;
  search(vectors: Float32Array, k: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  remove(keys: BigUint64Array): number[];
  size(): number;
  save(path: string): void;
  load(path: string): void;
};
type NativeModule = { CompiledIndex: new (dimensions: number, metric: string, quantization: string, connectivity: number, expansionAdd: number, expansionSearch: number, multi: boolean) => NativeIndex };

let loaded: NativeModule | null | undefined;

/** The addon for this platform, or null where the package ships none (exact search is used there). */
function native(): NativeModule | null {
  if (loaded !== undefined) return loaded;
  try {
    // Each path is a literal so the bundler embeds the addon into the compiled binary (the package's
    // `exports` hide the prebuilds, so they are reached by their path in node_modules).
    if (process.platform === "linux" && process.arch === "x64") loaded = require("../../../node_modules/usearch/prebuilds/linux-x64/usearch.node");
    else if (process.platform === "linux" && process.arch === "arm64") loaded = require("../../../node_modules/usearch/prebuilds/linux-arm64/usearch.node");
    else if (process.platform === "darwin") loaded = require("../../../node_modules/usearch/prebuilds/darwin-arm64+x64/usearch.node");
    else loaded = null;
  } catch {
    loaded = null; // a platform whose addon does not load (old glibc, musl): exact search still works
  }
  return loaded ?? null;
}

export const annAvailable = () => native() !== null;

/** Graph settings: M = 16, efConstruction = 128, efSearch = 128; half-precision storage halves the memory. */
export const ANN_SETTINGS = { connectivity: 16, expansionAdd: 128, expansionSearch: 128, quantization: "f16" } as const;

export type Hit = { key: number; score: number };

export class AnnIndex {
  private readonly index: NativeIndex;
  constructor(readonly dimensions: number) {
    const mod = native();
    if (!mod) throw new Error("ann: no USearch addon for this platform");
    const s = ANN_SETTINGS;
    this.index = new mod.CompiledIndex(dimensions, "cos", s.quantization, s.connectivity, s.expansionAdd, s.expansionSearch, false);
  }

  get size(): number {
    return this.index.size();
  }

  /** Adds many vectors (row-major, `keys.length × dimensions`); `threads` 0 = all cores. */
  addMany(keys: number[], vectors: Float32Array, threads = 0) {
    if (keys.length === 0) return;
    this.index.add(BigUint64Array.from(keys, (k) => BigInt(k)), vectors, threads);
  }

  /** Adds or replaces one vector. */
  upsert(key: number, vector: Float32Array) {
    const keys = new BigUint64Array([BigInt(key)]);
    this.index.remove(keys);
    this.index.add(keys, vector, 1);
  }

  remove(key: number) {
    this.index.remove(new BigUint64Array([BigInt(key)]));
  }

  search(query: Float32Array, k: number): Hit[] {
    if (this.size === 0) return [];
    const [keys, distances, counts] = this.index.search(query, k, 1);
    const found = Number(counts[0] ?? 0);
    const hits: Hit[] = [];
    for (let i = 0; i < found; i++) hits.push({ key: Number(keys[i]), score: 1 - distances[i]! });
    return hits;
  }

  save(path: string) {
    this.index.save(path);
  }

  static load(path: string, dimensions: number): AnnIndex {
    const index = new AnnIndex(dimensions);
    index.index.load(path);
    return index;
  }
}
