/**
 * The HTTP plumbing every route shares (docs/decisions.md), over real HTTP: the app from
 * createApp(ctx) plus two test-only routes, one with a nested strict body and one that crashes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { closeDatabase, migrate } from "../../src/db/client";
import { auth } from "../../src/http/auth";
import { strictObject } from "../../src/http/schemas";
import { createLogger } from "../../src/log";
import { bootstrapIfEmpty } from "../../src/modules/orgs/bootstrap";
import { createContext } from "../../src/server";

const MiB = 1024 * 1024;
const dataDir = mkdtempSync(join(tmpdir(), "modelroute-plumbing-"));
const logLines: Record<string, unknown>[] = [];
const logWaiters: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];

function recordLog(text: string) {
  const line = JSON.parse(text) as Record<string, unknown>;
  logLines.push(line);
  for (const waiter of logWaiters.filter((w) => w.match(line))) {
    logWaiters.splice(logWaiters.indexOf(waiter), 1);
    waiter.resolve(line);
  }
}

/** The first log line matching `match`, now or when it is written (request lines come after the response). */
const logLine = (match: (line: Record<string, unknown>) => boolean) =>
  new Promise<Record<string, unknown>>((resolve) => {
    const seen = logLines.find(match);
    if (seen) resolve(seen);
    else logWaiters.push({ match, resolve });
  });
let base: string;
let apiKey: string;
let stop: () => Promise<void>;

const widgetBody = strictObject({
  name: t.String({ minLength: 1, maxLength: 10 }),
  size: strictObject({ width: t.Integer({ minimum: 1 }), tags: t.Array(strictObject({ label: t.String() })) }),
});

