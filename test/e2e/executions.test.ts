import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const TERMINAL = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];

async function pollUntilTerminal(id: string, key?: string) {
  for (let i = 0; i < 400; i++) {
    const res = await server.get(`/v1/executions/${id}`, key);
    expect(res.status).toBe(200);
    const execution = await res.json();
    if (TERMINAL.includes(execution.status)) return execution;
    await Bun.sleep(25);
  }
  throw new Error(`execution ${id} never finished`);
}

async function readSse(res: Response) {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]));
      return { id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? "null") };
    });
}

describe("the polling guide's loop", () => {
  test("ASYNC: 202 with Location, poll to COMPLETED, then /result has the guide's body", async () => {
    const res = await server.post("/v1/executions", { model: "demo-model", input: { text: "Hello there" } });
    expect(res.status).toBe(202);
    const created = await res.json();
    expect(created.id).toMatch(/^exec_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(res.headers.get("location")).toBe(`${server.url}/v1/executions/${created.id}`);
    expect(created).toMatchObject({ object: "execution", model: "demo-model", mode: "ASYNC", input: { text: "Hello there" }, cost: null, usage: null });
    const done = await pollUntilTerminal(created.id);
    expect(done.status).toBe("COMPLETED");
    expect(done.output.text.length).toBeGreaterThan(0);
    expect(done.started_at).not.toBeNull();
    const result = await (await server.get(`/v1/executions/${created.id}/result`)).json();
    expect(Object.keys(result).sort()).toEqual(["cost", "execution_id", "latency_ms", "output", "status", "usage"]);
    expect(result).toMatchObject({ execution_id: created.id, status: "COMPLETED", usage: { input_tokens: 2 } });
    expect(result.usage.output_tokens).toBe(done.output.text.split(" ").length);
    expect(result.cost).toMatch(/^\d+\.\d{3,6}$/);
    expect(result.latency_ms).toBe(new Date(done.completed_at).getTime() - new Date(done.created_at).getTime());
  });

  test("SYNC: 200 with the finished execution; a slow model answers 202 as it stands when the wait ends", async () => {
    const fast = await server.post("/v1/executions", { model: "mock-chat", mode: "SYNC", input: { messages: [{ role: "user", content: "hi" }] } });
    expect(fast.status).toBe(200);
    const body = await fast.json();
    expect(body.status).toBe("COMPLETED");
    expect(body.output.message.role).toBe("assistant");
    const slow = await server.post(
      "/v1/executions",
      { model: "mock-chat", input: { messages: [{ role: "user", content: "hi" }], mock_latency_ms: 3000 } },
      undefined,
      { prefer: "wait=1" },
    );
    expect(slow.status).toBe(202);
    expect(slow.headers.get("preference-applied")).toBe("wait=1");
    expect((await slow.json()).status).toBe("PROCESSING");
  });

  test("Prefer: wait=N finishing in time answers 200", async () => {
    const res = await server.post("/v1/executions", { model: "demo-model", input: { text: "a b c", mock_latency_ms: 300 } }, undefined, { prefer: "wait=5" });
    expect(res.status).toBe(200);
    expect((await res.json()).status).toBe("COMPLETED");
  });

  test("STREAMING: status events, output deltas that add up to the text, a final execution event", async () => {
    const res = await server.post("/v1/executions", { model: "mock-chat", mode: "STREAMING", input: { messages: [{ role: "user", content: "stream please" }] } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const events = await readSse(res);
    const statuses = events.filter((e) => e.event === "status").map((e) => e.data.status);
    expect(statuses).toEqual(["PENDING", "PROCESSING", "COMPLETED"]);
    const deltas = events.filter((e) => e.event === "output.delta").map((e) => e.data.text).join("");
    const final = events.at(-1)!;
    expect(final.event).toBe("execution");
    expect(final.data.status).toBe("COMPLETED");
    expect(deltas).toBe(final.data.output.text);
    expect(Number(events[0]!.id)).toBeLessThan(Number(events.find((e) => e.data.status === "COMPLETED")!.id));
  });

  test("GET /events replays history after Last-Event-ID and ends with the execution", async () => {
    const created = await (await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "x" } })).json();
    const all = await readSse(await server.get(`/v1/executions/${created.id}/events`));
    expect(all.map((e) => e.event)).toEqual(["status", "status", "status", "execution"]);
    const firstId = all[0]!.id;
    const resumed = await readSse(await server.request("GET", `/v1/executions/${created.id}/events`, { headers: { "last-event-id": firstId } }));
    expect(resumed.filter((e) => e.event === "status").map((e) => e.data.status)).toEqual(["PROCESSING", "COMPLETED"]);
  });
});

