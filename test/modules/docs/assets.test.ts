/**
 * The docs UI bundles are served gzip-compressed to a client that accepts gzip and plain to any
 * other, byte for byte the files the packages ship (docs/benchmarks.md "Binary size"). Run from
 * source here; test/e2e/binary.test.ts checks the same on the compiled binary, whose copies were
 * compressed at build time.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { acceptsGzip } from "../../../src/modules/docs/assets";
import { startTestServer, type TestServer } from "../../helpers/server";

const root = join(import.meta.dir, "../../..");
const BUNDLES = [
  ["/docs/assets/scalar.js", "node_modules/@scalar/api-reference/dist/browser/standalone.js", "text/javascript"],
  ["/docs/assets/swagger-ui-bundle.js", "node_modules/swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"],
  ["/docs/assets/swagger-ui.css", "node_modules/swagger-ui-dist/swagger-ui.css", "text/css"],
] as const;

describe("acceptsGzip", () => {
  test.each([
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.8", true],
    ["GZIP", true],
    ["x-gzip", true],
    ["*", true],
    ["gzip;q=0", false],
    ["gzip;q=0.0, *", false],
    ["*;q=0", false],
    ["br, deflate", false],
    ["identity", false],
    ["", false],
  ])("%p -> %p", (header, expected) => expect(acceptsGzip(header)).toBe(expected));
  test("no header: plain", () => expect(acceptsGzip(null)).toBe(false));
});

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

describe.each(BUNDLES)("%s", (path, file, type) => {
  test("gzip when accepted, the package's file once decompressed", async () => {
    const original = await Bun.file(join(root, file)).bytes();
    const res = await fetch(server.url + path, { headers: { "accept-encoding": "gzip, br" }, decompress: false });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(res.headers.get("vary")).toBe("accept-encoding");
    expect(res.headers.get("content-type")).toStartWith(type);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.length).toBeLessThan(original.length / 2);
    expect(Bun.gunzipSync(body)).toEqual(original);
  });

  test("plain when gzip is not accepted", async () => {
    const original = await Bun.file(join(root, file)).bytes();
    for (const accept of ["identity", "gzip;q=0, br"]) {
      const res = await fetch(server.url + path, { headers: { "accept-encoding": accept }, decompress: false });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-encoding")).toBeNull();
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(original);
    }
  });
});
