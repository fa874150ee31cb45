import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { blobsOnDisk, chunked, initUpload, otherOrg, PNG_1x1, sha256Hex, uploadFile } from "../helpers/files";
import { startTestServer, type TestServer } from "../helpers/server";

// A clock the tests can move forward, so expiry is tested without waiting.
let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

const bytesOf = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const { error } = await res.json();
  expect(error.code).toBe(code);
  expect(error.request_id).toBe(res.headers.get("x-request-id"));
  return error as { message: string; details: { field: string; code: string; message: string }[] };
}

test("upload → PUT → metadata with sha256 → ranged download → download link → delete, over real HTTP", async () => {
  const bytes = bytesOf(3 * 1024 * 1024 + 17); // a few MiB, streamed in 64 KiB pieces without Content-Length
  const init = await initUpload(server, { filename: "Füchse & Co.mp4", content_type: "video/mp4", size_bytes: bytes.byteLength });
  expect(init.file_id).toMatch(/^file_[0-9a-f-]{36}$/);
  expect(init.upload_url.startsWith(`${server.url}/v1/files/${init.file_id}/content?`)).toBe(true);
  expect(Date.parse(init.expires_at) - Date.now()).toBeGreaterThan(3500_000); // default 1 h

  const put = await fetch(init.upload_url, { method: "PUT", body: chunked(bytes), headers: { "content-type": "video/mp4" } });
  expect(put.status).toBe(200);

  const meta = await (await server.get(`/v1/files/${init.file_id}`)).json();
  expect(meta).toMatchObject({
    id: init.file_id,
    object: "file",
    filename: "Füchse & Co.mp4",
    content_type: "video/mp4",
    size_bytes: bytes.byteLength,
    sha256: sha256Hex(bytes),
    status: "uploaded",
  });
  const retentionMs = Date.parse(meta.expires_at) - Date.parse(meta.created_at);
  expect(Math.round(retentionMs / 86_400_000)).toBe(30);

  const whole = await server.get(`/v1/files/${init.file_id}/download`);
  expect(whole.status).toBe(200);
  expect(whole.headers.get("content-type")).toBe("video/mp4");
  expect(whole.headers.get("content-disposition")).toBe(`attachment; filename="F_chse & Co.mp4"; filename*=UTF-8''F%C3%BCchse%20%26%20Co.mp4`);
  expect(whole.headers.get("accept-ranges")).toBe("bytes");
  expect(sha256Hex(new Uint8Array(await whole.arrayBuffer()))).toBe(sha256Hex(bytes));

  const part = await server.request("GET", `/v1/files/${init.file_id}/download`, { headers: { range: "bytes=100-199" } });
  expect(part.status).toBe(206);
  expect(part.headers.get("content-range")).toBe(`bytes 100-199/${bytes.byteLength}`);
  expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(100, 200));

  const link = await (await server.get(`/v1/files/${init.file_id}/url`)).json();
  expect(link.url.startsWith(`${server.url}/v1/files/${init.file_id}/content?`)).toBe(true);
  const viaLink = await fetch(link.url); // no API key: the link is the credential
  expect(viaLink.status).toBe(200);
  expect(viaLink.headers.get("content-type")).toBe("video/mp4");
  expect(sha256Hex(new Uint8Array(await viaLink.arrayBuffer()))).toBe(sha256Hex(bytes));
  expect(blobsOnDisk(server.dataDir)).toEqual([`${init.file_id.slice(-2)}/${init.file_id}`]);

  const deleted = await server.request("DELETE", `/v1/files/${init.file_id}`);
  expect(await deleted.json()).toEqual({ id: init.file_id, object: "file", deleted: true });
  await expectError(await server.get(`/v1/files/${init.file_id}`), 404, "NOT_FOUND");
  await expectError(await fetch(link.url), 404, "NOT_FOUND");
  expect(blobsOnDisk(server.dataDir)).toEqual([]);
});

