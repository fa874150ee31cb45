/**
 * Runs a task over a model's ordered routes: skips routes whose circuit is open or that are at
 * their concurrency limit, applies each route's timeout, fails over on retryable errors, and
 * keeps a circuit breaker per route (in memory, per process). No database here.
 */
import { AppError } from "../errors";
import { adapterFor } from "./registry";
import type { InputFile, ProviderResult, RouteInfo } from "./types";

const BREAKER_THRESHOLD = 5;
const BREAKER_OPEN_MS = 30_000;

type RouteHealth = { failures: number; openUntil: number; inFlight: number };

export class ProviderRouter {
  private health = new Map<string, RouteHealth>();

  private healthOf(routeId: string): RouteHealth {
    let h = this.health.get(routeId);
    if (!h) this.health.set(routeId, (h = { failures: 0, openUntil: 0, inFlight: 0 }));
    return h;
  }

  /** True when every route's adapter may be re-run after a crash (a re-run may fail over to any of them). */
  isIdempotent(routes: RouteInfo[]): boolean {
    return routes.every((r) => adapterFor(r.provider.kind)?.idempotent ?? false);
  }

  async run(
    task: string,
    input: Record<string, unknown>,
    routes: (RouteInfo & { maxConcurrency?: number | null })[],
    opts: { signal: AbortSignal; files?: InputFile[]; onDelta?: (text: string) => void; now?: () => number },
  ): Promise<ProviderResult & { routeId: string }> {
    const now = opts.now ?? Date.now;
    let lastError: AppError = new AppError("MODEL_UNAVAILABLE", "The model has no usable route.");
    let deltasSent = false;
    for (const route of routes) {
      const adapter = adapterFor(route.provider.kind);
      const runner = adapter?.tasks[task];
      if (!runner) {
        lastError = new AppError("MODEL_UNAVAILABLE", `No adapter for ${route.provider.kind}/${task}.`);
        continue;
      }
      const health = this.healthOf(route.id);
      if (health.openUntil > now()) {
        lastError = new AppError("MODEL_UNAVAILABLE", "Every route of the model is failing; try again shortly.");
        continue;
      }
      if (route.maxConcurrency && health.inFlight >= route.maxConcurrency) {
        lastError = new AppError("MODEL_OVERLOADED", "The model is at capacity; try again shortly.");
        continue;
      }
      const timeout = AbortSignal.timeout(route.timeoutMs);
      const signal = AbortSignal.any([opts.signal, timeout]);
      health.inFlight++;
      try {
        const result = await runner({
          input,
          files: opts.files ?? [],
          route,
          signal,
          onDelta: opts.onDelta
            ? (text) => {
                deltasSent = true;
                opts.onDelta!(text);
              }
            : undefined,
        });
        health.failures = 0;
        return { ...result, routeId: route.id };
      } catch (error) {
        if (opts.signal.aborted) throw error; // cancelled or shutting down: not the provider's fault
        lastError = timeout.aborted
          ? new AppError("GENERATION_TIMEOUT", `The provider did not answer within ${route.timeoutMs} ms.`)
          : error instanceof AppError
            ? error
            : new AppError("GENERATION_FAILED", "The provider failed.");
        if (lastError.retryable && ++health.failures >= BREAKER_THRESHOLD) {
          health.openUntil = now() + BREAKER_OPEN_MS;
          health.failures = 0;
        }
        // Text already streamed to the client cannot be taken back: no failover after a delta.
        if (!lastError.retryable || deltasSent) throw lastError;
      } finally {
        health.inFlight--;
      }
    }
    throw lastError;
  }
}
