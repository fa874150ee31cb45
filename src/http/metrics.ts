/** Prometheus text exposition of request counts, a latency histogram, route health and process memory. */
import type { RouteStatus } from "../providers/router";

const BREAKER_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

function routeLines(routes: RouteStatus[], label: (v: string) => string): string[] {
  if (routes.length === 0) return [];
  const series: [name: string, type: string, help: string, value: (r: RouteStatus) => number | null][] = [
    ["modelroute_route_breaker_state", "gauge", "Circuit breaker per route: 0 closed, 1 half-open, 2 open.", (r) => BREAKER_VALUES[r.state]],
    ["modelroute_route_in_flight", "gauge", "Calls in flight on the route.", (r) => r.in_flight],
    ["modelroute_route_queued", "gauge", "Calls waiting for a slot on the route.", (r) => r.queued],
    ["modelroute_route_calls_total", "counter", "Upstream calls made on the route.", (r) => r.calls],
    ["modelroute_route_failures_total", "counter", "Upstream calls on the route that counted against its health.", (r) => r.failures],
    ["modelroute_route_latency_p50_seconds", "gauge", "Median latency of the route's last 256 successful calls.", (r) => (r.p50_latency_ms === null ? null : r.p50_latency_ms / 1000)],
  ];
  const out: string[] = [];
  for (const [name, type, help, value] of series) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const r of routes) {
      const v = value(r);
      if (v !== null) out.push(`${name}{route="${label(r.route_id)}",provider="${label(r.provider)}"} ${v}`);
    }
  }
  return out;
}
const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Histogram = { counts: number[]; sum: number; count: number };

export class Metrics {
  private requests = new Map<string, number>();
  private latency = new Map<string, Histogram>();
  private counters = new Map<string, { help: string; value: number }>();

  /** Requests observed since start, all routes (the idle collector watches it move). */
  requestsSoFar = 0;

  observeRequest(method: string, route: string, status: number, seconds: number) {
    this.requestsSoFar++;
    const key = `${method}\u0000${route}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hKey = `${method}\u0000${route}`;
    let h = this.latency.get(hKey);
    if (!h) this.latency.set(hKey, (h = { counts: BUCKETS_S.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS_S.length; i++) if (seconds <= BUCKETS_S[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** A named counter other modules bump (e.g. capture shortfalls). */
  increment(name: string, help: string, by = 1) {
    const c = this.counters.get(name) ?? { help, value: 0 };
    c.value += by;
    this.counters.set(name, c);
  }

  /** `routes`: the router's view of each route this process has called. */
  render(routes: RouteStatus[] = []): string {
    const out: string[] = [];
    const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    out.push("# HELP modelroute_http_requests_total HTTP requests by route and status.", "# TYPE modelroute_http_requests_total counter");
    for (const [key, n] of this.requests) {
      const [method, route, status] = key.split("\u0000");
      out.push(`modelroute_http_requests_total{method="${method}",route="${label(route!)}",status="${status}"} ${n}`);
    }
    out.push("# HELP modelroute_http_request_duration_seconds Request latency.", "# TYPE modelroute_http_request_duration_seconds histogram");
    for (const [key, h] of this.latency) {
      const [method, route] = key.split("\u0000");
      const labels = `method="${method}",route="${label(route!)}"`;
      BUCKETS_S.forEach((le, i) => out.push(`modelroute_http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.counts[i]}`));
      out.push(`modelroute_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      out.push(`modelroute_http_request_duration_seconds_sum{${labels}} ${h.sum}`);
      out.push(`modelroute_http_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    for (const [name, c] of this.counters) out.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`, `${name} ${c.value}`);
    out.push(...routeLines(routes, label));
    const memory = process.memoryUsage();
    const gauges = {
      modelroute_process_resident_memory_bytes: { help: "Resident set size.", value: memory.rss },
      modelroute_process_heap_used_bytes: { help: "JavaScript heap in use.", value: memory.heapUsed },
      modelroute_process_uptime_seconds: { help: "Seconds since the process started.", value: process.uptime() },
    };
    for (const [name, g] of Object.entries(gauges)) out.push(`# HELP ${name} ${g.help}`, `# TYPE ${name} gauge`, `${name} ${g.value}`);
    return out.join("\n") + "\n";
  }
}