test("a file of exactly 150 MiB, above Bun's default body limit, is streamed in, hashed and streamed back whole", async () => {
  const MIB = 1024 * 1024;
  const pieces = 150;
  const base = bytesOf(MIB);
  const piece = (i: number) => {
    const bytes = base.slice();
    new DataView(bytes.buffer).setUint32(0, i); // every MiB differs, so a lost or repeated one changes the hash
    return bytes;
  };
  const sent = new Bun.CryptoHasher("sha256");
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (next === pieces) return controller.close();
      const bytes = piece(next++);
      sent.update(bytes);
      controller.enqueue(bytes);
    },
  });
  const init = await initUpload(server, { filename: "big.mp4", content_type: "video/mp4", size_bytes: pieces * MIB });
  const put = await fetch(init.upload_url, { method: "PUT", body, headers: { "content-type": "video/mp4" } });
  expect(put.status).toBe(200);
  const sha256 = sent.digest("hex");
  expect(await (await server.get(`/v1/files/${init.file_id}`)).json()).toMatchObject({ size_bytes: 157_286_400, sha256, status: "uploaded" });

  const download = await server.get(`/v1/files/${init.file_id}/download`);
  expect(download.headers.get("content-length")).toBe("157286400");
  const received = new Bun.CryptoHasher("sha256");
  for await (const chunk of download.body!) received.update(chunk);
  expect(received.digest("hex")).toBe(sha256);
  await server.request("DELETE", `/v1/files/${init.file_id}`);
}, 30_000);

test("Range: suffix and open-ended ranges are served, a range past the end is 416 with the size", async () => {
  const bytes = bytesOf(1000);
  const { file_id } = await uploadFile(server, bytes, "application/pdf", "doc.pdf");
  const get = (range: string) => server.request("GET", `/v1/files/${file_id}/download`, { headers: { range } });

  const suffix = await get("bytes=-10");
  expect(suffix.status).toBe(206);
  expect(suffix.headers.get("content-range")).toBe("bytes 990-999/1000");
  expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(bytes.slice(990));

  const open = await get("bytes=995-");
  expect(open.headers.get("content-range")).toBe("bytes 995-999/1000");
  expect((await open.arrayBuffer()).byteLength).toBe(5);

  const clipped = await get("bytes=900-5000");
  expect(clipped.headers.get("content-range")).toBe("bytes 900-999/1000");

  const past = await get("bytes=1000-1010");
  expect(past.headers.get("content-range")).toBe("bytes */1000");
  await expectError(past, 416, "RANGE_NOT_SATISFIABLE");

  const several = await get("bytes=0-1,5-6"); // multiple ranges: the whole file, as RFC 9110 allows
  expect(several.status).toBe(200);
  expect((await several.arrayBuffer()).byteLength).toBe(1000);
});

describe("a body whose size differs from size_bytes is refused and leaves no blob", () => {
  test("declared by Content-Length, or found while streaming; the link still works for the right body", async () => {
    const bytes = bytesOf(200_000);
    const init = await initUpload(server, { content_type: "image/png", size_bytes: bytes.byteLength });
    const put = (body: BodyInit) => fetch(init.upload_url, { method: "PUT", body, headers: { "content-type": "image/png" } });

    let error = await expectError(await put(bytes.slice(0, 199_999)), 400, "INPUT_VALIDATION_ERROR");
    expect(error.details).toEqual([expect.objectContaining({ field: "Content-Length", code: "too_short" })]);
    error = await expectError(await put(chunked(bytes.slice(0, 150_000))), 400, "INPUT_VALIDATION_ERROR");
    expect(error.details).toEqual([expect.objectContaining({ field: "body", code: "too_short" })]);
    expect(error.message).toContain("150000");
    error = await expectError(await put(chunked(bytesOf(262_144))), 400, "INPUT_VALIDATION_ERROR");
    expect(error.details).toEqual([expect.objectContaining({ field: "body", code: "too_long" })]);
    expect(blobsOnDisk(server.dataDir).filter((p) => p.includes(init.file_id))).toEqual([]);
    await expectError(await server.get(`/v1/files/${init.file_id}`), 404, "NOT_FOUND");

    expect((await put(bytes)).status).toBe(200);
    expect((await (await server.get(`/v1/files/${init.file_id}`)).json()).sha256).toBe(sha256Hex(bytes));
    await expectError(await put(bytes), 409, "CONFLICT"); // an uploaded file is never overwritten
  });
});

