import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test("/healthz answers 200 without auth", async () => {
  const res = await server.get("/healthz", null);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok" });
});

test("/readyz is 200 when the database is writable and migrated", async () => {
  const res = await server.get("/readyz", null);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ ready: true, checks: { accepting_requests: true, database_writable: true, migrations_applied: true, data_dir_writable: true } });
});

test("/readyz is 503 naming the failing check when a migration is missing", async () => {
  const sqlite = server.running.ctx.client;
  const table = server.running.ctx.handle.dialect === "postgres" ? "modelroute_migrations" : "__drizzle_migrations";
  const last = sqlite.query(`SELECT * FROM ${table} ORDER BY ${table === "modelroute_migrations" ? "applied_at" : "created_at"} DESC LIMIT 1`).get() as Record<string, unknown>;
  sqlite.query(`DELETE FROM ${table} WHERE hash = ?`).run(last.hash as string);
  try {
    const res = await server.get("/readyz", null);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, checks: { accepting_requests: true, database_writable: true, migrations_applied: false, data_dir_writable: true } });
  } finally {
    const columns = Object.keys(last).filter((c) => c !== "id");
    sqlite.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`).run(...columns.map((c) => last[c] as string | number));
  }
  expect((await server.get("/readyz", null)).status).toBe(200);
});

test("/metrics counts requests by route and status, with a latency histogram and memory", async () => {
  await server.get("/v1/models");
  await server.get("/v1/models");
  await server.get("/v1/models/mock-chat");
  await server.get("/v1/models/does-not-exist");
  await server.get("/v1/models", null);
  await server.get("/no/such/route");
  const res = await server.get("/metrics", null);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
  const text = await res.text();
  const sample = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(name + " "));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  expect(sample('modelroute_http_requests_total{method="GET",route="/v1/models",status="200"}')).toBe(2);
  expect(sample('modelroute_http_requests_total{method="GET",route="/v1/models",status="401"}')).toBe(1);
  expect(sample('modelroute_http_requests_total{method="GET",route="/v1/models/:slug",status="200"}')).toBe(1);
  expect(sample('modelroute_http_requests_total{method="GET",route="/v1/models/:slug",status="404"}')).toBe(1);
  // Unknown paths share one label so scanners cannot blow up the series count.
  expect(sample('modelroute_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
  expect(text).not.toContain("/no/such/route");
  expect(sample('modelroute_http_request_duration_seconds_count{method="GET",route="/v1/models"}')).toBe(3);
  expect(sample('modelroute_http_request_duration_seconds_bucket{method="GET",route="/v1/models",le="+Inf"}')).toBe(3);
  expect(sample('modelroute_http_request_duration_seconds_bucket{method="GET",route="/v1/models",le="60"}')).toBe(3);
  expect(text).toContain("# TYPE modelroute_http_request_duration_seconds histogram");
  expect(sample("modelroute_process_resident_memory_bytes")).toBeGreaterThan(1_000_000);
  expect(sample("modelroute_process_heap_used_bytes")).toBeGreaterThan(0);
});
