import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";
import { eventually, startReceiver, verify, type Receiver } from "../helpers/webhook-receiver";

// The published schedule (5 s … 5 h) compressed to milliseconds; attempts time out after 300 ms.
const SCHEDULE = [50, 100, 150, 200, 250];
let server: TestServer;
const receivers: Receiver[] = [];
beforeAll(async () => {
  server = await startTestServer({
    env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true", MODELROUTE_WEBHOOK_RETRY_SCHEDULE: SCHEDULE.join(","), MODELROUTE_WEBHOOK_TIMEOUT_MS: "300" },
  });
});
afterAll(async () => {
  for (const r of receivers) r.stop();
  await server.stop();
});

const receiver = (respond?: Receiver["respond"]) => {
  const r = startReceiver();
  if (respond) r.respond = respond;
  receivers.push(r);
  return r;
};

async function setup(s: TestServer, rx: Receiver, events = ["execution.completed"]) {
  const { key } = s.newOrgKey();
  const endpoint = await (await s.post("/v1/webhooks/endpoints", { url: rx.url, events }, key)).json();
  const execution = await (await s.post("/v1/executions", { model: "demo-model", input: { text: "retry me" } }, key)).json();
  return { key, endpoint, executionId: execution.id as string };
}

/** The endpoint's only delivery once it has stopped being pending, with its attempts. */
async function finished(s: TestServer, key: string, endpointId: string) {
  const list = await eventually(
    async () => (await s.get(`/v1/webhooks/endpoints/${endpointId}/deliveries`, key)).json(),
    (l) => l.data.length > 0 && l.data[0].status !== "pending",
  );
  expect(list.data).toHaveLength(1);
  return (await s.get(`/v1/webhooks/deliveries/${list.data[0].id}`, key)).json();
}

const gap = (attempt: { at: string; next_retry_at: string }) => new Date(attempt.next_retry_at).getTime() - new Date(attempt.at).getTime();

