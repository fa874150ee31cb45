import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";
import { eventually, startReceiver, verify, type Receiver } from "../helpers/webhook-receiver";

let server: TestServer;
const receivers: Receiver[] = [];
beforeAll(async () => {
  server = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  await server.stop();
  for (const r of receivers) r.stop();
});

const receiver = () => {
  const r = startReceiver();
  receivers.push(r);
  return r;
};

async function createEndpoint(key: string, body: Record<string, unknown>) {
  const res = await server.post("/v1/webhooks/endpoints", body, key);
  expect(res.status).toBe(201);
  return res.json();
}

async function runExecution(key: string, extra: Record<string, unknown> = {}) {
  const res = await server.post("/v1/executions", { model: "demo-model", input: { text: "hello webhooks" }, ...extra }, key);
  expect(res.status).toBe(202);
  return (await res.json()).id as string;
}

describe("endpoints API", () => {
  test("the secret is shown in full on create only; list, get, update and delete", async () => {
    const { key } = server.newOrgKey();
    const created = await createEndpoint(key, { url: "https://example.com/hooks", events: ["execution.completed"], description: "orders" });
    expect(created).toMatchObject({ object: "webhook_endpoint", url: "https://example.com/hooks", events: ["execution.completed"], description: "orders", enabled: true, previous_secret_expires_at: null });
    expect(created.id).toMatch(/^whep_[0-9a-f-]{36}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const fetched = await (await server.get(`/v1/webhooks/endpoints/${created.id}`, key)).json();
    expect(fetched.secret).toBe(`${created.secret.slice(0, 10)}…${created.secret.slice(-4)}`);
    const list = await (await server.get("/v1/webhooks/endpoints", key)).json();
    expect(list).toMatchObject({ object: "list", has_more: false });
    expect(list.data.map((e: { id: string; secret: string }) => [e.id, e.secret])).toEqual([[created.id, fetched.secret]]);

    const patched = await server.request("PATCH", `/v1/webhooks/endpoints/${created.id}`, { key, body: { events: null, description: null, enabled: false } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ events: null, description: null, enabled: false, disabled_reason: "Disabled by request." });

    const deleted = await server.request("DELETE", `/v1/webhooks/endpoints/${created.id}`, { key });
    expect(await deleted.json()).toEqual({ id: created.id, object: "webhook_endpoint", deleted: true });
    expect((await server.get(`/v1/webhooks/endpoints/${created.id}`, key)).status).toBe(404);
    expect((await (await server.get("/v1/webhooks/endpoints", key)).json()).data).toEqual([]);
  });

  test("bad bodies answer 400 naming the field", async () => {
    const { key } = server.newOrgKey();
    const cases: [Record<string, unknown>, string, string][] = [
      [{ url: "https://example.com", events: [] }, "events", "too_short"],
      [{ url: "https://example.com", events: ["execution.completed", "execution.exploded"] }, "events[1]", "unsupported"],
      [{ url: "ftp://example.com/x" }, "url", "invalid_format"],
      [{ url: "https://example.com", secret: "mine" }, "secret", "unknown_field"],
      [{}, "url", "required"],
    ];
    for (const [body, field, code] of cases) {
      const res = await server.post("/v1/webhooks/endpoints", body, key);
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error.code).toBe("INPUT_VALIDATION_ERROR");
      expect(error.details).toContainEqual(expect.objectContaining({ field, code }));
    }
  });

  test("inference keys get 403; malformed and unknown ids 404; at most 16 endpoints", async () => {
    const { key } = server.newOrgKey();
    const inference = server.newOrgKey({ permission: "inference" }).key;
    expect((await server.get("/v1/webhooks/endpoints", inference)).status).toBe(403);
    expect((await server.get("/v1/webhooks/signing-secret", inference)).status).toBe(403);
    for (const path of ["/v1/webhooks/endpoints/nope", "/v1/webhooks/endpoints/whep_01932c5e-7a1b-7000-8000-000000000001", "/v1/webhooks/deliveries/whdl_x"]) {
      const res = await server.get(path, key);
      expect(res.status).toBe(404);
      expect((await res.json()).error.code).toBe("NOT_FOUND");
    }
    for (let i = 0; i < 16; i++) await createEndpoint(key, { url: `https://example.com/${i}` });
    const over = await server.post("/v1/webhooks/endpoints", { url: "https://example.com/17" }, key);
    expect(over.status).toBe(409);
    expect((await over.json()).error.code).toBe("CONFLICT");
  });
});

