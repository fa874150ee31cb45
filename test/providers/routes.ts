/** Routes as the catalog hands them to the router, pointed at fake upstreams, for adapter and router tests. */
import type { StreamEvent } from "../../src/canonical/stream";
import type { RouteInfo } from "../../src/providers/types";

let counter = 0;

export function routeTo(kind: string, baseUrl: string, opts: Partial<Omit<RouteInfo, "provider" | "apiKeys">> & { keys?: string[]; config?: Record<string, unknown>; providerId?: string } = {}): RouteInfo {
  const id = opts.id ?? `route-${++counter}`;
  return {
    id,
    upstreamModel: opts.upstreamModel ?? "fake-model",
    params: opts.params ?? {},
    timeouts: opts.timeouts ?? { totalMs: 5_000, firstTokenMs: 2_000, idleMs: 1_000 },
    retries: opts.retries ?? 0,
    maxConcurrency: opts.maxConcurrency ?? null,
    maxQueue: opts.maxQueue ?? 0,
    maxOutputTokens: opts.maxOutputTokens ?? null,
    provider: { id: opts.providerId ?? `provider-${id}`, kind, baseUrl, config: opts.config ?? {} },
    apiKeys: () => opts.keys ?? ["test-key"],
    webhookSecret: () => null,
  };
}

/** Collects emitted events; `text` is what a streaming caller would have shown. */
export function collector() {
  const events: StreamEvent[] = [];
  return {
    events,
    emit: (e: StreamEvent) => void events.push(e),
    get text() {
      return events.flatMap((e) => (e.type === "text_delta" ? [e.text] : [])).join("");
    },
  };
}

/** A sleep that records what the router asked for and returns at once. */
export function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}
