import { afterAll, beforeAll, expect, test } from "bun:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { fileStore } from "../../src/modules/files/backend";
import * as Files from "../../src/modules/files/service";
import { SizeMismatchError } from "../../src/storage";
import { chunked, initUpload, PNG_1x1, sha256Hex } from "../helpers/files";
import { objectExists, s3Env, startS3rver, type S3Server } from "../helpers/s3";
import { startTestServer, type TestServer } from "../helpers/server";

// s3rver checks no signatures (files-swift.test.ts covers those); it does check expiry.
let s3: S3Server;
let server: TestServer;
beforeAll(async () => {
  s3 = await startS3rver("modelroute-files");
  server = await startTestServer({ env: s3Env(s3) });
});
afterAll(async () => {
  await server?.stop();
  await s3?.stop();
});

const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 1) & 0xff);

test("upload → PUT to the bucket → confirmed on first use → ranged download → presigned GET → delete", async () => {
  const bytes = bytesOf(2 * 1024 * 1024 + 5);
  const init = await initUpload(server, { filename: "clip.mp4", content_type: "video/mp4", size_bytes: bytes.byteLength });
  const uploadUrl = new URL(init.upload_url);
  expect(uploadUrl.origin + uploadUrl.pathname).toBe(`${s3.endpoint}/modelroute-files/${init.file_id}`);
  expect(uploadUrl.searchParams.get("X-Amz-SignedHeaders")).toBe("content-length;content-type;host");
  expect((await server.get(`/v1/files/${init.file_id}`)).status).toBe(404); // nothing in the bucket yet

  const put = await fetch(init.upload_url, { method: "PUT", body: bytes, headers: { "content-type": "video/mp4" } });
  expect(put.status).toBe(200);

  const meta = await (await server.get(`/v1/files/${init.file_id}`)).json();
  expect(meta).toMatchObject({ id: init.file_id, status: "uploaded", size_bytes: bytes.byteLength, content_type: "video/mp4", sha256: null });

  const part = await server.request("GET", `/v1/files/${init.file_id}/download`, { headers: { range: "bytes=1048576-1048585" } });
  expect(part.status).toBe(206);
  expect(part.headers.get("content-range")).toBe(`bytes 1048576-1048585/${bytes.byteLength}`);
  expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(1048576, 1048586));
  const whole = await server.get(`/v1/files/${init.file_id}/download`);
  expect(sha256Hex(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256Hex(bytes));

  const link = await (await server.get(`/v1/files/${init.file_id}/url`)).json();
  expect(link.url.startsWith(`${s3.endpoint}/modelroute-files/${init.file_id}?`)).toBe(true);
  const viaLink = await fetch(link.url);
  expect(viaLink.status).toBe(200);
  expect(viaLink.headers.get("content-type")).toBe("video/mp4");
  expect(viaLink.headers.get("content-disposition")).toContain('filename="clip.mp4"');
  expect(sha256Hex(new Uint8Array(await viaLink.arrayBuffer()))).toBe(sha256Hex(bytes));

  expect((await server.request("DELETE", `/v1/files/${init.file_id}`)).status).toBe(200);
  expect(await objectExists(s3, init.file_id)).toBe(false);
  expect((await server.get(`/v1/files/${init.file_id}`)).status).toBe(404);
});

test("an object that is not what was declared is marked failed, removed, and never served", async () => {
  const init = await initUpload(server, { filename: "x.png", content_type: "image/png", size_bytes: 100 });
  // s3rver ignores the signed Content-Length, so a short body lands; the HEAD check catches it.
  expect((await fetch(init.upload_url, { method: "PUT", body: PNG_1x1, headers: { "content-type": "image/png" } })).status).toBe(200);
  const meta = await (await server.get(`/v1/files/${init.file_id}`)).json();
  expect(meta.status).toBe("failed");
  expect(await objectExists(s3, init.file_id)).toBe(false);
  expect((await server.get(`/v1/files/${init.file_id}/download`)).status).toBe(404);
  expect((await server.get(`/v1/files/${init.file_id}/url`)).status).toBe(404);
});