describe("retries", () => {
  test("after two 500s the third attempt succeeds, with the same event id and valid signatures each time", async () => {
    const rx = receiver((r) => (r.index < 2 ? new Response("down for maintenance", { status: 500 }) : new Response("ok")));
    const { key, endpoint } = await setup(server, rx);
    const hits = await rx.waitFor(3);
    expect(new Set(hits.map((h) => h.json.id)).size).toBe(1);
    for (const hit of hits) expect(verify(hit, endpoint.secret)).toEqual({ seed: true, standard: true });
    const delivery = await finished(server, key, endpoint.id);
    expect(delivery).toMatchObject({ status: "succeeded", attempt_count: 3, last_status_code: 200, event_id: hits[0]!.json.id });
    expect(delivery.attempts.map((a: { status_code: number; error: string | null }) => [a.status_code, a.error])).toEqual([
      [500, "The receiver answered 500: down for maintenance"],
      [500, "The receiver answered 500: down for maintenance"],
      [200, null],
    ]);
    // Each retry waits its step of the schedule, ±10 % jitter (plus the attempt's own latency).
    delivery.attempts.slice(0, 2).forEach((a: { at: string; next_retry_at: string; latency_ms: number }, i: number) => {
      expect(gap(a)).toBeGreaterThanOrEqual(SCHEDULE[i]! * 0.9);
      expect(gap(a)).toBeLessThanOrEqual(SCHEDULE[i]! * 1.1 + a.latency_ms + 2);
    });
    expect(delivery.attempts[2].next_retry_at).toBeNull();
  });

  test("a receiver slower than the timeout counts as a failed attempt and is retried", async () => {
    const rx = receiver(async (r) => {
      if (r.index === 0) await Bun.sleep(1000); // answers after the gateway gave up
      return new Response("ok");
    });
    const { key, endpoint } = await setup(server, rx);
    const delivery = await finished(server, key, endpoint.id);
    expect(delivery.status).toBe("succeeded");
    expect(delivery.attempts[0]).toMatchObject({ status_code: null, error: "Timed out after 300 ms." });
    expect(delivery.attempts[0].next_retry_at).not.toBeNull();
    expect(delivery.attempts[1]).toMatchObject({ status_code: 200 });
  });

  test("retries stop when the schedule is used up: six attempts, then failed", async () => {
    const rx = receiver(() => new Response(null, { status: 502 }));
    const { key, endpoint } = await setup(server, rx);
    const delivery = await finished(server, key, endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 6, last_status_code: 502, next_attempt_at: null });
    expect(delivery.attempts.map((a: { next_retry_at: string | null }) => a.next_retry_at === null)).toEqual([false, false, false, false, false, true]);
    expect(rx.received).toHaveLength(6);
  });

  test("redirects are not followed", async () => {
    const elsewhere = receiver();
    const rx = receiver((r) => (r.index === 0 ? new Response(null, { status: 301, headers: { location: elsewhere.url } }) : new Response("ok")));
    const { key, endpoint } = await setup(server, rx);
    const delivery = await finished(server, key, endpoint.id);
    expect(delivery.attempts[0]).toMatchObject({ status_code: 301, error: `The receiver answered 301 (redirects are not followed; Location: ${elsewhere.url}).` });
    expect(elsewhere.received).toHaveLength(0);
  });

  test("a 410 disables the endpoint: no retry, and no later event is sent to it", async () => {
    const gone = receiver(() => new Response("gone", { status: 410 }));
    const { key, endpoint } = await setup(server, gone);
    const witness = receiver();
    await server.post("/v1/webhooks/endpoints", { url: witness.url, events: ["execution.completed"] }, key);
    const delivery = await finished(server, key, endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 1, last_status_code: 410 });
    expect(await (await server.get(`/v1/webhooks/endpoints/${endpoint.id}`, key)).json()).toMatchObject({ enabled: false, disabled_reason: "The receiver answered 410 Gone." });

    const next = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "again" } }, key)).json();
    await witness.waitFor(1, (r) => r.json.data.id === next.id);
    expect(gone.received).toHaveLength(1);
    expect((await (await server.get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`, key)).json()).data).toHaveLength(1);

    const enabled = await server.request("PATCH", `/v1/webhooks/endpoints/${endpoint.id}`, { key, body: { enabled: true } });
    expect(await enabled.json()).toMatchObject({ enabled: true, disabled_reason: null });
  });

  test("a receiver that resolves to a private address at connect time is refused", async () => {
    const rx = receiver();
    const { key } = server.newOrgKey();
    const endpoint = await (await server.post("/v1/webhooks/endpoints", { url: rx.url, events: ["execution.completed"] }, key)).json();
    // As if the host name had been re-pointed inside the network after registration.
    server.running.ctx.config.webhookAllowPrivate = false;
    try {
      await server.post("/v1/executions", { model: "demo-model", input: { text: "private" } }, key);
      const list = await eventually(
        async () => (await server.get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`, key)).json(),
        (l) => l.data[0]?.attempt_count > 0,
      );
      const delivery = await (await server.get(`/v1/webhooks/deliveries/${list.data[0].id}`, key)).json();
      expect(delivery.attempts[0].status_code).toBeNull();
      expect(delivery.attempts[0].error).toStartWith("Refused: 127.0.0.1 is a private, loopback or reserved address.");
      expect(rx.received).toHaveLength(0);
    } finally {
      server.running.ctx.config.webhookAllowPrivate = true;
    }
  });
});

