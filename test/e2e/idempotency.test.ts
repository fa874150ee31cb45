/** Idempotency-Key on POST routes other than executions (which have their own tests). */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const keyHeader = () => ({ "idempotency-key": `k-${crypto.randomUUID()}` });

test("a retried POST /v1/api-keys with the same key and body creates one key and replays the first answer", async () => {
  const headers = keyHeader();
  const body = { name: "retried", permission: "inference" };
  const first = await server.post("/v1/api-keys", body, undefined, headers);
  expect(first.status).toBe(201);
  const created = await first.json();
  const again = await server.post("/v1/api-keys", body, undefined, headers);
  expect(again.status).toBe(201);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(await again.json()).toEqual(created);
  const list = await (await server.get("/v1/api-keys?limit=100")).json();
  expect(list.data.filter((k: { name: string }) => k.name === "retried")).toHaveLength(1);
});

test("the same key with another body is 422 IDEMPOTENCY_KEY_REUSED; an error is not remembered", async () => {
  const headers = keyHeader();
  const bad = await server.post("/v1/api-keys", { name: "" }, undefined, headers);
  expect(bad.status).toBe(400);
  const ok = await server.post("/v1/api-keys", { name: "after an error" }, undefined, headers);
  expect(ok.status).toBe(201); // the 400 was not stored, so the corrected retry runs
  const reused = await server.post("/v1/api-keys", { name: "something else" }, undefined, headers);
  expect(reused.status).toBe(422);
  expect((await reused.json()).error.code).toBe("IDEMPOTENCY_KEY_REUSED");
});

test("keys are scoped per organization and per path", async () => {
  const headers = keyHeader();
  const other = server.newOrgKey();
  const mine = await (await server.post("/v1/api-keys", { name: "scoped" }, undefined, headers)).json();
  const theirs = await (await server.post("/v1/api-keys", { name: "scoped" }, other.key, headers)).json();
  expect(theirs.id).not.toBe(mine.id);
  const upload = await server.post("/v1/files/upload", { filename: "a.png", content_type: "image/png", size_bytes: 10 }, undefined, headers);
  expect(upload.status).toBe(200);
  expect(upload.headers.get("idempotent-replayed")).toBeNull();
});

test("an ASYNC execution create replays its first answer: 202 and the execution as created", async () => {
  const headers = keyHeader();
  const body = { model: "demo-model", input: { text: "replay me" } };
  const first = await server.post("/v1/executions", body, undefined, headers);
  expect(first.status).toBe(202);
  const created = await first.json();
  for (let i = 0; i < 100; i++) {
    if ((await (await server.get(`/v1/executions/${created.id}`)).json()).status === "COMPLETED") break;
    await Bun.sleep(20);
  }
  const again = await server.post("/v1/executions", body, undefined, headers);
  expect(again.status).toBe(202);
  expect(again.headers.get("idempotent-replayed")).toBe("true");
  expect(again.headers.get("location")).toBe(first.headers.get("location"));
  expect(await again.json()).toEqual(created);
});