test("the sweep confirms uploads nobody has looked at, so they appear in the list", async () => {
  const init = await initUpload(server, { filename: "swept.png", content_type: "image/png", size_bytes: PNG_1x1.byteLength });
  await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: init.file_id, Body: PNG_1x1, ContentType: "image/png" }));
  const listed = async () => ((await (await server.get("/v1/files?limit=100")).json()).data as { id: string }[]).map((f) => f.id);
  expect(await listed()).not.toContain(init.file_id);
  const result = await Files.sweepUploads(server.running.ctx);
  expect(result.confirmed).toBeGreaterThanOrEqual(1);
  expect(await listed()).toContain(init.file_id);
});

test("storeOutput, input resolution and purge work on the S3 backend", async () => {
  const ctx = server.running.ctx;
  const out = await Files.storeOutput(ctx, { orgId: server.orgId, executionId: "exec_01932c5e-7a1b-7000-8000-000000000002", bytes: PNG_1x1, contentType: "image/png", filename: "out.png" });
  expect(out).toMatchObject({ status: "uploaded", sha256: sha256Hex(PNG_1x1) });
  expect(await objectExists(s3, out.file_id)).toBe(true);

  const schema = { type: "object", properties: { image: { type: "string", format: "file-id", "x-accept": ["image/png"] } } };
  const [resolved] = await Files.resolveInputFiles(ctx, server.orgId, ["image"], { image: out.file_id }, schema);
  expect(resolved!.contentType).toBe("image/png");
  expect(resolved!.url.startsWith(`${s3.endpoint}/modelroute-files/${out.file_id}?`)).toBe(true);
  expect(new Uint8Array(await (await fetch(resolved!.url)).arrayBuffer())).toEqual(PNG_1x1);
  expect(await resolved!.bytes()).toEqual(PNG_1x1);

  expect(await Files.purgeExpired(ctx, Date.now() + 31 * 86_400_000)).toBeGreaterThanOrEqual(1);
  expect(await objectExists(s3, out.file_id)).toBe(false);
});

test("the S3 store streams a body up with its SHA-256 and refuses one of the wrong length, keeping no object", async () => {
  const store = fileStore(server.running.ctx);
  const bytes = bytesOf(300_000);
  const stored = await store.put("stream-ok", chunked(bytes), { sizeBytes: bytes.byteLength, contentType: "application/pdf" });
  expect(stored).toEqual({ sizeBytes: bytes.byteLength, sha256: sha256Hex(bytes) });
  expect(await store.head("stream-ok")).toEqual({ sizeBytes: bytes.byteLength, contentType: "application/pdf" });

  // s3rver may keep what arrived before a dropped connection, even after our delete races it;
  // that no object is left is checked against a real S3 in files-swift.test.ts.
  for (const [key, body] of [["stream-short", bytes.slice(0, 299_999)], ["stream-long", bytesOf(300_001)]] as const) {
    const error = await store.put(key, chunked(body), { sizeBytes: bytes.byteLength, contentType: "application/pdf" }).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(SizeMismatchError);
  }
});

test("/readyz checks the S3 storage beside the database", async () => {
  const ready = await server.get("/readyz", null);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ ready: true, checks: { accepting_requests: true, database_writable: true, migrations_applied: true, data_dir_writable: true, file_storage_reachable: true } });
  const unreachable = await startTestServer({ env: { ...s3Env(s3), MODELROUTE_S3_ENDPOINT: "http://127.0.0.1:9" } });
  try {
    const res = await unreachable.get("/readyz", null);
    expect(res.status).toBe(503);
    expect((await res.json()).checks.file_storage_reachable).toBe(false);
  } finally {
    await unreachable.stop();
  }
});
