/**
 * The S3 backend against OpenStack Swift's s3api, which checks SigV4 signatures for real (s3rver
 * does not). Needs Debian's swift packages: .ci/run installs them and forbids skipping; when they
 * are installed and Swift cannot start, these tests fail.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { hasSystemTools } from "../helpers/system";
import { fileStore } from "../../src/modules/files/backend";
import { SizeMismatchError } from "../../src/storage";
import { chunked, initUpload, PNG_1x1, sha256Hex } from "../helpers/files";
import { objectExists, s3Env, startSwift, type S3Server } from "../helpers/s3";
import { startTestServer, type TestServer } from "../helpers/server";

const available = hasSystemTools("S3 signatures against Swift", "swift-proxy-server", "memcached");

describe.skipIf(!available)("S3 backend on OpenStack Swift", () => {
  let swift: S3Server;
  let server: TestServer;
  let offsetMs = 0;
  const clock = { now: () => Date.now() + offsetMs };

  beforeAll(async () => {
    swift = await startSwift("modelroute-files");
    server = await startTestServer({ env: s3Env(swift), clock });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await swift?.stop();
  }, 30_000);

  const put = (url: string, body: Uint8Array, contentType: string) => fetch(url, { method: "PUT", body, headers: { "content-type": contentType } });

  test("a presigned upload URL is honoured only as signed: changed signature, key, size or type → 403", async () => {
    const bytes = Uint8Array.from({ length: 50_000 }, (_, i) => i & 0xff);
    const init = await initUpload(server, { filename: "signed.pdf", content_type: "application/pdf", size_bytes: bytes.byteLength });
    const url = new URL(init.upload_url);
    expect(url.origin).toBe(swift.endpoint);

    const forged = new URL(url);
    const sig = forged.searchParams.get("X-Amz-Signature")!;
    forged.searchParams.set("X-Amz-Signature", (sig[0] === "0" ? "1" : "0") + sig.slice(1));
    expect((await put(forged.href, bytes, "application/pdf")).status).toBe(403);

    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace(init.file_id, `${init.file_id}-copy`);
    expect((await put(otherKey.href, bytes, "application/pdf")).status).toBe(403);

    expect((await put(url.href, bytes.slice(1), "application/pdf")).status).toBe(403); // Content-Length is signed
    expect((await put(url.href, bytes, "image/png")).status).toBe(403); // so is Content-Type
    expect((await server.get(`/v1/files/${init.file_id}`)).status).toBe(404); // nothing arrived

    expect((await put(url.href, bytes, "application/pdf")).status).toBe(200);
    const meta = await (await server.get(`/v1/files/${init.file_id}`)).json();
    expect(meta).toMatchObject({ status: "uploaded", size_bytes: bytes.byteLength, content_type: "application/pdf", sha256: null });

    const part = await server.request("GET", `/v1/files/${init.file_id}/download`, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(10, 20));
  });

  test("a presigned download URL works as given, and a changed or expired one is 403", async () => {
    const init = await initUpload(server, { filename: "dot.png", content_type: "image/png", size_bytes: PNG_1x1.byteLength });
    expect((await put(init.upload_url, PNG_1x1, "image/png")).status).toBe(200);

    const link = await (await server.get(`/v1/files/${init.file_id}/url`)).json();
    const ok = await fetch(link.url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-disposition")).toContain('filename="dot.png"');
    expect(sha256Hex(new Uint8Array(await ok.arrayBuffer()))).toBe(sha256Hex(PNG_1x1));

    const forged = new URL(link.url);
    forged.searchParams.set("response-content-type", "text/html"); // a signed parameter
    expect((await fetch(forged.href)).status).toBe(403);

    offsetMs = -2 * 3_600_000; // a link dated two hours ago with a one-hour life
    let old: { url: string };
    try {
      old = await (await server.get(`/v1/files/${init.file_id}/url`)).json();
    } finally {
      offsetMs = 0;
    }
    expect((await fetch(old.url)).status).toBe(403);

    expect((await server.request("DELETE", `/v1/files/${init.file_id}`)).status).toBe(200);
    expect((await fetch(link.url)).status).toBe(404); // the bytes are gone from the bucket
  });

  test("a streamed body of the wrong length is refused and leaves no object", async () => {
    const store = fileStore(server.running.ctx);
    const bytes = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 7) & 0xff);
    for (const [key, body] of [["short", bytes.slice(0, 299_999)], ["long", Uint8Array.from({ length: 300_001 }, () => 1)]] as const) {
      const error = await store.put(key, chunked(body), { sizeBytes: bytes.byteLength, contentType: "application/pdf" }).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(SizeMismatchError);
      expect(await objectExists(swift, key)).toBe(false);
    }
    expect(await store.put("exact", chunked(bytes), { sizeBytes: bytes.byteLength, contentType: "application/pdf" })).toEqual({ sizeBytes: bytes.byteLength, sha256: sha256Hex(bytes) });
    expect(await objectExists(swift, "exact")).toBe(true);
  });
});
