/** The key is checked before the body: a caller without a valid key learns nothing about its body. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const bodies: [string, string, string][] = [
  ["malformed JSON", "{bad", "application/json"],
  ["a non-JSON content type", "text", "text/plain"],
  ["a body over 1 MiB", JSON.stringify({ pad: "x".repeat(1024 * 1024) }), "application/json"],
];

for (const [what, body, contentType] of bodies) {
  test(`${what} without a key is 401; with a key it is its own error, with rate-limit headers`, async () => {
    const anonymous = await server.request("POST", "/v1/executions", { key: null, body, headers: { "content-type": contentType } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("x-ratelimit-limit")).toBeNull();
    const keyed = await server.request("POST", "/v1/executions", { body, headers: { "content-type": contentType } });
    expect([400, 413, 415]).toContain(keyed.status);
    expect(keyed.headers.get("x-ratelimit-remaining")).not.toBeNull();
    expect((await keyed.json()).error.code).toBe(keyed.status === 413 ? "PAYLOAD_TOO_LARGE" : keyed.status === 415 ? "UNSUPPORTED_MEDIA_TYPE" : "INPUT_VALIDATION_ERROR");
  });
}
