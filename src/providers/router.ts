/**
 * The one retry loop of the gateway (docs/routing.md). For a task it walks the model's routes
 * in order; per route it skips an open circuit, a cooldown set by `Retry-After` or a full
 * queue, waits for a concurrency slot, picks a key of the provider's pool, and calls the
 * adapter. A failure is classified: the caller's own (bad request, context length, content
 * policy) ends the run at once without touching the route's health; a key refused is cooled
 * and the next key tried; anything else counts against the route, is retried with backoff and
 * jitter, then the next route takes over. Streams commit at the first content event: before it
 * a failed route is replaced without the caller seeing anything of it. State is in memory, per
 * process.
 */
import { linkedSignal } from "../abort";
import { isContentEvent, type Emit, type StreamEvent } from "../canonical/stream";
import { AppError } from "../errors";
import { Breaker, DEFAULT_BREAKER, type BreakerSettings, type BreakerState } from "./breaker";
import { CALLERS_FAULT, ProviderError, toAppError, withoutKey, type FailureClass } from "./errors";
import { sleep as abortableSleep } from "../time";
import { adapterFor } from "./registry";
import { Slots } from "./slots";
import type { InputFile, ProviderResult, RouteInfo } from "./types";

/** No attempt starts once a run has spent this long (waits and calls together). */
const RUN_BUDGET_MS = 120_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 5_000;
/** A `Retry-After` longer than this moves on to the next route instead of waiting. */
const MAX_RETRY_WAIT_MS = 10_000;
const QUEUE_WAIT_MS = 30_000;
const KEY_COOLDOWN_MS = 5 * 60_000;

type RouteHealth = { provider: string; breaker: Breaker; slots: Slots; cooldownUntil: number; calls: number; failures: number; latencyMs: number[] };

export type RouteStatus = {
  route_id: string;
  provider: string;
  state: BreakerState;
  next_probe_at: number | null;
  cooldown_until: number | null;
  in_flight: number;
  queued: number;
  calls: number;
  failures: number;
  p50_latency_ms: number | null;
};

export type RunOptions = {
  signal: AbortSignal;
  files?: InputFile[];
  /** Set when the caller streams; receives canonical events once the stream is committed. */
  emit?: Emit;
  /** For asynchronous upstreams: the job's stable id and the callback URL. */
  async?: { jobId: string; callbackUrl: string };
  /** Told what the operator must fix: a key refused or missing. Never given a key. */
  warn?: (message: string, fields: Record<string, unknown>) => void;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** false: a route at its concurrency limit is skipped at once instead of queueing (another model can serve). */
  queue?: boolean;
};

const jitter = (ms: number) => Math.round(ms * (0.5 + Math.random()));
const backoff = (attempt: number) => jitter(Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)));


/** The mock adapter (and any adapter that already speaks AppError) fails with codes, not classes. */
function classOf(error: unknown, timedOut: string | null): ProviderError {
  if (error instanceof ProviderError) return error;
  if (timedOut) return new ProviderError("timeout", timedOut);
  if (error instanceof AppError) {
    const failure: FailureClass = error.code === "CONTENT_MODERATION_REJECTED" ? "content_policy" : !error.retryable ? "bad_request" : error.code === "GENERATION_TIMEOUT" ? "timeout" : error.code === "MODEL_OVERLOADED" ? "overloaded" : "server";
    return Object.assign(new ProviderError(failure, error.message), { original: error });
  }
  return new ProviderError("server", (error as Error)?.message ?? "the provider failed");
}

/** What the caller sees for a classified failure (an AppError thrown as such keeps its code). */
const callerError = (error: ProviderError): AppError => ((error as { original?: AppError }).original ?? toAppError(error));

/** Bounds on any one upstream call, whatever its route says (config: streamMaxMs, upstreamMaxBytes). */
export type CallLimits = { streamMaxMs: number; answerMaxBytes: number };
const DEFAULT_LIMITS: CallLimits = { streamMaxMs: 1_800_000, answerMaxBytes: 64 << 20 };

export class ProviderRouter {
  constructor(private limits: CallLimits = DEFAULT_LIMITS) {}

  private health = new Map<string, RouteHealth>();
  private cooledKeys = new Map<string, number>();
  private keyTurn = new Map<string, number>();

  private healthOf(route: RouteInfo): RouteHealth {
    let h = this.health.get(route.id);
    if (!h) {
      const settings = { ...DEFAULT_BREAKER, ...breakerSettings(route.provider.config) };
      this.health.set(route.id, (h = { provider: route.provider.id, breaker: new Breaker(settings), slots: new Slots(), cooldownUntil: 0, calls: 0, failures: 0, latencyMs: [] }));
    }
    return h;
  }

