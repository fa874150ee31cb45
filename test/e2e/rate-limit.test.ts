import { afterAll, beforeAll, expect, test } from "bun:test";
import * as Keys from "../../src/modules/keys/service";
import { startTestServer, type TestServer } from "../helpers/server";

// A settable clock pins the fixed 60 s window: 15 s into the minute that ends at WINDOW_END_S.
const WINDOW_END_S = Date.UTC(2030, 0, 1, 0, 1, 0) / 1000;
let nowMs = (WINDOW_END_S - 45) * 1000;
const clock = { now: () => nowMs };

let limited: TestServer;
let unlimited: TestServer;
beforeAll(async () => {
  [limited, unlimited] = await Promise.all([
    startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "3" }, clock }),
    startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "0" } }),
  ]);
});
afterAll(() => Promise.all([limited.stop(), unlimited.stop()]));

const rateHeaders = (res: Response) => ({
  limit: res.headers.get("x-ratelimit-limit"),
  remaining: res.headers.get("x-ratelimit-remaining"),
  reset: res.headers.get("x-ratelimit-reset"),
});

test("with RPM 3 the 4th request in a minute is 429 RATE_LIMITED with Retry-After, and the next window admits again", async () => {
  const key = Keys.issueKey(limited.running.ctx.db, { orgId: limited.orgId, name: "rl", permission: "inference" }, clock.now()).key;
  const reset = String(WINDOW_END_S);
  for (const remaining of ["2", "1", "0"]) {
    const ok = await limited.get("/v1/models", key);
    expect(ok.status).toBe(200);
    expect(rateHeaders(ok)).toEqual({ limit: "3", remaining, reset });
  }
  const over = await limited.get("/v1/models", key);
  expect(over.status).toBe(429);
  expect(over.headers.get("retry-after")).toBe("45");
  expect(rateHeaders(over)).toEqual({ limit: "3", remaining: "0", reset });
  const { error } = (await over.json()) as { error: Record<string, unknown> };
  expect(error).toMatchObject({ code: "RATE_LIMITED", retryable: true, request_id: over.headers.get("x-request-id") });

  nowMs = WINDOW_END_S * 1000 + 1; // the next minute
  const again = await limited.get("/v1/models", key);
  expect(again.status).toBe(200);
  expect(rateHeaders(again)).toEqual({ limit: "3", remaining: "2", reset: String(WINDOW_END_S + 60) });
});

test("each key has its own window, and errors after auth carry the headers too", async () => {
  const [a, b] = ["a", "b"].map(
    (name) => Keys.issueKey(limited.running.ctx.db, { orgId: limited.orgId, name, permission: "inference" }, clock.now()).key,
  );
  for (let i = 0; i < 3; i++) expect((await limited.get("/v1/models", a)).status).toBe(200);
  expect((await limited.get("/v1/models", a)).status).toBe(429);
  const missing = await limited.get("/v1/models/no-such-model", b);
  expect(missing.status).toBe(404);
  expect(rateHeaders(missing)).toMatchObject({ limit: "3", remaining: "2" });
});

test("a 401 carries no rate-limit headers, nor do ops routes", async () => {
  const unauthorized = await limited.get("/v1/models", "sk_" + "0".repeat(64) + "_00000000");
  expect(unauthorized.status).toBe(401);
  expect(((await unauthorized.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
  const noHeader = await limited.get("/v1/models", null);
  expect(noHeader.status).toBe(401);
  for (const res of [unauthorized, noHeader, await limited.get("/healthz"), await limited.get("/readyz")])
    expect(rateHeaders(res)).toEqual({ limit: null, remaining: null, reset: null });
});

test("RPM 0 turns the limiter off: no headers, no 429", async () => {
  const responses = await Promise.all(Array.from({ length: 20 }, () => unlimited.get("/v1/models")));
  for (const res of responses) {
    expect(res.status).toBe(200);
    expect(rateHeaders(res)).toEqual({ limit: null, remaining: null, reset: null });
    await res.arrayBuffer();
  }
});
