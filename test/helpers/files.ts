/** Helpers for file tests: upload through the real API, and list what a data dir holds on disk. */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { insertOrg } from "../../src/modules/orgs/store";
import { issueKey } from "../../src/modules/keys/service";
import { newId } from "../../src/ids";
import type { TestServer } from "./server";

export type UploadInit = { file_id: string; upload_url: string; expires_at: string };

export async function initUpload(server: TestServer, file: { filename?: string; content_type: string; size_bytes: number }, key?: string): Promise<UploadInit> {
  const res = await server.post("/v1/files/upload", { filename: "file.bin", ...file }, key);
  if (res.status !== 200) throw new Error(`upload init answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as UploadInit;
}

/** Registers and uploads `bytes`; returns the file object the PUT answered with. */
export async function uploadFile(server: TestServer, bytes: Uint8Array, contentType: string, filename = "file.bin", key?: string) {
  const init = await initUpload(server, { filename, content_type: contentType, size_bytes: bytes.byteLength }, key);
  const res = await fetch(init.upload_url, { method: "PUT", body: bytes, headers: { "content-type": contentType } });
  if (res.status !== 200) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
  return { ...init, file: await res.json() };
}

/** Every regular file under <data-dir>/files, temp files included, relative to it. */
export function blobsOnDisk(dataDir: string): string[] {
  const root = join(dataDir, "files");
  try {
    return (readdirSync(root, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(root.length + 1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/** A second organization with a full key, made in the server's database. */
export function otherOrg(server: TestServer): { orgId: string; key: string } {
  const orgId = newId("org");
  const now = Date.now();
  const key = server.running.ctx.db.transaction((tx) => {
    insertOrg(tx, { id: orgId, name: `other-${orgId.slice(-6)}`, createdAt: now });
    return issueKey(tx, { orgId, name: "other", permission: "full" }, now).key;
  });
  return { orgId, key };
}

/** A stream that delivers `bytes` in pieces, so fetch sends it chunked, without Content-Length. */
export function chunked(bytes: Uint8Array, pieceBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + pieceBytes));
      offset += pieceBytes;
    },
  });
}

export const sha256Hex = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

export const PNG_1x1 = Uint8Array.from(
  Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64"),
);