describe("images", () => {
  test("mock-image returns real PNG files of the requested size, priced $0.040 each", async () => {
    const res = await server.post("/v1/executions", { model: "mock-image", mode: "SYNC", input: { prompt: "a red fox", width: 320, height: 200, num_images: 2 } });
    expect(res.status).toBe(200);
    const execution = await res.json();
    expect(execution.status).toBe("COMPLETED");
    expect(execution.cost).toBe("0.080");
    const result = await (await server.get(`/v1/executions/${execution.id}/result`)).json();
    expect(result.output.images).toHaveLength(2);
    expect(result.output.images[0]).toMatchObject({ format: "png", width: 320, height: 200 });
    expect(result.usage).toEqual({ input_tokens: 3, output_tokens: 0, images: 2 });
    const download = await server.get(`/v1/files/${result.output.images[0].file_id}/download`);
    expect(download.status).toBe(200);
    const png = new Uint8Array(await download.arrayBuffer());
    expect([...png.slice(1, 4)].map((c) => String.fromCharCode(c)).join("")).toBe("PNG");
    const view = new DataView(png.buffer);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([320, 200]);
  });
});

describe("errors", () => {
  test("an unknown model is a 400 with details[].field = model", async () => {
    const res = await server.post("/v1/executions", { model: "nope", input: {} });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    expect(error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(error.details).toEqual([expect.objectContaining({ field: "model", code: "not_found" })]);
  });

  test("input is validated against the model's schema with one detail per problem", async () => {
    const res = await server.post("/v1/executions", {
      model: "mock-chat",
      input: { messages: [{ role: "robot", content: 5 }], max_tokens: 0, extra: true },
    });
    expect(res.status).toBe(400);
    const { error } = await res.json();
    const byField = Object.fromEntries(error.details.map((d: { field: string; code: string }) => [d.field, d.code]));
    expect(byField).toEqual({
      "input.extra": "unknown_field",
      "input.messages[0].role": "invalid_format",
      "input.messages[0].content": "invalid_type",
      "input.max_tokens": "out_of_range",
    });
  });

  test("unknown top-level fields and metadata over the bounds are rejected", async () => {
    const unknown = await server.post("/v1/executions", { model: "demo-model", input: { text: "x" }, colour: "red" });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.details[0]).toMatchObject({ field: "colour", code: "unknown_field" });
    const metadata = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
    metadata.k0 = "x".repeat(513);
    const bounded = await server.post("/v1/executions", { model: "demo-model", input: { text: "x" }, metadata });
    expect(bounded.status).toBe(400);
    const fields = (await bounded.json()).error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(["metadata", "metadata.k0"]));
  });

  test("a mock_error ends FAILED with that code; /result carries the error and null output", async () => {
    const res = await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "x", mock_error: "MODEL_OVERLOADED" } });
    const execution = await res.json();
    expect(execution.status).toBe("FAILED");
    expect(execution.error.code).toBe("MODEL_OVERLOADED");
    const result = await (await server.get(`/v1/executions/${execution.id}/result`)).json();
    expect(result).toMatchObject({ status: "FAILED", output: null, cost: "0.000", error: { code: "MODEL_OVERLOADED" } });
  });

  test("/result before the end is 409 EXECUTION_NOT_FINISHED, retryable, with the status", async () => {
    const created = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "x", mock_latency_ms: 2000 } })).json();
    const res = await server.get(`/v1/executions/${created.id}/result`);
    expect(res.status).toBe(409);
    expect(res.headers.get("retry-after")).toBe("2");
    const { error } = await res.json();
    expect(error).toMatchObject({ code: "EXECUTION_NOT_FINISHED", retryable: true });
    expect(["PENDING", "PROCESSING"]).toContain(error.details[0].code);
    await server.post(`/v1/executions/${created.id}/cancel`, {});
  });
});

describe("cancel", () => {
  test("a PROCESSING execution is cancelled, its hold released; cancelling again is 409 CONFLICT", async () => {
    const before = await (await server.get("/v1/balance")).json().catch(() => null);
    const created = await (await server.post("/v1/executions", { model: "mock-image", input: { prompt: "slow", mock_latency_ms: 5000 } })).json();
    const cancelled = await server.post(`/v1/executions/${created.id}/cancel`, {});
    expect(cancelled.status).toBe(200);
    const body = await cancelled.json();
    expect(body).toMatchObject({ status: "CANCELLED", cost: "0.000", error: { code: "CANCELLED" } });
    const again = await server.post(`/v1/executions/${created.id}/cancel`, {});
    expect(again.status).toBe(409);
    const { error } = await again.json();
    expect(error).toMatchObject({ code: "CONFLICT", retryable: false, details: [{ field: "status", code: "CANCELLED" }] });
    if (before) expect((await (await server.get("/v1/balance")).json()).available).toBe(before.available);
  });

  test("a COMPLETED execution cannot be cancelled", async () => {
    const done = await (await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "x" } })).json();
    const res = await server.post(`/v1/executions/${done.id}/cancel`, {});
    expect(res.status).toBe(409);
    expect((await res.json()).error.details[0].code).toBe("COMPLETED");
  });
});