describe("deliveries", () => {
  test("an execution's webhook_url receives execution.completed with the cost, signed with the org secret", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    const id = await runExecution(key, { webhook_url: `${rx.url}/exec` });
    const [hit] = await rx.waitFor(1);
    const { secret } = await (await server.get("/v1/webhooks/signing-secret", key)).json();
    expect(verify(hit!, secret)).toEqual({ seed: true, standard: true });
    expect(Object.keys(hit!.json)).toEqual(["id", "type", "created_at", "data"]);
    expect(hit!.json).toMatchObject({ type: "execution.completed", data: { id, object: "execution", status: "COMPLETED" } });
    const execution = await (await server.get(`/v1/executions/${id}`, key)).json();
    expect(hit!.json.data.cost).toBe(execution.cost);
    expect(hit!.json.data.cost).toMatch(/^\d+\.\d{3,6}$/);
    expect(hit!.headers.get("x-webhook-id")).toBe(hit!.json.id);
    expect(hit!.headers.get("webhook-id")).toBe(hit!.json.id);
    expect(hit!.headers.get("x-webhook-event")).toBe("execution.completed");
    expect(Math.abs(Number(hit!.headers.get("x-signature-timestamp")) - Date.now() / 1000)).toBeLessThan(60);

    // Only terminal events go to webhook_url: the log holds one delivery for this execution.
    const log = await eventually(async () => (await server.get("/v1/webhooks/deliveries", key)).json(), (l) => l.data[0]?.status !== "pending");
    expect(log.data).toHaveLength(1);
    expect(log.data[0]).toMatchObject({ event_id: hit!.json.id, execution_id: id, endpoint_id: null, status: "succeeded", attempt_count: 1, last_status_code: 200 });
  });

  test("an endpoint receives started and completed, both signatures valid; the log has every attempt", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    const endpoint = await createEndpoint(key, { url: `${rx.url}/all` });
    const id = await runExecution(key);
    const hits = await rx.waitFor(2);
    // Deliveries are independent: receivers must not rely on their order.
    expect(hits.map((h) => h.json.type).sort()).toEqual(["execution.completed", "execution.started"]);
    for (const hit of hits) {
      expect(verify(hit, endpoint.secret)).toEqual({ seed: true, standard: true });
      expect(hit.json.data.id).toBe(id);
    }
    const deliveries = await eventually(
      async () => (await server.get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`, key)).json(),
      (l) => l.data.every((d: { status: string }) => d.status !== "pending"),
    );
    expect(deliveries.data.map((d: { event_type: string; status: string }) => [d.event_type, d.status])).toEqual([
      ["execution.completed", "succeeded"],
      ["execution.started", "succeeded"],
    ]);
    const detail = await (await server.get(`/v1/webhooks/deliveries/${deliveries.data[0].id}`, key)).json();
    expect(detail.attempts).toEqual([{ attempt: 1, at: expect.any(String), status_code: 200, latency_ms: expect.any(Number), error: null, next_retry_at: null }]);
    const page = await (await server.get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries?limit=1&status=succeeded`, key)).json();
    expect(page.has_more).toBe(true);
    expect(page.data[0].id).toBe(deliveries.data[0].id);
  });

  test("an endpoint receives only the event types it subscribed to", async () => {
    const { key } = server.newOrgKey();
    const filtered = receiver();
    const everything = receiver();
    await createEndpoint(key, { url: filtered.url, events: ["execution.completed", "execution.failed"] });
    await createEndpoint(key, { url: everything.url });
    const ok = await runExecution(key);
    const failed = await runExecution(key, { input: { text: "x", mock_error: "GENERATION_FAILED" } });
    await everything.waitFor(4);
    const got = await filtered.waitFor(2);
    expect(got.map((h) => [h.json.type, h.json.data.id]).sort()).toEqual([["execution.completed", ok], ["execution.failed", failed]].sort());
    expect(filtered.received).toHaveLength(2);
  });

  test("a cancelled execution sends execution.cancelled to its webhook_url and to subscribed endpoints", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    const endpoint = await createEndpoint(key, { url: `${rx.url}/endpoint`, events: ["execution.cancelled"] });
    const id = await runExecution(key, { input: { text: "cancel me", mock_latency_ms: 10_000 }, webhook_url: `${rx.url}/exec` });
    expect((await server.post(`/v1/executions/${id}/cancel`, {}, key)).status).toBe(200);
    const hits = await rx.waitFor(2);
    const { secret } = await (await server.get("/v1/webhooks/signing-secret", key)).json();
    const byPath = Object.fromEntries(hits.map((h) => [h.path, h]));
    for (const [path, signer] of [["/exec", secret], ["/endpoint", endpoint.secret]] as const) {
      expect(byPath[path]!.json).toMatchObject({ type: "execution.cancelled", data: { id, status: "CANCELLED", cost: "0.000", error: { code: "CANCELLED" } } });
      expect(verify(byPath[path]!, signer)).toEqual({ seed: true, standard: true });
    }
  });

  test("balance.low reaches the endpoints subscribed to it", async () => {
    const { key } = server.newOrgKey({ creditMicros: 2_000_000 });
    const rx = receiver();
    const endpoint = await createEndpoint(key, { url: rx.url, events: ["balance.low"] });
    const res = await server.request("PATCH", "/v1/balance/settings", { key, body: { low_balance_threshold: "5.000" } });
    expect(res.status).toBe(200);
    const [hit] = await rx.waitFor(1);
    expect(hit!.json).toMatchObject({ type: "balance.low", data: { object: "balance", available: "2.000", low_balance_threshold: "5.000" } });
    expect(verify(hit!, endpoint.secret)).toEqual({ seed: true, standard: true });
  });

  test("the test endpoint sends a signed webhook.test and reports the receiver's answer", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    const endpoint = await createEndpoint(key, { url: rx.url });
    const res = await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, key);
    expect(res.status).toBe(200);
    const delivery = await res.json();
    expect(delivery).toMatchObject({ object: "webhook_delivery", event_type: "webhook.test", status: "succeeded", endpoint_id: endpoint.id });
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, error: null })]);
    expect(rx.received).toHaveLength(1);
    expect(rx.received[0]!.json).toMatchObject({ id: delivery.event_id, type: "webhook.test", data: { endpoint_id: endpoint.id } });
    expect(verify(rx.received[0]!, endpoint.secret)).toEqual({ seed: true, standard: true });

    rx.respond = () => new Response("broken", { status: 500 });
    const failed = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, key)).json();
    expect(failed).toMatchObject({ status: "failed", last_status_code: 500 });
    expect(failed.attempts[0]).toMatchObject({ status_code: 500, error: "The receiver answered 500: broken", next_retry_at: null });
  });

  test("a manual retry resends the same event id and can turn a delivery to succeeded", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    rx.respond = () => new Response(null, { status: 500 });
    const endpoint = await createEndpoint(key, { url: rx.url });
    const first = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, key)).json();
    rx.respond = () => new Response("ok");
    const res = await server.post(`/v1/webhooks/deliveries/${first.id}/retry`, undefined, key);
    expect(res.status).toBe(200);
    const retried = await res.json();
    expect(retried).toMatchObject({ id: first.id, status: "succeeded", attempt_count: 2, last_status_code: 200 });
    expect(retried.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 200]);
    expect(rx.received.map((r) => r.json.id)).toEqual([first.event_id, first.event_id]);

    await server.request("DELETE", `/v1/webhooks/endpoints/${endpoint.id}`, { key });
    const gone = await server.post(`/v1/webhooks/deliveries/${first.id}/retry`, undefined, key);
    expect(gone.status).toBe(409);
  });

  test("rotation: for a while both the new and the old secret sign", async () => {
    const { key } = server.newOrgKey();
    const rx = receiver();
    const endpoint = await createEndpoint(key, { url: rx.url });
    const rotated = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, undefined, key)).json();
    expect(rotated.secret).not.toBe(endpoint.secret);
    expect(rotated.secret).toMatch(/^whsec_/);
    const windowMs = new Date(rotated.previous_secret_expires_at).getTime() - Date.now();
    expect(windowMs).toBeGreaterThan(23.9 * 3600_000);
    await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, key);
    const [hit] = await rx.waitFor(1);
    expect(hit!.headers.get("x-signature")!.split(",")).toHaveLength(2);
    expect(hit!.headers.get("webhook-signature")!.split(" ")).toHaveLength(2);
    expect(verify(hit!, rotated.secret)).toEqual({ seed: true, standard: true });
    expect(verify(hit!, endpoint.secret)).toEqual({ seed: true, standard: true });

    // The org secret (executions' webhook_url) rotates the same way.
    const before = await (await server.get("/v1/webhooks/signing-secret", key)).json();
    const after = await (await server.post("/v1/webhooks/signing-secret/rotate", undefined, key)).json();
    expect(after.secret).not.toBe(before.secret);
    expect(after.previous_secret_expires_at).not.toBeNull();
    await runExecution(key, { webhook_url: `${rx.url}/exec` });
    const [execHit] = await rx.waitFor(1, (r) => r.path === "/exec");
    expect(verify(execHit!, after.secret)).toEqual({ seed: true, standard: true });
    expect(verify(execHit!, before.secret)).toEqual({ seed: true, standard: true });
  });

  test("organizations are isolated: another org's endpoints, deliveries and events are invisible", async () => {
    const a = server.newOrgKey();
    const b = server.newOrgKey();
    const rx = receiver();
    const endpoint = await createEndpoint(a.key, { url: rx.url, events: ["execution.completed"] });
    const test = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, a.key)).json();
    for (const [method, path] of [
      ["GET", `/v1/webhooks/endpoints/${endpoint.id}`], ["PATCH", `/v1/webhooks/endpoints/${endpoint.id}`], ["DELETE", `/v1/webhooks/endpoints/${endpoint.id}`],
      ["POST", `/v1/webhooks/endpoints/${endpoint.id}/test`], ["POST", `/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`],
      ["GET", `/v1/webhooks/endpoints/${endpoint.id}/deliveries`], ["GET", `/v1/webhooks/deliveries/${test.id}`], ["POST", `/v1/webhooks/deliveries/${test.id}/retry`],
    ] as const) {
      const res = await server.request(method, path, { key: b.key, body: method === "PATCH" ? { enabled: false } : undefined });
      expect([method, path, res.status]).toEqual([method, path, 404]);
    }
    expect((await (await server.get("/v1/webhooks/endpoints", b.key)).json()).data).toEqual([]);
    expect((await (await server.get("/v1/webhooks/deliveries", b.key)).json()).data).toEqual([]);
    expect((await (await server.get("/v1/webhooks/signing-secret", b.key)).json()).secret).not.toBe((await (await server.get("/v1/webhooks/signing-secret", a.key)).json()).secret);

    // B's execution never reaches A's endpoint; A's own does.
    const fromB = await runExecution(b.key);
    const fromA = await runExecution(a.key);
    const hits = await rx.waitFor(2);
    expect(hits.map((h) => h.json.data?.id ?? h.json.type)).toEqual(["webhook.test", fromA]);
    expect(rx.received.some((h) => h.json.data?.id === fromB)).toBe(false);
  });
});