beforeAll(async () => {
  const config = loadConfig({ env: { MODELROUTE_DATA_DIR: dataDir, MODELROUTE_PORT: "0" } });
  const ctx = createContext(config, { log: createLogger("info", recordLog) });
  migrate(ctx.handle);
  apiKey = bootstrapIfEmpty(ctx.db, dataDir, Date.now())!.api_key;
  const testRoutes = new Elysia()
    .use(auth(ctx))
    .post("/test/widgets", ({ body }) => ({ received: body }), { auth: "inference", body: widgetBody })
    .post("/test/open", ({ body }) => ({ received: body ?? null }))
    .get("/test/boom", () => {
      throw new Error("secret internal detail: /etc/modelroute/secret.key");
    });
  const app = createApp(ctx).use(testRoutes);
  app.listen({ hostname: "127.0.0.1", port: 0, reusePort: false });
  base = `http://127.0.0.1:${app.server!.port}`;
  stop = async () => {
    await app.stop();
    closeDatabase(ctx.handle);
  };
});
afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (path: string, body: RequestInit["body"], headers: Record<string, string> = {}) =>
  fetch(base + path, { method: "POST", body, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", ...headers } });

/** Reads the envelope and checks its invariant parts: code, status, retryable, request id. */
async function envelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  const body = (await res.json()) as { error: { message: string; details: { field: string; code: string; message: string }[] } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error).toMatchObject({ code, retryable: false, request_id: res.headers.get("x-request-id") });
  expect(Array.isArray(body.error.details)).toBe(true);
  expect(typeof body.error.message).toBe("string");
  return body.error;
}

test("every response carries its own X-Request-Id, successes and errors alike", async () => {
  const responses = await Promise.all([
    fetch(`${base}/healthz`),
    fetch(`${base}/openapi.json`),
    fetch(`${base}/nowhere`),
    fetch(`${base}/v1/models`),
    fetch(`${base}/test/boom`),
    fetch(`${base}/healthz`, { method: "DELETE" }),
  ]);
  const ids = responses.map((r) => r.headers.get("x-request-id"));
  for (const id of ids) expect(id).toMatch(/^req_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  expect(new Set(ids).size).toBe(ids.length);
  await Promise.all(responses.map((r) => r.arrayBuffer()));
});

test("an unknown route is a 404 NOT_FOUND envelope", async () => {
  const error = await envelope(await fetch(`${base}/v1/nothing-here?x=1`), 404, "NOT_FOUND");
  expect(error.message).toContain("/v1/nothing-here");
});

test("a known path with the wrong method is a 405 envelope with Allow", async () => {
  const res = await fetch(`${base}/v1/models`, { method: "DELETE" });
  await envelope(res, 405, "METHOD_NOT_ALLOWED");
  expect(res.headers.get("allow")).toBe("GET");
  const withParam = await fetch(`${base}/v1/models/mock-chat`, { method: "PUT", body: "{}", headers: { "content-type": "application/json" } });
  await envelope(withParam, 405, "METHOD_NOT_ALLOWED");
  expect(withParam.headers.get("allow")).toBe("GET");
});

test("malformed JSON is 400 INPUT_VALIDATION_ERROR on field body", async () => {
  const error = await envelope(await post("/test/widgets", '{"name": "a",'), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([{ field: "body", code: "invalid_format", message: expect.any(String) }]);
});

test("a body over 1 MiB is 413 PAYLOAD_TOO_LARGE, declared or streamed", async () => {
  const big = JSON.stringify({ name: "a", pad: "x".repeat(MiB) });
  await envelope(await post("/test/widgets", big), 413, "PAYLOAD_TOO_LARGE");
  const chunks = [new TextEncoder().encode(big.slice(0, MiB / 2)), new TextEncoder().encode(big.slice(MiB / 2))];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  const chunked = await fetch(`${base}/test/open`, { method: "POST", body: stream, headers: { "content-type": "application/json" } });
  await envelope(chunked, 413, "PAYLOAD_TOO_LARGE");
});

test("a body of exactly 1 MiB is accepted", async () => {
  const prefix = '{"pad":"';
  const exact = prefix + "x".repeat(MiB - prefix.length - 2) + '"}';
  expect(exact.length).toBe(MiB);
  const res = await fetch(`${base}/test/open`, { method: "POST", body: exact, headers: { "content-type": "application/json" } });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { received: { pad: string } }).received.pad).toHaveLength(MiB - prefix.length - 2);
});

test("a text/plain body on a JSON route is 415 UNSUPPORTED_MEDIA_TYPE", async () => {
  const error = await envelope(await post("/test/widgets", '{"name":"a"}', { "content-type": "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
  expect(error.details[0]).toMatchObject({ field: "Content-Type", code: "unsupported" });
});

test("unknown fields are rejected at every depth with a JSON path", async () => {
  const body = { name: "w", size: { width: 2, tags: [{ label: "a" }, { label: "b", colour: "red" }] }, extra: true };
  const error = await envelope(await post("/test/widgets", JSON.stringify(body)), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual(
    expect.arrayContaining([
      { field: "size.tags[1].colour", code: "unknown_field", message: expect.any(String) },
      { field: "extra", code: "unknown_field", message: expect.any(String) },
    ]),
  );
});

test("schema violations are 400 (not 422) with one detail per field", async () => {
  const body = { name: "far too long a name", size: { width: "wide", tags: [{}] } };
  const error = await envelope(await post("/test/widgets", JSON.stringify(body)), 400, "INPUT_VALIDATION_ERROR");
  const byField = Object.fromEntries(error.details.map((d) => [d.field, d.code]));
  expect(byField).toEqual({ name: "too_long", "size.width": "invalid_type", "size.tags[0].label": "required" });
});

test("a valid nested body reaches the handler untouched", async () => {
  const body = { name: "w", size: { width: 3, tags: [{ label: "a" }] } };
  const res = await post("/test/widgets", JSON.stringify(body));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ received: body });
});

test("a crash is 500 INTERNAL_ERROR without its message, logged with the request id", async () => {
  const res = await fetch(`${base}/test/boom`);
  const text = await res.clone().text();
  expect(text).not.toContain("secret internal detail");
  expect(text).not.toContain("/etc/modelroute");
  const error = await envelope(res, 500, "INTERNAL_ERROR");
  expect(error.details).toEqual([]);
  const requestId = res.headers.get("x-request-id");
  const logged = logLines.find((l) => l.level === "error" && l.request_id === requestId);
  expect(logged).toBeDefined();
  expect(JSON.stringify(logged)).toContain("secret internal detail");
});

test("one JSON log line per request names the request id, route, status and duration", async () => {
  const res = await fetch(`${base}/v1/models/no-such-model`, { headers: { authorization: `Bearer ${apiKey}` } });
  expect(res.status).toBe(404);
  const requestId = res.headers.get("x-request-id");
  const line = await logLine((l) => l.msg === "request" && l.request_id === requestId);
  expect(line).toMatchObject({ level: "info", method: "GET", route: "/v1/models/:slug", path: "/v1/models/no-such-model", status: 404 });
  expect(line.duration_ms).toBeGreaterThanOrEqual(0);
  expect(Date.parse(line.time as string)).not.toBeNaN();
});