test("the PUT must carry the declared Content-Type", async () => {
  const init = await initUpload(server, { content_type: "image/png", size_bytes: PNG_1x1.byteLength });
  const res = await fetch(init.upload_url, { method: "PUT", body: PNG_1x1, headers: { "content-type": "image/jpeg" } });
  const error = await expectError(res, 400, "INPUT_VALIDATION_ERROR");
  expect(error.details[0]).toMatchObject({ field: "Content-Type", code: "invalid_format" });
});

test("a changed or expired upload link is 403 FORBIDDEN and stores nothing", async () => {
  const init = await initUpload(server, { content_type: "image/png", size_bytes: PNG_1x1.byteLength });
  const other = await initUpload(server, { content_type: "image/png", size_bytes: PNG_1x1.byteLength });
  const url = new URL(init.upload_url);
  const put = (target: string) => fetch(target, { method: "PUT", body: PNG_1x1, headers: { "content-type": "image/png" } });

  const flipped = new URL(url);
  const sig = flipped.searchParams.get("signature")!;
  flipped.searchParams.set("signature", (sig[0] === "0" ? "1" : "0") + sig.slice(1));
  expect((await expectError(await put(flipped.href), 403, "FORBIDDEN")).message).toContain("not valid");

  const longer = new URL(url);
  longer.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 3600));
  await expectError(await put(longer.href), 403, "FORBIDDEN");

  const unsigned = new URL(url);
  unsigned.searchParams.delete("signature");
  await expectError(await put(unsigned.href), 403, "FORBIDDEN");

  // The signature of one file does not open another.
  await expectError(await put(url.href.replace(init.file_id, other.file_id)), 403, "FORBIDDEN");

  offsetMs = 3_601_000; // past the 1 h link lifetime
  try {
    expect((await expectError(await put(url.href), 403, "FORBIDDEN")).message).toContain("expired");
  } finally {
    offsetMs = 0;
  }
  expect(blobsOnDisk(server.dataDir).filter((p) => p.includes(init.file_id))).toEqual([]);
  expect((await put(url.href)).status).toBe(200);
});

test("a download link is bound to GET and expires; the upload link does not download", async () => {
  const { file_id, upload_url } = await uploadFile(server, PNG_1x1, "image/png", "dot.png");
  const link = await (await server.get(`/v1/files/${file_id}/url`)).json();
  expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(3500_000);
  await expectError(await fetch(upload_url), 403, "FORBIDDEN"); // signed for PUT, not GET
  await expectError(await fetch(link.url, { method: "PUT", body: PNG_1x1, headers: { "content-type": "image/png" } }), 403, "FORBIDDEN");
  offsetMs = 3_601_000;
  try {
    await expectError(await fetch(link.url), 403, "FORBIDDEN");
  } finally {
    offsetMs = 0;
  }
  expect((await fetch(link.url)).status).toBe(200);
});