describe("idempotency", () => {
  test("same key and body replays the first answer; a different body is 422", async () => {
    const headers = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const body = { model: "demo-model", input: { text: "once" } };
    const first = await server.post("/v1/executions", body, undefined, headers);
    const created = await first.json();
    await pollUntilTerminal(created.id);
    const replay = await server.post("/v1/executions", body, undefined, headers);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.status).toBe(202); // an ASYNC create replays its first answer
    const replayed = await replay.json();
    expect(replayed).toEqual(created);
    const sync = { model: "demo-model", mode: "SYNC", input: { text: "once, synchronously" } };
    const syncHeaders = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const firstSync = await (await server.post("/v1/executions", sync, undefined, syncHeaders)).json();
    const syncReplay = await server.post("/v1/executions", sync, undefined, syncHeaders);
    expect(syncReplay.status).toBe(200); // SYNC: the execution as it is now
    expect(await syncReplay.json()).toMatchObject({ id: firstSync.id, status: "COMPLETED" });
    const list = await (await server.get("/v1/executions?limit=100")).json();
    expect(list.data.filter((e: { input: { text?: string } }) => e.input?.text === "once")).toHaveLength(1);
    const mismatch = await server.post("/v1/executions", { ...body, input: { text: "twice" } }, undefined, headers);
    expect(mismatch.status).toBe(422);
    expect((await mismatch.json()).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  test("a key still in use by a SYNC create is not a second execution", async () => {
    const headers = { "idempotency-key": `k-${crypto.randomUUID()}` };
    const body = { model: "demo-model", mode: "SYNC", input: { text: "wait", mock_latency_ms: 800 } };
    const first = server.post("/v1/executions", body, undefined, headers);
    await Bun.sleep(100);
    const second = await server.post("/v1/executions", body, undefined, headers);
    expect([200, 202]).toContain(second.status);
    const [a, b] = [await (await first).json(), await second.json()];
    expect(b.id).toBe(a.id);
  });

  test("a malformed Idempotency-Key is a 400 naming the header", async () => {
    const res = await server.post("/v1/executions", { model: "demo-model", input: { text: "x" } }, undefined, { "idempotency-key": "x".repeat(256) });
    expect(res.status).toBe(400);
    expect((await res.json()).error.details[0].field).toBe("Idempotency-Key");
  });
});

describe("lists and isolation", () => {
  test("newest first with cursor pagination and filters", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await (await server.post("/v1/executions", { model: "mock-embed", mode: "SYNC", input: { input: `t${i}` } })).json()).id);
    const page1 = await (await server.get("/v1/executions?model=mock-embed&limit=2")).json();
    expect(page1.data.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
    expect(page1.has_more).toBe(true);
    const page2 = await (await server.get(`/v1/executions?model=mock-embed&limit=2&starting_after=${ids[1]}`)).json();
    expect(page2.data[0].id).toBe(ids[0]);
    const completed = await (await server.get("/v1/executions?status=COMPLETED&limit=100")).json();
    expect(completed.data.every((e: { status: string }) => e.status === "COMPLETED")).toBe(true);
  });

  test("another organization's execution is a 404", async () => {
    const other = server.newOrgKey();
    const mine = await (await server.post("/v1/executions", { model: "demo-model", input: { text: "mine" } })).json();
    for (const path of [`/v1/executions/${mine.id}`, `/v1/executions/${mine.id}/result`]) {
      const res = await server.get(path, other.key);
      expect(res.status).toBe(404);
    }
    expect((await server.post(`/v1/executions/${mine.id}/cancel`, {}, other.key)).status).toBe(404);
    expect((await server.get(`/v1/executions/exec_garbage`)).status).toBe(404);
  });
});

test("a cursor that is not an id is a 400 naming the parameter", async () => {
  const res = await server.get("/v1/executions?starting_after=nope");
  expect(res.status).toBe(400);
  expect((await res.json()).error.details[0]).toMatchObject({ field: "starting_after", code: "invalid_format" });
});
