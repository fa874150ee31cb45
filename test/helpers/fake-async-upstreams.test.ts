/**
 * The fake asynchronous upstreams (Cog, Replicate) behave on the wire as their public HTTP APIs
 * describe, and each injectable fault shows the way the helpers document. Raw fetch and a real
 * webhook receiver; signatures are checked here with node:crypto, independently of the fake.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { COG_PNG_DATA_URI, startFakeCog, TINY_PNG, type FakeCog, type FakeCogOptions } from "./fake-cog.ts";
import { FAKE_REPLICATE_WEBHOOK_SECRET, startFakeReplicate, type FakeReplicate, type FakeReplicateOptions } from "./fake-replicate.ts";
import { startReceiver, type Received, type Receiver } from "./webhook-receiver.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function cog(opts?: FakeCogOptions): Promise<FakeCog> {
  const fake = await startFakeCog(opts);
  cleanup.push(() => fake.stop());
  return fake;
}
async function replicate(opts?: FakeReplicateOptions): Promise<FakeReplicate> {
  const fake = await startFakeReplicate(opts);
  cleanup.push(() => fake.stop());
  return fake;
}
function receiver(): Receiver {
  const r = startReceiver();
  cleanup.push(() => r.stop());
  return r;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, timeoutMs = 2000) {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await sleep(5);
  }
}

const json = (body: unknown) => JSON.stringify(body);
const read = (response: Response): Promise<any> => response.json();
const putPrediction = (fake: FakeCog, id: string, body: Record<string, unknown>, async = true, init: RequestInit = {}) =>
  fetch(`${fake.url}/predictions/${id}`, {
    method: "PUT",
    headers: { "content-type": "application/json", ...(async ? { prefer: "respond-async" } : {}) },
    body: json(body),
    ...init,
  });
// Bun's fetch silently retries an idempotent request (PUT) once when a reused keep-alive connection
// dies before answering; a fresh connection shows the fault as it is.
const fresh: RequestInit = { keepalive: false };
const completedOf = (r: Receiver) => r.received.filter((x) => x.json.status !== "starting" && x.json.status !== "processing");

describe("fake Cog", () => {
  test("async create: 202 starting at once, then start and completed webhooks with a data: URI output", async () => {
    const fake = await cog();
    const hooks = receiver();
    const response = await putPrediction(fake, "p1", { id: "p1", input: { prompt: "a cat" }, webhook: `${hooks.url}/cb`, webhook_events_filter: ["start", "completed"] });
    expect(response.status).toBe(202);
    const accepted = await read(response);
    expect(accepted).toMatchObject({ id: "p1", status: "starting", input: { prompt: "a cat" }, output: null });
    expect(typeof accepted.created_at).toBe("string");

    const [start, completed] = await hooks.waitFor(2, undefined, 2000);
    expect(start!.json).toMatchObject({ id: "p1", status: "processing" });
    expect(completed!.json).toMatchObject({ id: "p1", status: "succeeded", output: [COG_PNG_DATA_URI] });
    expect(completed!.json.metrics.predict_time).toBeGreaterThan(0);
    const uri: string = completed!.json.output[0];
    expect(uri.startsWith("data:image/png;base64,")).toBe(true);
    const bytes = Buffer.from(uri.slice(uri.indexOf(",") + 1), "base64");
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes).toEqual(TINY_PNG);
    expect(fake.started).toBe(1);
    expect(fake.predictions.get("p1")!.status).toBe("succeeded");
    expect(fake.requests[0]).toMatchObject({ method: "PUT", path: "/predictions/p1" });
    expect(fake.requests[0]!.headers.prefer).toBe("respond-async");
  });

  test("a create without Prefer: respond-async runs to the end and answers 200; POST /predictions assigns an id", async () => {
    const fake = await cog({ run: (input) => ({ output: `echo ${input.text}`, ms: 10 }) });
    const sync = await putPrediction(fake, "s1", { input: { text: "hi" } }, false);
    expect(sync.status).toBe(200);
    expect(await sync.json()).toMatchObject({ id: "s1", status: "succeeded", output: "echo hi" });

    const posted = await fetch(`${fake.url}/predictions`, { method: "POST", headers: { prefer: "respond-async", "content-type": "application/json" }, body: json({ input: { text: "x" } }) });
    expect(posted.status).toBe(202);
    const p = await read(posted);
    expect(typeof p.id).toBe("string");
    expect(p.id.length).toBeGreaterThan(0);
    await until(() => fake.predictions.get(p.id)?.status === "succeeded");
    expect(fake.started).toBe(2);
  });

  test("idempotent PUT: the same id twice starts one prediction; a body id that differs is 422", async () => {
    const fake = await cog({ run: () => ({ output: 1, ms: 100 }) });
    expect((await putPrediction(fake, "same", { input: {} })).status).toBe(202);
    const again = await putPrediction(fake, "same", { input: {} });
    expect(again.status).toBe(202);
    expect((await read(again)).id).toBe("same");
    expect(fake.started).toBe(1);
    // after it has finished, a repeat still finds it (200 when not async)
    await until(() => fake.predictions.get("same")!.status === "succeeded");
    const after = await putPrediction(fake, "same", { input: {} }, false);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ id: "same", status: "succeeded", output: 1 });
    expect(fake.started).toBe(1);

    const mismatch = await putPrediction(fake, "a", { id: "b", input: {} });
    expect(mismatch.status).toBe(422);
    expect((await read(mismatch)).detail[0].loc).toEqual(["body", "id"]);
    expect(fake.started).toBe(1);
  });

  test("dropAfterAccept: the connection dies but the prediction started; the retried PUT finds it and it completes", async () => {
    const fake = await cog({ run: () => ({ output: "done", ms: 60 }) });
    const hooks = receiver();
    fake.next({ dropAfterAccept: true });
    const body = { id: "drop1", input: {}, webhook: hooks.url, webhook_events_filter: ["completed"] };
    await expect(putPrediction(fake, "drop1", body, true, fresh)).rejects.toThrow();
    expect(fake.started).toBe(1);
    const retried = await putPrediction(fake, "drop1", body);
    expect(retried.status).toBe(202);
    expect(["starting", "processing"]).toContain((await read(retried)).status);
    const [completed] = await hooks.waitFor(1, undefined, 2000);
    expect(completed!.json).toMatchObject({ id: "drop1", status: "succeeded", output: "done" });
    expect(fake.started).toBe(1);
    await sleep(30);
    expect(hooks.received).toHaveLength(1);
  });

  test("at capacity a new create is 409 and health-check says BUSY; READY again once it ends", async () => {
    const fake = await cog({ run: () => ({ ms: 150 }) });
    expect(await (await fetch(`${fake.url}/health-check`)).json()).toMatchObject({ status: "READY" });
    expect((await putPrediction(fake, "one", { input: {} })).status).toBe(202);
    const busy = await putPrediction(fake, "two", { input: {} });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({ detail: "Already running a prediction" });
    expect(await (await fetch(`${fake.url}/health-check`)).json()).toMatchObject({ status: "BUSY" });
    expect(fake.started).toBe(1);
    await until(() => fake.predictions.get("one")!.status === "succeeded");
    expect(await (await fetch(`${fake.url}/health-check`)).json()).toMatchObject({ status: "READY" });
    expect((await putPrediction(fake, "two", { input: {} })).status).toBe(202);

    const wide = await cog({ concurrency: 2, run: () => ({ ms: 100 }) });
    expect((await putPrediction(wide, "a", { input: {} })).status).toBe(202);
    expect((await putPrediction(wide, "b", { input: {} })).status).toBe(202);
    expect((await putPrediction(wide, "c", { input: {} })).status).toBe(409);
  });

  test("a synchronous prediction that fails answers 200 with status failed and the error; default model needs a prompt", async () => {
    const fake = await cog({ run: () => ({ error: "CUDA out of memory", ms: 5 }) });
    const response = await putPrediction(fake, "f1", { input: {} }, false);
    expect(response.status).toBe(200);
    expect(await read(response)).toMatchObject({ id: "f1", status: "failed", error: "CUDA out of memory" });

    const plain = await cog();
    const missing = await putPrediction(plain, "np", { input: {} });
    expect(missing.status).toBe(422);
    expect((await read(missing)).detail[0]).toMatchObject({ loc: ["body", "input", "prompt"], msg: "field required" });
  });

  test("cancel: 200 while running (ends canceled, with a completed webhook), then 404; unknown id 404", async () => {
    const fake = await cog({ run: () => ({ ms: 2000 }) });
    const hooks = receiver();
    await putPrediction(fake, "c1", { input: {}, webhook: hooks.url, webhook_events_filter: ["completed"] });
    await sleep(10);
    const cancel = await fetch(`${fake.url}/predictions/c1/cancel`, { method: "POST" });
    expect(cancel.status).toBe(200);
    expect(fake.predictions.get("c1")!.status).toBe("canceled");
    const [completed] = await hooks.waitFor(1, undefined, 2000);
    expect(completed!.json).toMatchObject({ id: "c1", status: "canceled" });
    expect((await fetch(`${fake.url}/predictions/c1/cancel`, { method: "POST" })).status).toBe(404);
    const unknown = await fetch(`${fake.url}/predictions/nope/cancel`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ detail: "Not Found" });
  });

  test("webhookDuplicates and lateWebhook: the terminal webhook repeats, then a processing one arrives late", async () => {
    const fake = await cog({ run: () => ({ output: "x", ms: 10 }) });
    const hooks = receiver();
    fake.next({ webhookDuplicates: 2, lateWebhook: true });
    await putPrediction(fake, "d1", { input: {}, webhook: hooks.url, webhook_events_filter: ["completed"] });
    const all = await hooks.waitFor(4, undefined, 2000);
    await until(() => fake.webhooks.length === 4); // the fake records a delivery once it has been answered
    expect(all.map((r) => r.json.status)).toEqual(["succeeded", "succeeded", "succeeded", "processing"]);
    expect(all[3]!.json.completed_at).toBeNull();
    expect(fake.webhooks.filter((w) => w.duplicate)).toHaveLength(2);
    expect(fake.webhooks.at(-1)).toMatchObject({ late: true, event: "start" });
  });

  test("the terminal webhook is retried on failure; non-terminal ones are not; loseWebhooks sends none", async () => {
    const fake = await cog({ run: () => ({ output: "y", ms: 10, steps: ["partial"] }), webhookRetryDelayMs: 10 });
    const hooks = receiver();
    let completedTries = 0;
    hooks.respond = (r: Received) => {
      if (r.json.status === "succeeded" && ++completedTries < 3) return new Response("nope", { status: 503 });
      if (r.json.status === "processing") return new Response("nope", { status: 500 });
      return new Response("ok");
    };
    await putPrediction(fake, "r1", { input: {}, webhook: hooks.url });
    await hooks.waitFor(3, (r) => r.json.status === "succeeded", 2000);
    await until(() => fake.webhooks.length === 5);
    const events = fake.webhooks.map((w) => `${w.event}:${w.status}`);
    expect(events).toEqual(["start:500", "output:500", "completed:503", "completed:503", "completed:200"]);
    expect(fake.webhooks.find((w) => w.event === "output")!.body.output).toBe("partial");

    fake.next({ loseWebhooks: true });
    await putPrediction(fake, "r2", { input: {}, webhook: hooks.url });
    await until(() => fake.predictions.get("r2")?.status === "succeeded");
    await sleep(30);
    expect(hooks.received.filter((r) => r.json.id === "r2")).toHaveLength(0);
  });

  test("faults: status, reset, delay", async () => {
    const fake = await cog({ run: () => ({ ms: 5 }) });
    fake.next({ status: 503, body: { detail: "warming up" } }, { reset: true });
    const failed = await putPrediction(fake, "e1", { input: {} });
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ detail: "warming up" });
    await expect(putPrediction(fake, "e1", { input: {} }, true, fresh)).rejects.toThrow();
    expect(fake.started).toBe(0);
    fake.next({ delayMs: 50 });
    const t0 = Date.now();
    expect((await putPrediction(fake, "e1", { input: {} })).status).toBe(202);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(fake.started).toBe(1);
  });
});

/** Standard Webhooks verification, written here from the spec (not the fake's code). */
function verifies(secret: string, r: Received): boolean {
  const id = r.headers.get("webhook-id")!;
  const timestamp = r.headers.get("webhook-timestamp")!;
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${r.body}`).digest();
  return (r.headers.get("webhook-signature") ?? "").split(" ").some((part) => {
    const [version, sig] = part.split(",");
    const given = Buffer.from(sig ?? "", "base64");
    return version === "v1" && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe("fake Replicate", () => {
  const auth = { authorization: "Bearer r8_good", "content-type": "application/json" };

  test("create -> poll until succeeded -> download the file -> after the TTL the file is 404", async () => {
    const fake = await replicate({ tokens: ["r8_good"], fileTtlMs: 250 });
    const created = await fetch(`${fake.apiUrl}/models/black-forest-labs/flux-schnell/predictions`, { method: "POST", headers: auth, body: json({ input: { prompt: "a cat" } }) });
    expect(created.status).toBe(201);
    const p = await read(created);
    expect(p).toMatchObject({ model: "black-forest-labs/flux-schnell", status: "starting", output: null, error: null, logs: "", metrics: {}, input: { prompt: "a cat" } });
    expect(p.urls.get).toBe(`${fake.url}/v1/predictions/${p.id}`);
    expect(p.urls.cancel).toBe(`${fake.url}/v1/predictions/${p.id}/cancel`);

    let state: any;
    for (let i = 0; i < 100; i++) {
      state = await (await fetch(p.urls.get, { headers: auth })).json();
      if (state.status === "succeeded") break;
      await sleep(10);
    }
    expect(state.status).toBe("succeeded");
    expect(typeof state.completed_at).toBe("string");
    expect(state.metrics.predict_time).toBeGreaterThanOrEqual(0);
    expect(state.output).toHaveLength(1);
    const file = await fetch(state.output[0]);
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await file.arrayBuffer())).toEqual(TINY_PNG);
    await sleep(300);
    expect((await fetch(state.output[0])).status).toBe(404);

    const versioned = await fetch(`${fake.apiUrl}/predictions`, { method: "POST", headers: auth, body: json({ version: "acme/model:abc123", input: { prompt: "x" } }) });
    expect(await versioned.json()).toMatchObject({ model: "acme/model", version: "abc123" });
    expect((await fetch(`${fake.apiUrl}/predictions/nope`, { headers: auth })).status).toBe(404);
  });

  test("webhooks are signed with Standard Webhooks; the webhook-id is stable across retries", async () => {
    const fake = await replicate({ webhookRetryDelayMs: 10 });
    const hooks = receiver();
    let tries = 0;
    hooks.respond = (r) => (r.json.status === "succeeded" && ++tries === 1 ? new Response("no", { status: 500 }) : new Response("ok"));
    await fetch(`${fake.apiUrl}/models/o/m/predictions`, { method: "POST", headers: auth, body: json({ input: { prompt: "p" }, webhook: hooks.url, webhook_events_filter: ["start", "completed"] }) });
    const all = await hooks.waitFor(3, undefined, 2000);
    expect(all.map((r) => r.json.status)).toEqual(["processing", "succeeded", "succeeded"]);
    for (const r of all) {
      expect(verifies(FAKE_REPLICATE_WEBHOOK_SECRET, r)).toBe(true);
      expect(Math.abs(Number(r.headers.get("webhook-timestamp")) - Date.now() / 1000)).toBeLessThan(5);
    }
    expect(all[1]!.headers.get("webhook-id")).toBe(all[2]!.headers.get("webhook-id"));
    expect(all[0]!.headers.get("webhook-id")).not.toBe(all[1]!.headers.get("webhook-id"));
    expect(verifies("whsec_" + Buffer.from("some other key").toString("base64"), all[1]!)).toBe(false);
  });

  test("badSignature: the webhook does not verify; duplicates and late ones arrive", async () => {
    const fake = await replicate();
    const hooks = receiver();
    fake.next({ badSignature: true, webhookDuplicates: 1, lateWebhook: true });
    await fetch(`${fake.apiUrl}/models/o/m/predictions`, { method: "POST", headers: auth, body: json({ input: { prompt: "p" }, webhook: hooks.url, webhook_events_filter: ["completed"] }) });
    const all = await hooks.waitFor(3, undefined, 2000);
    expect(all.map((r) => r.json.status)).toEqual(["succeeded", "succeeded", "processing"]);
    for (const r of all) expect(verifies(FAKE_REPLICATE_WEBHOOK_SECRET, r)).toBe(false);
    expect(all[0]!.headers.get("webhook-id")).toBe(all[1]!.headers.get("webhook-id"));
  });

  test("Prefer: wait returns the finished prediction; a failure and a cancel", async () => {
    const fake = await replicate({ run: (input) => (input.fail ? { error: "NSFW content detected", ms: 10 } : input.slow ? { ms: 3000 } : { output: "hello", ms: 40 }) });
    const waited = await fetch(`${fake.apiUrl}/predictions`, { method: "POST", headers: { ...auth, prefer: "wait=5" }, body: json({ version: "v1hash", input: {} }) });
    expect(waited.status).toBe(201);
    expect(await waited.json()).toMatchObject({ status: "succeeded", output: "hello" });

    const failed = await fetch(`${fake.apiUrl}/predictions`, { method: "POST", headers: { ...auth, prefer: "wait" }, body: json({ version: "v1hash", input: { fail: true } }) });
    expect(await failed.json()).toMatchObject({ status: "failed", error: "NSFW content detected" });

    const slow = await read(await fetch(`${fake.apiUrl}/predictions`, { method: "POST", headers: auth, body: json({ version: "v1hash", input: { slow: true } }) }));
    expect(slow.status).toBe("starting");
    const canceled = await fetch(slow.urls.cancel, { method: "POST", headers: auth });
    expect(canceled.status).toBe(200);
    expect(await canceled.json()).toMatchObject({ id: slow.id, status: "canceled" });
    expect(fake.predictions.get(slow.id)!.status).toBe("canceled");
  });

  test("401 with a wrong or missing token; 422 without input or version", async () => {
    const fake = await replicate({ tokens: ["r8_good"] });
    const wrong = await fetch(`${fake.apiUrl}/models/o/m/predictions`, { method: "POST", headers: { ...auth, authorization: "Bearer r8_bad" }, body: json({ input: { prompt: "p" } }) });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ title: "Unauthenticated", status: 401 });
    expect((await fetch(`${fake.apiUrl}/predictions/x`)).status).toBe(401);
    expect(fake.predictions.size).toBe(0);
    expect((await fetch(`${fake.apiUrl}/models/o/m/predictions`, { method: "POST", headers: auth, body: json({}) })).status).toBe(422);
    expect((await fetch(`${fake.apiUrl}/predictions`, { method: "POST", headers: auth, body: json({ input: { prompt: "p" } }) })).status).toBe(422);
  });
});
