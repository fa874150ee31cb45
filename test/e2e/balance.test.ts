import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createEndpoint } from "../../src/modules/webhooks/service";
import { invariants } from "../helpers/invariants";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
let receiver: ReturnType<typeof Bun.serve>;
beforeAll(async () => {
  receiver = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });
  server = await startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  await server.stop();
  receiver.stop(true);
});

/** The outbox keeps only events someone receives: give the org an endpoint for every type. */
const listening = async (org: { orgId: string; key: string }) => {
  await createEndpoint(server.running.ctx, org.orgId, { url: `http://127.0.0.1:${receiver.port}/hook` });
  return org;
};

const TERMINAL = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];
const image = (extra: Record<string, unknown> = {}) => ({ model: "mock-image", input: { prompt: "a fox", width: 64, height: 64, ...extra } });

async function untilTerminal(id: string, key: string) {
  for (let i = 0; i < 400; i++) {
    const execution = await (await server.get(`/v1/executions/${id}`, key)).json();
    if (TERMINAL.includes(execution.status)) return execution;
    await Bun.sleep(10);
  }
  throw new Error(`execution ${id} never finished`);
}

const balanceOf = async (key: string) => (await server.get("/v1/balance", key)).json();
const transactionsOf = async (key: string, query = "") => (await server.get(`/v1/balance/transactions${query}`, key)).json();
const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  server.request(method, path, { key: server.adminToken, body, headers });
const eventsOf = (orgId: string, type: string) =>
  server.running.ctx.client.query("SELECT data FROM events WHERE org_id = ? AND type = ? ORDER BY id").all(orgId, type).map((r) => JSON.parse((r as { data: string }).data));

describe("GET /v1/balance", () => {
  test("the first run's organization starts with the demo credit, as strings", async () => {
    const res = await server.get("/v1/balance");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: "balance", available: "10.000", held: "0.000", total: "10.000", currency: "USD" });
  });

  test("without a key: 401", async () => {
    expect((await server.get("/v1/balance", null)).status).toBe(401);
  });

  test("MODELROUTE_BOOTSTRAP_CREDIT sets the first run's demo credit, recorded as a credit entry", async () => {
    const other = await startTestServer({ env: { MODELROUTE_BOOTSTRAP_CREDIT: "2.5" } });
    try {
      expect(await (await other.get("/v1/balance")).json()).toMatchObject({ available: "2.500", held: "0.000", total: "2.500" });
      const { data } = await (await other.get("/v1/balance/transactions")).json();
      expect(data).toEqual([expect.objectContaining({ type: "credit", amount: "2.500", note: "Demo credit of the first run" })]);
    } finally {
      await other.stop();
    }
  });
});

describe("holds and captures", () => {
  test("a running execution holds its maximum cost; when it completes the cost is captured, one ledger entry of minus its cost", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 1_000_000 });
    const created = await (await server.post("/v1/executions", image({ mock_latency_ms: 300 }), key)).json();
    expect(await balanceOf(key)).toMatchObject({ available: "0.960", held: "0.040", total: "1.000" });
    // A hold is in the balance's `held`, not an entry of its own.
    expect((await transactionsOf(key)).data.map((t: { type: string }) => t.type)).toEqual(["credit"]);
    invariants(server.running.ctx.client, orgId);
    const done = await untilTerminal(created.id, key);
    expect(done).toMatchObject({ status: "COMPLETED", cost: "0.040" });
    expect(await balanceOf(key)).toMatchObject({ available: "0.960", held: "0.000", total: "0.960" });
    const list = await transactionsOf(key);
    expect(list.data.map((t: { type: string; amount: string }) => [t.type, t.amount])).toEqual([
      ["capture", "-0.040"],
      ["credit", "1.000"],
    ]);
    expect(list.data[0]).toMatchObject({ object: "balance_transaction", execution_id: created.id, captured: "0.040", released: "0.000", note: null });
    expect(list.data[1]).toMatchObject({ note: "test credit", execution_id: null, captured: null });
    invariants(server.running.ctx.client, orgId);
  });

  test("a token-priced execution captures its actual cost and releases the rest of the hold", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 1_000_000 });
    const res = await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "one two three" } }, key);
    const done = await res.json();
    expect(done.status).toBe("COMPLETED");
    const [resolution] = (await transactionsOf(key)).data;
    expect(resolution.type).toBe("capture");
    expect(resolution.captured).toBe(done.cost);
    const heldMicros = (server.running.ctx.client.query("SELECT hold_micros AS h FROM executions WHERE id = ?").get(done.id) as { h: number }).h;
    expect(Math.round(Number(resolution.released) * 1e6)).toBe(heldMicros - Math.round(Number(done.cost) * 1e6));
    expect(Math.round(Number(resolution.amount) * 1e6)).toBe(-Math.round(Number(done.cost) * 1e6));
    expect((await balanceOf(key)).held).toBe("0.000");
    invariants(server.running.ctx.client, orgId);
  });

  test("a create above the available balance answers 402, holds nothing and creates nothing", async () => {
    const { key } = server.newOrgKey({ creditMicros: 10_000 });
    const res = await server.post("/v1/executions", image(), key);
    expect(res.status).toBe(402);
    const { error } = await res.json();
    expect(error).toMatchObject({ code: "INSUFFICIENT_BALANCE", retryable: false });
    expect(error.message).toContain("0.040");
    expect(await balanceOf(key)).toMatchObject({ available: "0.010", held: "0.000" });
    expect((await (await server.get("/v1/executions", key)).json()).data).toEqual([]);
  });

  test("a FAILED execution releases its whole hold and costs nothing", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 100_000 });
    const done = await (await server.post("/v1/executions", { ...image({ mock_error: "CONTENT_MODERATION_REJECTED" }), mode: "SYNC" }, key)).json();
    expect(done).toMatchObject({ status: "FAILED", cost: "0.000" });
    const [release] = (await transactionsOf(key)).data;
    expect(release).toMatchObject({ type: "release", amount: "0.000", captured: "0.000", released: "0.040", execution_id: done.id });
    expect(await balanceOf(key)).toMatchObject({ available: "0.100", held: "0.000" });
    invariants(server.running.ctx.client, orgId);
  });

  test("cancelling a running mock execution releases its hold (the mock reports no usage)", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 100_000 });
    const created = await (await server.post("/v1/executions", image({ mock_latency_ms: 5000 }), key)).json();
    const cancelled = await (await server.post(`/v1/executions/${created.id}/cancel`, {}, key)).json();
    expect(cancelled).toMatchObject({ status: "CANCELLED", cost: "0.000" });
    expect(await balanceOf(key)).toMatchObject({ available: "0.100", held: "0.000" });
    invariants(server.running.ctx.client, orgId);
  });

  test("execution events in the outbox carry the cost", async () => {
    const { orgId, key } = await listening(server.newOrgKey({ creditMicros: 100_000 }));
    const done = await (await server.post("/v1/executions", { ...image(), mode: "SYNC" }, key)).json();
    const [completed] = eventsOf(orgId, "execution.completed");
    expect(completed).toMatchObject({ id: done.id, status: "COMPLETED", cost: "0.040" });
  });
});