describe("private addresses (MODELROUTE_WEBHOOK_ALLOW_PRIVATE=false, the default)", () => {
  let strict: TestServer;
  beforeAll(async () => {
    strict = await startTestServer();
  });
  afterAll(() => strict.stop());

  test("endpoints on private, loopback or link-local addresses are refused at registration, naming url", async () => {
    for (const url of ["http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]/", "http://10.0.0.8/", "http://192.168.1.20/", "http://169.254.169.254/latest/meta-data", "http://[::ffff:127.0.0.1]/", "http://[fd00::1]/"]) {
      const res = await strict.post("/v1/webhooks/endpoints", { url });
      expect([url, res.status]).toEqual([url, 400]);
      const { error } = await res.json();
      expect(error.details).toEqual([expect.objectContaining({ field: "url", code: "unsupported" })]);
    }
    const endpoint = await strict.post("/v1/webhooks/endpoints", { url: "https://8.8.8.8/hook" });
    expect(endpoint.status).toBe(201);
    const patched = await strict.request("PATCH", `/v1/webhooks/endpoints/${(await endpoint.json()).id}`, { body: { url: "http://127.0.0.1/" } });
    expect(patched.status).toBe(400);
  });

  test("an execution's webhook_url on a private address is refused at create", async () => {
    const res = await strict.post("/v1/executions", { model: "demo-model", input: { text: "hi" }, webhook_url: "http://127.0.0.1:8080/done" });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details).toEqual([expect.objectContaining({ field: "webhook_url", code: "unsupported" })]);
  });
});
