/**
 * Requests a fuzzer or an attacker sends, against a real server process: each gets its answer in
 * the error envelope (or as documented in docs/operations.md when Bun answers itself), and the
 * process lives on.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, type ServerProcess } from "../helpers/process";
import { headerOf, rawRequest } from "../helpers/raw-http";

let server: ServerProcess;
let dataDir: string;
let apiKey: string;
let adminToken: string;
let orgId: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "modelroute-hostile-"));
  server = await spawnServer(dataDir);
  ({ api_key: apiKey, admin_token: adminToken, org_id: orgId } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")));
});
afterAll(async () => {
  server.proc.kill("SIGTERM");
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

async function expectAlive() {
  expect(server.proc.exitCode).toBeNull();
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
}

const json = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; details: { field: string; code: string }[] } }).error;

describe("Host headers that make no URL", () => {
  const shapes = ["x:99999", "x:abc", "[::1", "a b", "", "%zz", "a/b"];

  for (const host of shapes)
    test(`Host ${JSON.stringify(host)}: answered, logged, and the server lives`, async () => {
      const health = await rawRequest(server.port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(health.status).toBe(200);
      const body = JSON.stringify({ name: "hostile" });
      const created = await rawRequest(
        server.port,
        `POST /v1/api-keys HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${apiKey}\r\nIdempotency-Key: host-${shapes.indexOf(host)}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(created.status).toBe(201); // idempotency reads the path too
      const unknown = await rawRequest(server.port, `GET /nope?x=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(unknown.status).toBe(404);
      expect(JSON.parse(unknown.body).error.message).toBe("No route matches GET /nope.");
      await Bun.sleep(20); // the request log runs after the answer: give a crash there its chance
      await expectAlive();
    });

  test("HTTP/1.0 without Host (HAProxy's default check, OPTIONS / HTTP/1.0) gets 204 with Allow; GET /healthz gets 200", async () => {
    const options = await rawRequest(server.port, "OPTIONS / HTTP/1.0\r\n\r\n");
    expect(options.status).toBe(204);
    expect(headerOf(options.head, "allow")).toBe("GET, OPTIONS");
    const health = await rawRequest(server.port, "GET /healthz HTTP/1.0\r\n\r\n");
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });
    await Bun.sleep(20);
    await expectAlive();
  });
});

describe("deeply nested JSON is refused before it is parsed", () => {
  const nested = (depth: number) => `{"model":"mock-chat","input":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;

  test("64 levels are parsed and validated as usual", async () => {
    const res = await fetch(`${server.url}/v1/executions`, { method: "POST", headers: json(apiKey), body: nested(64) });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).details[0]).toMatchObject({ field: "input", code: "invalid_type" });
  });

  for (const depth of [65, 10_000, 100_000])
    test(`${depth} levels: 400 naming the byte where the 65th level opens`, async () => {
      const res = await fetch(`${server.url}/v1/executions`, { method: "POST", headers: json(apiKey), body: nested(depth) });
      expect(res.status).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe("INPUT_VALIDATION_ERROR");
      expect(error.message).toBe("The body nests objects and arrays deeper than 64 levels (at byte 92).");
      expect(error.details[0]).toMatchObject({ field: "body", code: "invalid_format" });
    });

  test("without a key it is still a 401 first, and brackets inside strings nest nothing", async () => {
    expect((await fetch(`${server.url}/v1/executions`, { method: "POST", headers: { "content-type": "application/json" }, body: nested(100_000) })).status).toBe(401);
    const inString = JSON.stringify({ name: "[".repeat(90) });
    expect((await fetch(`${server.url}/v1/api-keys`, { method: "POST", headers: json(apiKey), body: inString })).status).toBe(201);
    await expectAlive();
  });
});

test("malformed JSON is described in our words with the byte offset", async () => {
  const cases: [string, string][] = [
    ['{"model": x}', 'expected a value but found "x" at byte 10'],
    ['{"a":1,}', 'expected a field name in double quotes but found "}" at byte 7'],
    ['{"é":tru}', 'expected "true" but found "}" at byte 9'], // é is two bytes
    ['{"a":1} 2', 'expected the end of the body but found "2" at byte 8'],
    ['{"a":"b', "a string is not closed at byte 7"],
  ];
  for (const [body, says] of cases) {
    const res = await fetch(`${server.url}/v1/executions`, { method: "POST", headers: json(apiKey), body });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.message).toBe(`The body is not valid JSON: ${says}.`);
    expect(error.message).not.toContain("JSON Parse error");
  }
});

describe("answers Bun's parser would give without a body", () => {
  test("headers over 16 KiB: 431 REQUEST_HEADERS_TOO_LARGE in the envelope", async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { "x-filler": "a".repeat(20_000) } });
    expect(res.status).toBe(431);
    expect((await errorOf(res)).code).toBe("REQUEST_HEADERS_TOO_LARGE");
  });

  test("bad framing (Content-Length with chunked, a bad chunk size) and HTTP/2.0 text: Bun's bare answers, and the server lives", async () => {
    const both = await rawRequest(server.port, "POST /v1/executions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    expect(both.status).toBe(400);
    const chunk = await rawRequest(server.port, "POST /v1/executions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n");
    expect(chunk.status).toBe(400);
    const version = await rawRequest(server.port, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n");
    expect(version.status).toBe(505);
    await expectAlive();
  });
});

describe("contract gaps", () => {
  test("an authenticated 404 for an unknown route and a 405 carry X-RateLimit-*; anonymous ones do not", async () => {
    const unknown = await fetch(`${server.url}/v1/nope`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-ratelimit-limit")).toBe("600");
    expect(Number(unknown.headers.get("x-ratelimit-remaining"))).toBeLessThan(600);
    const wrongMethod = await fetch(`${server.url}/v1/balance`, { method: "DELETE", headers: { authorization: `Bearer ${apiKey}` } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("x-ratelimit-reset")).toMatch(/^\d+$/);
    const anonymous = await fetch(`${server.url}/v1/nope`);
    expect(anonymous.status).toBe(404);
    expect(anonymous.headers.get("x-ratelimit-limit")).toBeNull();
  });

  test("PATCH bodies that are not objects are 400 on api-keys, guardrails and webhooks", async () => {
    const key = (await (await fetch(`${server.url}/v1/api-keys`, { method: "POST", headers: json(apiKey), body: '{"name":"patched"}' })).json()) as { id: string };
    const guardrail = (await (await fetch(`${server.url}/v1/guardrails`, { method: "POST", headers: json(apiKey), body: '{"name":"g"}' })).json()) as { id: string };
    const endpoint = (await (
      await fetch(`${server.url}/v1/webhooks/endpoints`, { method: "POST", headers: json(apiKey), body: '{"url":"https://example.com/hook"}' })
    ).json()) as { id: string };
    for (const path of [`/v1/api-keys/${key.id}`, `/v1/guardrails/${guardrail.id}`, `/v1/webhooks/endpoints/${endpoint.id}`])
      for (const body of ["123", "[]", "true", "null", '"x"']) {
        const res = await fetch(server.url + path, { method: "PATCH", headers: json(apiKey), body });
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
        expect((await errorOf(res)).details[0]).toMatchObject({ field: "body", code: "invalid_type" });
      }
  });

  test("one Idempotency-Key rule on /v1 and on the admin API: empty, blank, 10 000 characters and a tab are 400", async () => {
    const bad = ["", " ", "a".repeat(10_000), "\t"];
    const targets = [
      { path: "/v1/api-keys", key: apiKey, body: '{"name":"idem"}' },
      { path: "/admin/v1/orgs", key: adminToken, body: '{"name":"idem-org"}' },
      { path: `/admin/v1/orgs/${orgId}/credits`, key: adminToken, body: '{"amount":"1.00"}' },
    ];
    for (const target of targets)
      for (const value of bad) {
        const res = await rawRequest(
          server.port,
          `POST ${target.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${target.key}\r\nIdempotency-Key: ${value}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${target.body.length}\r\nConnection: close\r\n\r\n${target.body}`,
        );
        expect({ path: target.path, value: value.slice(0, 8), status: res.status }).toEqual({ path: target.path, value: value.slice(0, 8), status: 400 });
        expect(JSON.parse(res.body).error.details[0]).toMatchObject({ field: "Idempotency-Key", code: "invalid_format" });
      }
    const inBody = await fetch(`${server.url}/admin/v1/orgs/${orgId}/credits`, { method: "POST", headers: json(adminToken), body: '{"amount":"1.00","idempotency_key":" "}' });
    expect(inBody.status).toBe(400);
    expect((await errorOf(inBody)).details[0]).toMatchObject({ field: "idempotency_key" });
  });

  test("an admin POST with a good Idempotency-Key replays its first answer", async () => {
    const send = (name: string) =>
      fetch(`${server.url}/admin/v1/orgs`, { method: "POST", headers: { ...json(adminToken), "idempotency-key": "org-once" }, body: JSON.stringify({ name }) });
    const first = await send("replayed-org");
    expect(first.status).toBe(201);
    const again = await send("replayed-org");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect((await send("another-org")).status).toBe(422);
  });

  test("a key with a wrong checksum is told so; the operator token on /v1 is told to use an API key", async () => {
    const wrongChecksum = apiKey.slice(0, -8) + (apiKey.at(-8) === "0" ? "1" : "0") + apiKey.slice(-7);
    const checksum = await fetch(`${server.url}/v1/balance`, { headers: { authorization: `Bearer ${wrongChecksum}` } });
    expect(checksum.status).toBe(401);
    expect((await errorOf(checksum)).message).toContain("checksum is wrong");
    const operator = await fetch(`${server.url}/v1/balance`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(operator.status).toBe(401);
    expect((await errorOf(operator)).message).toContain("operator token");
  });

  test("GET / sends a browser to /docs and gives an API client an index", async () => {
    const browser = await fetch(`${server.url}/`, { headers: { accept: "text/html,application/xhtml+xml" }, redirect: "manual" });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toBe("/docs");
    const client = await fetch(`${server.url}/`);
    expect(client.status).toBe(200);
    expect(await client.json()).toMatchObject({ object: "index", name: "ModelRoute", docs: `${server.url}/docs`, openapi: `${server.url}/openapi.json` });
  });
});
