/** A seeded PRNG (mulberry32): request `i` of seed `s` is drawn from its own stream, so one request replays alone. */
import { seeded } from "../../helpers/seeded";

export type Rng = {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
  chance(p: number): boolean;
  /** One of `weighted`'s entries, with the odds its weights give. */
  weighted<T>(weighted: readonly (readonly [T, number])[]): T;
};

export function rngFor(seed: number, index: number): Rng {
  // Mixes seed and index so that streams of neighbouring indexes share nothing.
  const next = seeded((Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35)) >>> 0);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const weighted = <T>(entries: readonly (readonly [T, number])[]) => {
    let r = next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [value, w] of entries) if ((r -= w) < 0) return value;
    return entries.at(-1)![0];
  };
  return { next, int, pick, chance: (p) => next() < p, weighted };
}
