import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "../../../src/errors";
import * as Files from "../../../src/modules/files/service";
import * as FilesStore from "../../../src/modules/files/store";
import { blobsOnDisk, initUpload, otherOrg, PNG_1x1, sha256Hex, uploadFile } from "../../helpers/files";
import { startTestServer, type TestServer } from "../../helpers/server";

let offsetMs = 0;
const clock = { now: () => Date.now() + offsetMs };
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

const DAY_MS = 86_400_000;
const ascii = (text: string, pad = 64) => {
  const bytes = new Uint8Array(Math.max(pad, text.length));
  bytes.set(new TextEncoder().encode(text));
  return bytes;
};
const PDF = ascii("%PDF-1.7\n%âãÏÓ\n1 0 obj");
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, ...ascii("JFIF", 58)]);
const NOISE = Uint8Array.from({ length: 64 }, (_, i) => 0x20 + (i % 50));

const schema = {
  type: "object",
  properties: {
    image: { type: "string", format: "file-id", "x-accept": ["image/png", "image/jpeg"] },
    refs: { type: "array", items: { type: "string", format: "file-id", "x-accept": ["image/*"] } },
    notes: { type: "string", format: "file-id", "x-accept": ["text/plain"] },
    doc: { type: "string", format: "file-id" },
  },
};
const fields = ["image", "refs", "notes", "doc"];

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error("expected an AppError");
}

describe("resolveInputFiles", () => {
  test("resolves ids at file fields to a real type, a working presigned URL and the bytes", async () => {
    const ctx = server.running.ctx;
    const png = await uploadFile(server, PNG_1x1, "image/png", "dot.png");
    const jpegDeclaredPng = await uploadFile(server, JPEG, "image/png", "photo.png"); // a lie the bytes undo
    const notes = await uploadFile(server, new TextEncoder().encode("hello there"), "text/plain", "notes.txt");
    const pdf = await uploadFile(server, PDF, "application/pdf", "doc.pdf");
    const resolved = await Files.resolveInputFiles(ctx, server.orgId, fields, {
      image: png.file_id,
      refs: [jpegDeclaredPng.file_id, png.file_id],
      notes: notes.file_id,
      doc: pdf.file_id,
      prompt: "not a file",
    }, schema);
    expect(resolved.map((r) => [r.field, r.contentType])).toEqual([
      ["input.image", "image/png"],
      ["input.refs[0]", "image/jpeg"],
      ["input.refs[1]", "image/png"],
      ["input.notes", "text/plain"],
      ["input.doc", "application/pdf"],
    ]);
    const image = resolved[0]!;
    expect(image).toMatchObject({ fileId: png.file_id, filename: "dot.png", sizeBytes: PNG_1x1.byteLength, sha256: sha256Hex(PNG_1x1) });
    expect(await image.bytes()).toEqual(PNG_1x1);
    const fetched = await fetch(image.url); // what a provider adapter would hand upstream
    expect(fetched.status).toBe(200);
    expect(new Uint8Array(await fetched.arrayBuffer())).toEqual(PNG_1x1);
  });

  test("missing, foreign, never-uploaded and expired files are FILE_NOT_FOUND naming each input path", async () => {
    const ctx = server.running.ctx;
    const stranger = otherOrg(server);
    const foreign = await uploadFile(server, PNG_1x1, "image/png", "theirs.png", stranger.key);
    const pending = await initUpload(server, { content_type: "image/png", size_bytes: PNG_1x1.byteLength });
    const good = await uploadFile(server, PNG_1x1, "image/png");
    const error = await rejection(
      Files.resolveInputFiles(ctx, server.orgId, fields, {
        image: foreign.file_id,
        refs: [good.file_id, pending.file_id, "file_01932c5e-7a1b-7000-8000-000000000009"],
        notes: good.file_id, // a PNG where text is wanted: unsupported too, but missing files are reported first
      }, schema),
    );
    expect(error.code).toBe("FILE_NOT_FOUND");
    expect(error.status).toBe(400);
    expect(error.details.map((d) => [d.field, d.code])).toEqual([
      ["input.image", "not_found"],
      ["input.refs[1]", "not_found"],
      ["input.refs[2]", "not_found"],
    ]);
    expect(error.details[1]!.message).toContain("not been uploaded");

    offsetMs = 31 * DAY_MS; // past the 30-day retention
    try {
      const expired = await rejection(Files.resolveInputFiles(ctx, server.orgId, fields, { image: good.file_id }, schema));
      expect(expired.details).toEqual([{ field: "input.image", code: "not_found", message: expect.stringContaining("expired") }]);
    } finally {
      offsetMs = 0;
    }
  });

  test("a type the field does not accept is FILE_FORMAT_UNSUPPORTED, judged by the bytes not the label", async () => {
    const ctx = server.running.ctx;
    const pdfAsPng = await uploadFile(server, PDF, "image/png", "sneaky.png");
    const noiseAsPng = await uploadFile(server, NOISE, "image/png", "broken.png");
    const textForImages = await uploadFile(server, NOISE, "text/plain", "a.txt");
    const pngForNotes = await uploadFile(server, PNG_1x1, "text/plain", "b.txt");
    const error = await rejection(
      Files.resolveInputFiles(ctx, server.orgId, fields, { image: pdfAsPng.file_id, refs: [noiseAsPng.file_id, textForImages.file_id], notes: pngForNotes.file_id }, schema),
    );
    expect(error.code).toBe("FILE_FORMAT_UNSUPPORTED");
    expect(error.details.map((d) => [d.field, d.code])).toEqual([
      ["input.image", "unsupported"],
      ["input.refs[0]", "unsupported"],
      ["input.refs[1]", "unsupported"],
      ["input.notes", "unsupported"],
    ]);
    expect(error.details[0]!.message).toContain("application/pdf");
    expect(error.details[1]!.message).toContain("declared image/png but its bytes are not");
  });
});