  /** True when every route's adapter may be re-run after a crash (a re-run may fail over to any of them). */
  isIdempotent(routes: RouteInfo[]): boolean {
    return routes.every((r) => adapterFor(r.provider.kind)?.idempotent ?? false);
  }

  /** True when some route goes to an asynchronous upstream (its jobs end by callback or poll). */
  isAsync(routes: RouteInfo[]): boolean {
    return routes.some((r) => adapterFor(r.provider.kind)?.async !== undefined);
  }

  /** Breaker, queue and latency of each route this process has called. */
  status(now = Date.now()): RouteStatus[] {
    return [...this.health.entries()].map(([id, h]) => {
      const sorted = [...h.latencyMs].sort((a, b) => a - b);
      return {
        route_id: id,
        provider: h.provider,
        state: h.breaker.state,
        next_probe_at: h.breaker.nextProbeAt() || null,
        cooldown_until: h.cooldownUntil > now ? h.cooldownUntil : null,
        in_flight: h.slots.inFlight,
        queued: h.slots.queued,
        calls: h.calls,
        failures: h.failures,
        p50_latency_ms: sorted.length ? sorted[Math.floor(sorted.length / 2)]! : null,
      };
    });
  }

  /** The next key of the provider's pool that is not cooling; null when it needs none, undefined when all are cooling. */
  private pickKey(route: RouteInfo, now: number, warn: RunOptions["warn"]): string | null | undefined {
    let keys: string[];
    try {
      keys = route.apiKeys();
    } catch (error) {
      warn?.("provider key unavailable", { provider: route.provider.id, route_id: route.id, reason: (error as Error).message });
      return undefined; // a key reference that resolves to nothing: like a pool whose keys all failed
    }
    if (keys.length === 0) return null;
    const turn = this.keyTurn.get(route.provider.id) ?? 0;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(turn + i) % keys.length]!;
      if ((this.cooledKeys.get(keyId(route, key)) ?? 0) <= now) {
        this.keyTurn.set(route.provider.id, (turn + i + 1) % keys.length);
        return key;
      }
    }
    return undefined;
  }

  async run(task: string, input: Record<string, unknown>, routes: RouteInfo[], opts: RunOptions): Promise<ProviderResult & { routeId: string }> {
    const now = opts.now ?? Date.now;
    const sleep = opts.sleep ?? abortableSleep;
    const startedAt = now();
    const overBudget = () => now() - startedAt >= RUN_BUDGET_MS;
    let lastError: AppError | null = null;
    let earliestRetry = Infinity;
    let committed = false;
    const buffered: StreamEvent[] = [];
    const emit: Emit | undefined = opts.emit
      ? (event) => {
          if (committed) return opts.emit!(event);
          if (!isContentEvent(event)) return void buffered.push(event);
          committed = true;
          for (const early of buffered.splice(0)) opts.emit!(early);
          opts.emit!(event);
        }
      : undefined;

    for (const route of routes) {
      const runner = adapterFor(route.provider.kind)?.tasks[task];
      if (!runner) {
        lastError ??= new AppError("MODEL_UNAVAILABLE", `No adapter for ${route.provider.kind}/${task}.`);
        continue;
      }
      const health = this.healthOf(route);
      if (health.cooldownUntil > now()) {
        earliestRetry = Math.min(earliestRetry, health.cooldownUntil);
        lastError = new AppError("MODEL_OVERLOADED", "The model's providers asked to slow down; try again shortly.");
        continue;
      }
      for (let attempt = 1; attempt <= 1 + route.retries; attempt++) {
        if (attempt > 1 && overBudget()) break;
        const admission = health.breaker.admit(now());
        if (admission === "skip") {
          earliestRetry = Math.min(earliestRetry, health.breaker.nextProbeAt());
          lastError = new AppError("MODEL_UNAVAILABLE", "Every route of the model is failing; try again shortly.");
          break;
        }
        const key = this.pickKey(route, now(), opts.warn);
        if (key === undefined) {
          if (admission === "probe") health.breaker.release();
          lastError = new AppError("MODEL_UNAVAILABLE", "Every key of the model's provider was refused; the operator has been told in the logs.");
          break;
        }
        const release = await health.slots.acquire(route.maxConcurrency, opts.queue === false ? 0 : route.maxQueue, QUEUE_WAIT_MS, opts.signal);
        if (!release) {
          if (admission === "probe") health.breaker.release();
          earliestRetry = Math.min(earliestRetry, now() + 1000);
          lastError = new AppError("MODEL_OVERLOADED", "The model is at capacity; try again shortly.");
          break;
        }
        // A stream may run long, but not for ever: a steady drip under the idle limit still ends.
        const limitMs = emit ? this.limits.streamMaxMs : route.timeouts.totalMs;
        const limit = linkedSignal([opts.signal], limitMs);
        const signal = limit.signal;
        const callStarted = now();
        health.calls++;
        try {
          const result = await runner({ input, files: opts.files ?? [], route, apiKey: key, signal, maxAnswerBytes: this.limits.answerMaxBytes, emit, async: opts.async });
          health.breaker.success(now());
          recordLatency(health, now() - callStarted);
          return { ...result, routeId: route.id };
        } catch (thrown) {
          if (opts.signal.aborted) {
            if (admission === "probe") health.breaker.release();
            throw thrown; // cancelled or shutting down: not the provider's fault
          }
          const failure = withoutKey(classOf(thrown, limit.timedOut() ? (emit ? `the stream ran longer than ${limitMs} ms` : `the provider did not answer within ${limitMs} ms`) : null), key);
          if (CALLERS_FAULT.has(failure.failure)) {
            if (admission === "probe") health.breaker.release();
            throw callerError(failure);
          }
          lastError = callerError(failure);
          if (failure.failure === "auth") {
            if (admission === "probe") health.breaker.release();
            if (committed) throw lastError;
            opts.warn?.("provider refused the gateway's key", { provider: route.provider.id, route_id: route.id, status: failure.opts.status, key_rested_ms: key ? KEY_COOLDOWN_MS : 0 });
            if (!key) break; // no key to change: the next route
            this.cooledKeys.set(keyId(route, key), now() + KEY_COOLDOWN_MS);
            attempt--; // the next key of the pool is another try, not another attempt
            continue;
          }
          if (failure.failure === "capacity") {
            if (admission === "probe") health.breaker.release(); // busy by design, not unwell
          } else {
            health.failures++;
            health.breaker.failure(now());
          }
          // Content already streamed cannot be taken back: the stream ends with this error.
          if (committed) throw lastError;
          const retryAfter = failure.opts.retryAfterMs;
          if (retryAfter !== undefined) {
            health.cooldownUntil = Math.max(health.cooldownUntil, now() + retryAfter);
            if (key && route.apiKeys().length > 1 && failure.failure === "rate_limited") this.cooledKeys.set(keyId(route, key), now() + retryAfter);
          }
          if (attempt >= 1 + route.retries || overBudget()) break;
          if (retryAfter !== undefined && retryAfter > MAX_RETRY_WAIT_MS) {
            earliestRetry = Math.min(earliestRetry, now() + retryAfter);
            break; // a long cooldown: the next route serves sooner
          }
          await sleep(Math.max(backoff(attempt), retryAfter ?? 0), opts.signal);
          if (retryAfter !== undefined) health.cooldownUntil = 0; // we waited it out
        } finally {
          limit.dispose();
          release();
        }
      }
    }
    const error = lastError ?? new AppError("MODEL_UNAVAILABLE", "The model has no usable route.");
    if (earliestRetry !== Infinity && !error.headers["Retry-After"]) {
      const seconds = Math.max(1, Math.ceil((earliestRetry - now()) / 1000));
      throw new AppError(error.code, error.message, error.details, { ...error.headers, "Retry-After": String(seconds) });
    }
    throw error;
  }
}

const keyId = (route: RouteInfo, key: string) => `${route.provider.id}\u0000${Bun.hash(key)}`;

function recordLatency(health: RouteHealth, ms: number) {
  health.latencyMs.push(ms);
  if (health.latencyMs.length > 256) health.latencyMs.splice(0, health.latencyMs.length - 256);
}

/** Breaker settings from a provider's `config.breaker` (snake_case, as in the catalog file). */
function breakerSettings(config: Record<string, unknown>): Partial<BreakerSettings> {
  const b = (config.breaker ?? {}) as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
  const out: Partial<BreakerSettings> = {};
  if (num(b.window_ms) !== undefined) out.windowMs = num(b.window_ms);
  if (num(b.min_calls) !== undefined) out.minCalls = num(b.min_calls);
  if (num(b.failure_rate) !== undefined) out.failureRate = num(b.failure_rate);
  if (num(b.consecutive_failures) !== undefined) out.consecutiveFailures = num(b.consecutive_failures);
  if (num(b.cooldown_ms) !== undefined) out.cooldownMs = num(b.cooldown_ms);
  return out;
}
