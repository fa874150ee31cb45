/**
 * Elysia's t.UnionEnum gives an enum a `default` of its first value, and Elysia fills a missing
 * optional query or body field from it: a request without `status` would list only PENDING
 * executions. Enums are built with enumOf (src/http/schemas.ts), which sets a default only where
 * one is meant. Real server over HTTP.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const json = async (res: Response) => {
  expect(res.ok).toBe(true);
  return res.json();
};

test("GET /v1/executions without `status` lists executions of every status", async () => {
  const { key } = server.newOrgKey();
  const run = async (input: Record<string, unknown>) => json(await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input }, key));
  const completed = await run({ text: "hello" });
  const failed = await run({ text: "hello", mock_error: "MODEL_OVERLOADED" });
  expect([completed.status, failed.status]).toEqual(["COMPLETED", "FAILED"]);

  const all = await json(await server.get("/v1/executions", key));
  expect(all.data.map((e: { id: string; status: string }) => [e.id, e.status])).toEqual([
    [failed.id, "FAILED"],
    [completed.id, "COMPLETED"],
  ]);
  // The filter itself still narrows when given.
  const onlyFailed = await json(await server.get("/v1/executions?status=FAILED", key));
  expect(onlyFailed.data.map((e: { id: string }) => e.id)).toEqual([failed.id]);
});

test("an omitted `permission` still takes its intended default, inference", async () => {
  const created = await json(await server.post("/v1/api-keys", { name: "no permission given" }));
  expect(created.permission).toBe("inference");
});

test("the OpenAPI document gives no enum a default except key permission", async () => {
  const spec = await json(await server.get("/openapi.json", null));
  const defaulted = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== "object") return;
    const schema = node as Record<string, unknown>;
    if (Array.isArray(schema.enum) && "default" in schema) defaulted.add(JSON.stringify({ enum: schema.enum, default: schema.default }));
    Object.values(schema).forEach(walk);
  };
  walk(spec);
  expect([...defaulted]).toEqual([JSON.stringify({ enum: ["full", "inference"], default: "inference" })]);
});