test("storeOutput keeps an execution's bytes as an uploaded file of the org, served by the API", async () => {
  const ctx = server.running.ctx;
  const out = await Files.storeOutput(ctx, { orgId: server.orgId, executionId: "exec_01932c5e-7a1b-7000-8000-000000000001", bytes: PNG_1x1, contentType: "image/png", filename: "output-0.png" });
  expect(out).toMatchObject({ file_id: out.id, object: "file", status: "uploaded", size_bytes: PNG_1x1.byteLength, sha256: sha256Hex(PNG_1x1) });
  expect(FilesStore.fileById(ctx.db, out.file_id)?.executionId).toBe("exec_01932c5e-7a1b-7000-8000-000000000001");
  const res = await server.get(`/v1/files/${out.file_id}/download`);
  expect(res.headers.get("content-disposition")).toContain('filename="output-0.png"');
  expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG_1x1);
});

test("purgeExpired deletes blob and row of expired, deleted and abandoned files, and keeps the rest", async () => {
  const purgeServer = await startTestServer({ clock });
  try {
    const ctx = purgeServer.running.ctx;
    const old = await uploadFile(purgeServer, PNG_1x1, "image/png", "old.png");
    const abandoned = await initUpload(purgeServer, { content_type: "image/png", size_bytes: 10 });
    const halfDeleted = await uploadFile(purgeServer, PNG_1x1, "image/png", "gone.png");
    FilesStore.markDeleted(ctx.db, halfDeleted.file_id, purgeServer.orgId, Date.now()); // a DELETE cut short after hiding it
    expect(await Files.purgeExpired(ctx, Date.now())).toBe(1);
    expect(blobsOnDisk(purgeServer.dataDir)).toEqual([`${old.file_id.slice(-2)}/${old.file_id}`]);

    offsetMs = 29 * DAY_MS;
    const fresh = await uploadFile(purgeServer, PNG_1x1, "image/png", "fresh.png");
    offsetMs = 31 * DAY_MS;
    try {
      const shown = await (await purgeServer.get(`/v1/files/${old.file_id}`)).json();
      expect(shown.status).toBe("expired");
      expect((await purgeServer.get(`/v1/files/${old.file_id}/download`)).status).toBe(404);
      expect(await Files.purgeExpired(ctx, clock.now())).toBe(2); // the old file and the abandoned upload
      expect((await purgeServer.get(`/v1/files/${old.file_id}`)).status).toBe(404);
      expect(FilesStore.fileById(ctx.db, abandoned.file_id)).toBeUndefined();
      expect(blobsOnDisk(purgeServer.dataDir)).toEqual([`${fresh.file_id.slice(-2)}/${fresh.file_id}`]);
      expect(await Files.purgeExpired(ctx, clock.now())).toBe(0);
    } finally {
      offsetMs = 0;
    }
  } finally {
    await purgeServer.stop();
  }
});