describe("GET /v1/balance/transactions", () => {
  test("pages newest first with starting_after and ending_before", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 1_000_000 });
    for (const amount of ["2.00", "3.00", "4.00"]) expect((await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount })).status).toBe(201);
    const first = await transactionsOf(key, "?limit=2");
    expect(first.object).toBe("list");
    expect(first.has_more).toBe(true);
    expect(first.data.map((t: { amount: string }) => t.amount)).toEqual(["4.000", "3.000"]);
    const second = await transactionsOf(key, `?limit=2&starting_after=${first.data[1].id}`);
    expect(second.data.map((t: { amount: string }) => t.amount)).toEqual(["2.000", "1.000"]);
    expect(second.has_more).toBe(false);
    const back = await transactionsOf(key, `?limit=2&ending_before=${second.data[0].id}`);
    expect(back.data.map((t: { amount: string }) => t.amount)).toEqual(["4.000", "3.000"]);
  });

  test("limit above 100 is a 400 out_of_range", async () => {
    const res = await server.get("/v1/balance/transactions?limit=101");
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatchObject({ code: "INPUT_VALIDATION_ERROR", details: [{ field: "limit", code: "out_of_range" }] });
  });
});

describe("POST /admin/v1/orgs/{id}/credits", () => {
  test("adds the amount exactly, answers the transaction with the new balance, and is audited", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 0 });
    const res = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "25.000001", note: "Invoice 7" });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({
      object: "balance_transaction",
      type: "credit",
      amount: "25.000001",
      note: "Invoice 7",
      execution_id: null,
      balance: { available: "25.000001", held: "0.000", total: "25.000001", currency: "USD" },
    });
    expect(await balanceOf(key)).toMatchObject({ available: "25.000001" });
    const audit = await (await admin("GET", `/admin/v1/audit-log?action=balance.credit&target=${orgId}`)).json();
    expect(audit.data).toEqual([expect.objectContaining({ actor: "operator", action: "balance.credit", target: orgId, details: expect.objectContaining({ entry_id: body.id, amount: "25.000001" }) })]);
    invariants(server.running.ctx.client, orgId);
  });

  test("a retry with the same Idempotency-Key adds nothing and returns the first credit; another amount with it is 422", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 0 });
    const first = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "5.00" }, { "idempotency-key": "inv-1" });
    expect(first.status).toBe(201);
    const again = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "5.00", idempotency_key: "inv-1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect((await again.json()).id).toBe((await first.json()).id);
    expect(await balanceOf(key)).toMatchObject({ available: "5.000" });
    const other = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "6.00" }, { "idempotency-key": "inv-1" });
    expect(other.status).toBe(422);
    expect((await other.json()).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    const mismatch = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "5.00", idempotency_key: "a" }, { "idempotency-key": "b" });
    expect(mismatch.status).toBe(400);
  });

  test("bad amounts are 400 naming amount; unknown fields are rejected", async () => {
    const { orgId } = server.newOrgKey({ creditMicros: 0 });
    for (const amount of ["0", "-1.00", "1.1234567", "abc", "1e3", "1000000.000001"]) {
      const res = await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount });
      expect(res.status).toBe(400);
      expect((await res.json()).error.details[0].field).toBe("amount");
    }
    expect((await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "1.00", currency: "EUR" })).status).toBe(400);
  });

  test("an API key, or no operator token, is 401; an unknown or malformed org is 404", async () => {
    const { orgId } = server.newOrgKey({ creditMicros: 0 });
    expect((await server.post(`/admin/v1/orgs/${orgId}/credits`, { amount: "1.00" })).status).toBe(401);
    expect((await server.request("POST", `/admin/v1/orgs/${orgId}/credits`, { key: null, body: { amount: "1.00" } })).status).toBe(401);
    expect((await admin("POST", "/admin/v1/orgs/org_01932c5e-7a1b-7000-8000-000000000001/credits", { amount: "1.00" })).status).toBe(404);
    expect((await admin("POST", "/admin/v1/orgs/nope/credits", { amount: "1.00" })).status).toBe(404);
  });

  test("the operator reads an organization's balance and transactions", async () => {
    const { orgId } = server.newOrgKey({ creditMicros: 2_500_000 });
    expect(await (await admin("GET", `/admin/v1/orgs/${orgId}/balance`)).json()).toMatchObject({ available: "2.500" });
    expect((await (await admin("GET", `/admin/v1/orgs/${orgId}/balance/transactions`)).json()).data).toHaveLength(1);
  });
});

