/**
 * A circuit breaker per route, over a rolling window: it opens when the failure rate passes a
 * threshold over enough calls, or after consecutive failures; stays open for a cooldown; then
 * lets exactly one call through as a probe. The probe's success closes it, its failure opens it
 * again. Only failures that say the route is unwell count (docs/routing.md).
 */
export type BreakerSettings = { windowMs: number; minCalls: number; failureRate: number; consecutiveFailures: number; cooldownMs: number };

export const DEFAULT_BREAKER: BreakerSettings = { windowMs: 60_000, minCalls: 10, failureRate: 0.5, consecutiveFailures: 5, cooldownMs: 30_000 };

export type BreakerState = "closed" | "open" | "half_open";

export class Breaker {
  private outcomes: { at: number; ok: boolean }[] = [];
  private consecutive = 0;
  private openUntil = 0;
  private probing = false;
  state: BreakerState = "closed";

  constructor(private settings: BreakerSettings) {}

  /** "call" goes ahead, "probe" goes ahead as the one half-open probe, "skip" does not call. */
  admit(now: number): "call" | "probe" | "skip" {
    if (this.state === "closed") return "call";
    if (this.state === "open" && now < this.openUntil) return "skip";
    if (this.probing) return "skip";
    this.state = "half_open";
    this.probing = true;
    return "probe";
  }

  /** When the next probe may go (for Retry-After); 0 when closed. */
  nextProbeAt(): number {
    return this.state === "closed" ? 0 : this.openUntil;
  }

  success(now: number) {
    if (this.state !== "closed") {
      this.close();
      return;
    }
    this.consecutive = 0;
    this.record(now, true);
  }

  failure(now: number) {
    if (this.state !== "closed") {
      this.open(now);
      return;
    }
    this.consecutive++;
    this.record(now, false);
    const failed = this.outcomes.filter((o) => !o.ok).length;
    const rateTripped = this.outcomes.length >= this.settings.minCalls && failed / this.outcomes.length >= this.settings.failureRate;
    if (rateTripped || this.consecutive >= this.settings.consecutiveFailures) this.open(now);
  }

  /** A probe that ended without a verdict (cancelled, or the caller's own error): let another try. */
  release() {
    this.probing = false;
    if (this.state === "half_open") this.state = "open";
  }

  private record(now: number, ok: boolean) {
    this.outcomes.push({ at: now, ok });
    const from = now - this.settings.windowMs;
    let drop = 0;
    while (drop < this.outcomes.length && this.outcomes[drop]!.at < from) drop++;
    if (drop > 0) this.outcomes.splice(0, drop);
  }

  private open(now: number) {
    this.state = "open";
    this.openUntil = now + this.settings.cooldownMs;
    this.probing = false;
    this.outcomes = [];
    this.consecutive = 0;
  }

  private close() {
    this.state = "closed";
    this.probing = false;
    this.outcomes = [];
    this.consecutive = 0;
  }
}
