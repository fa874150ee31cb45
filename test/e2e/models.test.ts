import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

test("GET /v1/models lists the demo catalog in the OpenAI list shape with pricing strings", async () => {
  const res = await server.get("/v1/models");
  expect(res.status).toBe(200);
  const body = await res.json();
  expect(body.object).toBe("list");
  expect(body.has_more).toBe(false);
  const slugs = body.data.map((m: { id: string }) => m.id);
  expect(slugs).toEqual(expect.arrayContaining(["mock-image", "mock-chat", "mock-embed", "demo-model"]));
  const image = body.data.find((m: { id: string }) => m.id === "mock-image");
  expect(image).toMatchObject({ object: "model", owned_by: "modelroute", task: "text-to-image", pricing: { currency: "USD", per_image: "0.040" } });
  expect(typeof image.created).toBe("number");
  expect(image.input_schema.required).toEqual(["prompt"]);
  expect(image.description).toContain("Demo model");
});

test("GET /v1/models/{slug} returns one model; an unknown slug is a 404 envelope", async () => {
  const ok = await server.get("/v1/models/mock-chat");
  expect(ok.status).toBe(200);
  expect((await ok.json()).pricing).toEqual({ currency: "USD", input_per_1m_tokens: "0.500", output_per_1m_tokens: "1.500" });
  const missing = await server.get("/v1/models/nope");
  expect(missing.status).toBe(404);
  const { error } = await missing.json();
  expect(error).toMatchObject({ code: "NOT_FOUND", retryable: false, request_id: missing.headers.get("x-request-id") });
});

test("authenticated responses carry rate-limit headers that count down", async () => {
  const a = await server.get("/v1/models");
  const b = await server.get("/v1/models");
  expect(a.headers.get("x-ratelimit-limit")).toBe("600");
  expect(Number(b.headers.get("x-ratelimit-remaining"))).toBe(Number(a.headers.get("x-ratelimit-remaining")) - 1);
  expect(Number(a.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000);
});