describe("Retry-After", () => {
  let slow: TestServer;
  beforeAll(async () => {
    // A one-minute schedule: only Retry-After can bring the second attempt within the test.
    slow = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true", MODELROUTE_WEBHOOK_RETRY_SCHEDULE: "60000,60000" } });
  });
  afterAll(() => slow.stop());

  test("the next attempt goes at the time the receiver asked for", async () => {
    const rx = receiver((r) => (r.index === 0 ? new Response("busy", { status: 503, headers: { "retry-after": "1" } }) : new Response("ok")));
    const { key, endpoint } = await setup(slow, rx);
    await rx.waitFor(2);
    const delivery = await finished(slow, key, endpoint.id);
    expect(delivery.status).toBe("succeeded");
    const first = delivery.attempts[0];
    expect(gap(first)).toBeGreaterThanOrEqual(1000);
    expect(gap(first)).toBeLessThanOrEqual(1000 + first.latency_ms + 5);
  });

  test("a pending delivery follows its endpoint: a PATCHed URL gets the retry, a disabled endpoint gets none", async () => {
    const busy = () => new Response("busy", { status: 503, headers: { "retry-after": "1" } });
    const moved = receiver(busy);
    const disabled = receiver(busy);
    const [a, b] = await Promise.all([setup(slow, moved), setup(slow, disabled)]);
    const [[first]] = await Promise.all([moved.waitFor(1), disabled.waitFor(1)]);
    const target = receiver();
    expect((await slow.request("PATCH", `/v1/webhooks/endpoints/${a.endpoint.id}`, { key: a.key, body: { url: target.url } })).status).toBe(200);
    expect((await slow.request("PATCH", `/v1/webhooks/endpoints/${b.endpoint.id}`, { key: b.key, body: { enabled: false } })).status).toBe(200);

    const [retried] = await target.waitFor(1);
    expect(retried!.json.id).toBe(first!.json.id);
    expect(verify(retried!, a.endpoint.secret)).toEqual({ seed: true, standard: true });
    expect(await finished(slow, a.key, a.endpoint.id)).toMatchObject({ status: "succeeded", attempt_count: 2 });
    expect(await finished(slow, b.key, b.endpoint.id)).toMatchObject({ status: "failed", attempt_count: 1 });
    expect([moved.received.length, disabled.received.length]).toEqual([1, 1]);
  });

  test("a Retry-After past the 24 h deadline ends the delivery", async () => {
    const rx = receiver(() => new Response(null, { status: 429, headers: { "retry-after": String(25 * 3600) } }));
    const { key, endpoint } = await setup(slow, rx);
    const delivery = await finished(slow, key, endpoint.id);
    expect(delivery).toMatchObject({ status: "failed", attempt_count: 1, last_status_code: 429 });
    expect(delivery.attempts[0].next_retry_at).toBeNull();
  });
});

describe("a slow receiver", () => {
  let busy: TestServer;
  beforeAll(async () => {
    // Four delivery workers: one receiver may hold one of them.
    busy = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true", MODELROUTE_WEBHOOK_CONCURRENCY: "4", MODELROUTE_WEBHOOK_TIMEOUT_MS: "3000" } });
  });
  afterAll(() => busy.stop());

  test("never holds up deliveries to other endpoints, nor the API", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const slowRx = receiver(async () => {
      await released;
      return new Response("finally");
    });
    const fastRx = receiver();
    const { key } = busy.newOrgKey();
    await busy.post("/v1/webhooks/endpoints", { url: slowRx.url }, key);
    await busy.post("/v1/webhooks/endpoints", { url: fastRx.url }, key);
    for (let i = 0; i < 3; i++) await busy.post("/v1/executions", { model: "demo-model", input: { text: `burst ${i}` } }, key);
    // Six events each: more than all four workers, yet the fast endpoint gets every one while the slow one holds a single request.
    await fastRx.waitFor(6);
    expect(slowRx.received).toHaveLength(1);
    expect((await busy.get("/v1/webhooks/endpoints", key)).status).toBe(200);
    release();
    await slowRx.waitFor(6);
  });

  test("deliveries waiting for a busy receiver go as soon as its slot frees, not after their deferral", async () => {
    // One slot for this receiver, each answer taking 40 ms: a waiting delivery is put back for
    // 150–450 ms (a tenth of the 3 s timeout, jittered); from the line it goes at the next free slot.
    const rx = receiver(async () => {
      await Bun.sleep(40);
      return new Response("ok");
    });
    const { key } = busy.newOrgKey();
    await busy.post("/v1/webhooks/endpoints", { url: rx.url, events: ["execution.completed"] }, key);
    for (let i = 0; i < 8; i++) await busy.post("/v1/executions", { model: "demo-model", input: { text: `line ${i}` } }, key);
    await rx.waitFor(8);
    const arrivals = rx.received.map((r) => r.receivedAt);
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!);
    // One after another, each right behind the one before (a deferral would leave a gap of 150 ms or more).
    expect(Math.max(...gaps)).toBeLessThan(140);
    expect(new Set(rx.received.map((r) => r.headers.get("webhook-id"))).size).toBe(8);
  });
});
