/**
 * Per-key fixed 60 s windows (README "Configuration", MODELROUTE_RATE_LIMIT_RPM). One process
 * counts in memory: a restart forgives the current window, which is the usual trade for not
 * writing on every request. Replicas on PostgreSQL count in one table, so the limit is the
 * limit whichever replica a request reaches (docs/scale-out.md "Limits").
 */
import type { Database, Statement } from "bun:sqlite";
export const WINDOW_MS = 60_000;
const MAX_TRACKED = 100_000;

export type RateDecision = { allowed: boolean; limit: number; remaining: number; resetUnix: number; retryAfterS: number };

export interface RateLimiter {
  take(id: string, limit: number, now: number): RateDecision;
}

function decision(allowed: boolean, limit: number, count: number, start: number, now: number): RateDecision {
  const end = start + WINDOW_MS;
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - count),
    resetUnix: Math.ceil(end / 1000),
    retryAfterS: Math.max(1, Math.ceil((end - now) / 1000)),
  };
}

export class FixedWindowLimiter implements RateLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  take(id: string, limit: number, now: number): RateDecision {
    const start = now - (now % WINDOW_MS);
    let window = this.windows.get(id);
    if (!window || window.start !== start) {
      if (this.windows.size >= MAX_TRACKED) this.prune(start);
      window = { start, count: 0 };
      this.windows.set(id, window);
    }
    const allowed = window.count < limit;
    if (allowed) window.count++;
    return decision(allowed, limit, window.count, start, now);
  }

  private prune(currentStart: number) {
    for (const [id, window] of this.windows) if (window.start !== currentStart) this.windows.delete(id);
  }
}

/** One upsert a request: the count after it decides (a refused request counts too, as a retry storm should). */
export class SharedWindowLimiter implements RateLimiter {
  private readonly count: Statement;
  private readonly prune: Statement;
  private prunedWindow = 0;

  constructor(client: Database) {
    this.count = client.prepare(
      `INSERT INTO rate_windows (key_id, window_start, count) VALUES ($key, $start, 1)
       ON CONFLICT (key_id, window_start) DO UPDATE SET count = rate_windows.count + 1 RETURNING count`,
    );
    this.prune = client.prepare("DELETE FROM rate_windows WHERE window_start < $start");
  }

  take(id: string, limit: number, now: number): RateDecision {
    const start = now - (now % WINDOW_MS);
    if (start !== this.prunedWindow) {
      this.prunedWindow = start;
      this.prune.run({ start });
    }
    const { count } = this.count.get({ key: id, start }) as { count: number };
    return decision(count <= limit, limit, Math.min(count, limit), start, now);
  }
}

export const rateLimitHeaders = (d: RateDecision): Record<string, string> => ({
  "x-ratelimit-limit": String(d.limit),
  "x-ratelimit-remaining": String(d.remaining),
  "x-ratelimit-reset": String(d.resetUnix),
});
