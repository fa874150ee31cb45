/**
 * 500 concurrent creates over real HTTP against a balance that pays for exactly 100 holds:
 * the check and the hold are one statement, so exactly 100 are accepted and the balance never
 * goes below zero, whatever the interleaving.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { invariants } from "../helpers/invariants";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "0" } });
});
afterAll(() => server.stop());

test("500 concurrent executions against a balance for exactly 100: 100 accepted, 400 get 402, available never below 0", async () => {
  const { orgId, key } = server.newOrgKey({ creditMicros: 100 * 40_000 });
  let lowestAvailable = Infinity;
  let samples = 0;
  // Checked between requests on the server's own connection, while they are in flight.
  const sampler = setInterval(() => {
    const figures = invariants(server.running.ctx.client, orgId);
    lowestAvailable = Math.min(lowestAvailable, figures.availableMicros);
    samples++;
  }, 1);
  const body = { model: "mock-image", input: { prompt: "a crowd", width: 64, height: 64, mock_latency_ms: 50 } };
  let responses: Response[];
  try {
    responses = await Promise.all(Array.from({ length: 500 }, () => server.post("/v1/executions", body, key)));
  } finally {
    clearInterval(sampler);
  }
  const statuses = responses.map((r) => r.status);
  expect(statuses.filter((s) => s === 202)).toHaveLength(100);
  expect(statuses.filter((s) => s === 402)).toHaveLength(400);
  const refusals = await Promise.all(responses.filter((r) => r.status === 402).map((r) => r.json()));
  expect(new Set(refusals.map((r) => r.error.code))).toEqual(new Set(["INSUFFICIENT_BALANCE"]));
  expect(samples).toBeGreaterThan(0);
  expect(lowestAvailable).toBeGreaterThanOrEqual(0);
  const after = invariants(server.running.ctx.client, orgId);
  expect(after.availableMicros).toBe(0);
  expect((await (await server.get("/v1/executions?limit=100", key)).json()).data).toHaveLength(100);
  // Each of the 100 then captures exactly its 0.040: nothing is left, nothing is held.
  let balance = await (await server.get("/v1/balance", key)).json();
  for (let i = 0; i < 400 && balance.held !== "0.000"; i++) {
    await Bun.sleep(10);
    balance = await (await server.get("/v1/balance", key)).json();
  }
  expect(balance).toMatchObject({ available: "0.000", held: "0.000", total: "0.000" });
  invariants(server.running.ctx.client, orgId);
}, 30_000);
