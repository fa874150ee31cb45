/**
 * The published retry schedule and the 24 h deadline in scaled time: the server runs on a
 * clock the test moves forward, so hours pass in milliseconds.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";
import { eventually, startReceiver, verify, type Receiver } from "../helpers/webhook-receiver";

const HOUR = 3_600_000;
const SCHEDULE = [5_000, 5 * 60_000, 30 * 60_000, 2 * HOUR, 5 * HOUR]; // docs/webhooks.md
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };
let server: TestServer;
const receivers: Receiver[] = [];
beforeAll(async () => {
  server = await startTestServer({ clock, env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
});
afterAll(async () => {
  for (const r of receivers) r.stop();
  await server.stop();
});

function advance(ms: number) {
  offsetMs += ms;
  server.running.ctx.scheduler.wake("webhook.deliver");
}

async function failingEndpoint() {
  const rx = startReceiver();
  rx.respond = () => new Response("still down", { status: 500 });
  receivers.push(rx);
  const { key } = server.newOrgKey();
  const endpoint = await (await server.post("/v1/webhooks/endpoints", { url: rx.url, events: ["execution.completed"] }, key)).json();
  await server.post("/v1/executions", { model: "demo-model", input: { text: "scaled time" } }, key);
  await rx.waitFor(1);
  const list = await eventually(async () => (await server.get(`/v1/webhooks/endpoints/${endpoint.id}/deliveries`, key)).json(), (l) => l.data[0]?.attempt_count === 1);
  return { rx, key, endpoint, deliveryId: list.data[0].id as string };
}

const detail = async (key: string, id: string, attempts: number) =>
  eventually(async () => (await server.get(`/v1/webhooks/deliveries/${id}`, key)).json(), (d) => d.attempts.length === attempts && (d.status !== "pending" || d.next_attempt_at !== null));

test("failed deliveries are retried after 5 s, 5 min, 30 min, 2 h and 5 h (±10 %), then no more", async () => {
  const { rx, key, deliveryId } = await failingEndpoint();
  for (let i = 0; i < SCHEDULE.length; i++) {
    const delivery = await detail(key, deliveryId, i + 1);
    const attempt = delivery.attempts[i];
    const wait = new Date(attempt.next_retry_at).getTime() - new Date(attempt.at).getTime();
    expect(wait).toBeGreaterThanOrEqual(SCHEDULE[i]! * 0.9);
    expect(wait).toBeLessThanOrEqual(SCHEDULE[i]! * 1.1 + attempt.latency_ms + 2);
    expect(rx.received).toHaveLength(i + 1); // nothing goes early
    advance(new Date(attempt.next_retry_at).getTime() - clock.now() + 1);
    await rx.waitFor(i + 2);
  }
  const delivery = await detail(key, deliveryId, 6);
  expect(delivery).toMatchObject({ status: "failed", attempt_count: 6, next_attempt_at: null });
  expect(delivery.attempts[5].next_retry_at).toBeNull();
  expect(new Set(rx.received.map((r) => r.json.id)).size).toBe(1);
});

test("no attempt is made more than 24 h after the event", async () => {
  const { rx, key, deliveryId } = await failingEndpoint();
  advance(25 * HOUR); // the gateway was down, say, for a day
  const delivery = await eventually(async () => (await server.get(`/v1/webhooks/deliveries/${deliveryId}`, key)).json(), (d) => d.status !== "pending");
  expect(delivery).toMatchObject({ status: "failed", attempt_count: 1 });
  expect(rx.received).toHaveLength(1);
});

test("after the 24 h rotation window only the new secret signs", async () => {
  const rx = startReceiver();
  receivers.push(rx);
  const { key } = server.newOrgKey();
  const endpoint = await (await server.post("/v1/webhooks/endpoints", { url: rx.url }, key)).json();
  const rotated = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, undefined, key)).json();
  advance(24 * HOUR + 60_000);
  expect((await (await server.get(`/v1/webhooks/endpoints/${endpoint.id}`, key)).json()).previous_secret_expires_at).toBeNull();
  await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`, undefined, key);
  const [hit] = await rx.waitFor(1);
  expect(hit!.headers.get("x-signature")).not.toContain(",");
  expect(hit!.headers.get("webhook-signature")).not.toContain(" ");
  expect(verify(hit!, rotated.secret)).toEqual({ seed: true, standard: true });
  expect(verify(hit!, endpoint.secret)).toEqual({ seed: false, standard: false });
  // The signed timestamp follows the server's clock (a day ahead here): receivers compare it with theirs.
  expect(Number(hit!.headers.get("webhook-timestamp"))).toBeGreaterThan(Date.now() / 1000 + 23 * 3600);
});