describe("balance.low", () => {
  test("fires once when available drops below the threshold, re-arms after a credit brings it back", async () => {
    const { orgId, key } = await listening(server.newOrgKey({ creditMicros: 200_000 }));
    const set = await server.request("PATCH", "/v1/balance/settings", { key, body: { low_balance_threshold: "0.100" } });
    expect(set.status).toBe(200);
    expect(await set.json()).toEqual({ object: "balance_settings", low_balance_threshold: "0.100" });
    const run = async () => expect((await server.post("/v1/executions", { ...image(), mode: "SYNC" }, key)).status).toBe(200);
    await run(); // 0.160 left
    await run(); // 0.120
    expect(eventsOf(orgId, "balance.low")).toEqual([]);
    await run(); // 0.080: crosses below
    await run(); // 0.040: still below, no second event
    expect(eventsOf(orgId, "balance.low")).toEqual([
      { object: "balance", available: "0.080", held: "0.040", total: "0.120", currency: "USD", low_balance_threshold: "0.100" },
    ]);
    await admin("POST", `/admin/v1/orgs/${orgId}/credits`, { amount: "0.10" }); // 0.140: re-armed
    await run(); // 0.100: not below
    await run(); // 0.060: below again
    expect(eventsOf(orgId, "balance.low").map((e) => e.available)).toEqual(["0.080", "0.060"]);
  });

  test("a threshold set above the available balance fires at once; null turns it off", async () => {
    const { orgId, key } = await listening(server.newOrgKey({ creditMicros: 50_000 }));
    await server.request("PATCH", "/v1/balance/settings", { key, body: { low_balance_threshold: "1.00" } });
    expect(eventsOf(orgId, "balance.low").map((e) => e.available)).toEqual(["0.050"]);
    const off = await server.request("PATCH", "/v1/balance/settings", { key, body: { low_balance_threshold: null } });
    expect(await off.json()).toEqual({ object: "balance_settings", low_balance_threshold: null });
    expect(await (await server.get("/v1/balance/settings", key)).json()).toEqual({ object: "balance_settings", low_balance_threshold: null });
  });

  test("settings need a full-permission key; the operator can set them too; bad values are 400", async () => {
    const { orgId, key } = await listening(server.newOrgKey({ creditMicros: 0, permission: "inference" }));
    expect((await server.request("PATCH", "/v1/balance/settings", { key, body: { low_balance_threshold: "1.00" } })).status).toBe(403);
    expect((await server.get("/v1/balance/settings", key)).status).toBe(403);
    expect((await server.get("/v1/balance", key)).status).toBe(200);
    const bad = await server.request("PATCH", "/v1/balance/settings", { body: { low_balance_threshold: "ten" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details[0].field).toBe("low_balance_threshold");
    const byOperator = await admin("PATCH", `/admin/v1/orgs/${orgId}/balance/settings`, { low_balance_threshold: "2.50" });
    expect(await byOperator.json()).toEqual({ object: "balance_settings", low_balance_threshold: "2.500" });
    expect(eventsOf(orgId, "balance.low")).toHaveLength(1);
  });
});

test("an org without webhook endpoints keeps no outbox events: nobody would receive them", async () => {
  const { orgId, key } = server.newOrgKey({ creditMicros: 100_000 });
  expect((await server.post("/v1/executions", { ...image(), mode: "SYNC" }, key)).status).toBe(200);
  expect(eventsOf(orgId, "execution.completed")).toEqual([]);
  await listening({ orgId, key });
  expect((await server.post("/v1/executions", { ...image(), mode: "SYNC" }, key)).status).toBe(200);
  expect(eventsOf(orgId, "execution.completed")).toHaveLength(1);
});