test("POST /v1/files/upload names the field at fault", async () => {
  const post = (body: unknown) => server.post("/v1/files/upload", body);
  const base = { filename: "a.png", content_type: "image/png", size_bytes: 10 };

  let error = await expectError(await post({ ...base, size_bytes: 157_286_401 }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "size_bytes", code: "out_of_range" })]);
  expect((await post({ ...base, size_bytes: 157_286_400 })).status).toBe(200); // exactly 150 MiB is fine

  error = await expectError(await post({ ...base, filename: "" }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "filename", code: "too_short" })]);
  error = await expectError(await post({ ...base, filename: "../etc/passwd" }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "filename", code: "invalid_format" })]);

  error = await expectError(await post({ ...base, content_type: "application/x-msdownload" }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "content_type", code: "unsupported" })]);
  expect(error.message).toContain("image/png");

  error = await expectError(await post({ filename: "a.png", content_type: "image/png" }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "size_bytes", code: "required" })]);
  error = await expectError(await post({ ...base, purpose: "x" }), 400, "INPUT_VALIDATION_ERROR");
  expect(error.details).toEqual([expect.objectContaining({ field: "purpose", code: "unknown_field" })]);
  await expectError(await server.post("/v1/files/upload", base, null), 401, "UNAUTHORIZED");
});

test("unknown, malformed, foreign and never-uploaded files are 404 on every route", async () => {
  const mine = await uploadFile(server, PNG_1x1, "image/png");
  const pending = await initUpload(server, { content_type: "image/png", size_bytes: 10 });
  const stranger = otherOrg(server);
  const routes = (id: string) => [`/v1/files/${id}`, `/v1/files/${id}/download`, `/v1/files/${id}/url`];
  const cases: [string, string | undefined][] = [
    [mine.file_id, stranger.key],
    [pending.file_id, undefined],
    ["file_01932c5e-7a1b-7000-8000-000000000001", undefined],
    ["file_nope", undefined],
  ];
  for (const [id, key] of cases) {
    for (const path of routes(id)) await expectError(await server.get(path, key), 404, "NOT_FOUND");
    await expectError(await server.request("DELETE", `/v1/files/${id}`, { key }), 404, "NOT_FOUND");
  }
  expect((await server.get(`/v1/files/${mine.file_id}`)).status).toBe(200); // still there for its owner
});

test("a file whose bytes are gone (a DELETE racing the read, a restore without the files directory) is 404, not a server error", async () => {
  const { file_id } = await uploadFile(server, PNG_1x1, "image/png", "lost.png");
  const link = await (await server.get(`/v1/files/${file_id}/url`)).json();
  rmSync(join(server.dataDir, "files", file_id.slice(-2), file_id));
  await expectError(await server.get(`/v1/files/${file_id}/download`), 404, "NOT_FOUND");
  await expectError(await fetch(link.url), 404, "NOT_FOUND");
  expect((await server.get(`/v1/files/${file_id}`)).status).toBe(200); // the record is still there
});

test("GET /v1/files lists the org's files newest first with cursor pagination", async () => {
  const org = otherOrg(server);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await uploadFile(server, PNG_1x1, "image/png", `n${i}.png`, org.key)).file_id);
  await initUpload(server, { content_type: "image/png", size_bytes: 5 }, org.key); // never uploaded: not listed
  const list = async (query: string) => (await server.get(`/v1/files${query}`, org.key)).json();

  const first = await list("?limit=2");
  expect(first.object).toBe("list");
  expect(first.data.map((f: { id: string }) => f.id)).toEqual([ids[2], ids[1]]);
  expect(first.has_more).toBe(true);
  const second = await list(`?limit=2&starting_after=${ids[1]}`);
  expect(second.data.map((f: { id: string }) => f.id)).toEqual([ids[0]]);
  expect(second.has_more).toBe(false);
  const back = await list(`?limit=1&ending_before=${ids[0]}`);
  expect(back.data.map((f: { id: string }) => f.id)).toEqual([ids[1]]);
  expect(back.has_more).toBe(true);
  const all = await list("");
  expect(all.data).toHaveLength(3);
  expect(all.data[0]).toMatchObject({ object: "file", filename: "n2.png", status: "uploaded" });
  await expectError(await server.get("/v1/files?limit=101", org.key), 400, "INPUT_VALIDATION_ERROR");
});
