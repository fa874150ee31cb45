/**
 * Per-key fixed 60 s windows (README "Configuration", MODELROUTE_RATE_LIMIT_RPM). In memory: a restart forgives the
 * current window, which is the usual trade for not writing on every request.
 */
export const WINDOW_MS = 60_000;
const MAX_TRACKED = 100_000;

export type RateDecision = { allowed: boolean; limit: number; remaining: number; resetUnix: number; retryAfterS: number };

export class FixedWindowLimiter {
  private windows = new Map<string, { start: number; count: number }>();

  take(id: string, limit: number, now: number): RateDecision {
    const start = now - (now % WINDOW_MS);
    let window = this.windows.get(id);
    if (!window || window.start !== start) {
      if (this.windows.size >= MAX_TRACKED) this.prune(start);
      window = { start, count: 0 };
      this.windows.set(id, window);
    }
    const end = start + WINDOW_MS;
    const allowed = window.count < limit;
    if (allowed) window.count++;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - window.count),
      resetUnix: Math.ceil(end / 1000),
      retryAfterS: Math.max(1, Math.ceil((end - now) / 1000)),
    };
  }

  private prune(currentStart: number) {
    for (const [id, window] of this.windows) if (window.start !== currentStart) this.windows.delete(id);
  }
}

export const rateLimitHeaders = (d: RateDecision): Record<string, string> => ({
  "x-ratelimit-limit": String(d.limit),
  "x-ratelimit-remaining": String(d.remaining),
  "x-ratelimit-reset": String(d.resetUnix),
});
