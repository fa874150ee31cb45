/**
 * Files (docs/architecture.md and docs/decisions.md "Files"): presigned uploads, metadata, downloads and
 * presigned download links, on the configured FileStore.
 *
 * Invariants: a row is `pending` until its bytes are confirmed (local: the PUT the binary
 * received was exactly `size_bytes`; S3: a HeadObject shows the declared size and type), and only
 * then `uploaded`. Pending, deleted, foreign and unknown files look the same to the API: 404.
 * While a file is pending, `expires_at` holds its upload link's expiry; once uploaded, the
 * retention deadline (MODELROUTE_FILE_RETENTION_DAYS after upload, null = kept).
 */
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import { isId, newId } from "../../ids";
import { pageRequest, toList } from "../../http/pagination";
import { BlobNotFoundError, contentDisposition, SizeMismatchError } from "../../storage";
import { fileStore, localStore, storeFor } from "./backend";
import type { FilesModel } from "./model";
import { decideRange } from "./range";
import { canonicalMediaType } from "./sniff";
import * as store from "./store";
import type { FileRow } from "./store";
import { DAY_MS, iso } from "../../time";

/** Media types an upload may declare; anything else is refused at POST /v1/files/upload. */
export const ACCEPTED_CONTENT_TYPES = [
  "image/png", "image/jpeg", "image/webp", "image/gif",
  "application/pdf",
  "audio/wav", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/flac", "audio/webm",
  "video/mp4", "video/webm", "video/quicktime",
  "text/plain", "text/csv", "text/markdown", "application/json", "application/x-ndjson",
] as const;


export type FileView = {
  id: string;
  object: "file";
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string | null;
  status: "pending" | "uploaded" | "failed" | "expired";
  created_at: string;
  expires_at: string | null;
};

/** Link expiries are whole seconds: local links and S3 both carry seconds. */
const wholeSeconds = (ms: number) => Math.floor(ms / 1000) * 1000;

export const isExpired = (row: FileRow, now: number) => row.status === "uploaded" && row.expiresAt !== null && row.expiresAt <= now;

export function fileView(row: FileRow, now: number): FileView {
  return {
    id: row.id,
    object: "file",
    filename: row.filename,
    content_type: row.contentType,
    size_bytes: row.sizeBytes,
    sha256: row.sha256,
    status: isExpired(row, now) ? "expired" : row.status,
    created_at: iso(row.createdAt),
    expires_at: row.expiresAt === null ? null : iso(row.expiresAt),
  };
}

/** When a file uploaded now is deleted; null when retention is off. */
export const retentionDeadline = (ctx: AppContext, uploadedAt: number) =>
  ctx.config.fileRetentionDays > 0 ? uploadedAt + ctx.config.fileRetentionDays * DAY_MS : null;

const notFound = (id: string) => new AppError("NOT_FOUND", `No file ${id}.`);

export async function createUpload(ctx: AppContext, orgId: string, body: FilesModel.uploadBody) {
  if (/[\u0000-\u001f\u007f/\\]/.test(body.filename))
    throw invalidField("filename", "invalid_format", "The filename may not contain control characters, / or \\.");
  if (!(ACCEPTED_CONTENT_TYPES as readonly string[]).includes(canonicalMediaType(body.content_type)))
    throw invalidField("content_type", "unsupported", `Content type ${JSON.stringify(body.content_type)} is not accepted; use one of: ${ACCEPTED_CONTENT_TYPES.join(", ")}.`);
  const files = fileStore(ctx);
  const id = newId("file");
  const now = ctx.clock.now();
  const linkExpiresAt = wholeSeconds(now + ctx.config.uploadUrlTtlSeconds * 1000);
  store.insertFile(ctx.db, {
    id,
    orgId,
    filename: body.filename,
    contentType: body.content_type,
    sizeBytes: body.size_bytes,
    status: "pending",
    backend: files.backend,
    storageKey: id,
    createdAt: now,
    expiresAt: linkExpiresAt,
  });
  const uploadUrl = await files.presignUpload(id, { sizeBytes: body.size_bytes, contentType: body.content_type, expiresAtMs: linkExpiresAt });
  return { file_id: id, upload_url: uploadUrl, expires_at: iso(linkExpiresAt) };
}

/** Uploads in progress in this process: a second PUT of the same file waits its turn (409). */
const uploading = new WeakMap<AppContext, Set<string>>();

/**
 * Receives the bytes of a local upload link (`PUT {upload_url}`): the signed, unexpired link is
 * the credential. The body is streamed to disk and must be exactly `size_bytes` long.
 */
export async function receiveUpload(
  ctx: AppContext,
  fileId: string,
  link: { expires?: string; signature?: string },
  request: { contentType: string | null; contentLength: string | null; body: ReadableStream<Uint8Array> | null },
): Promise<FileView> {
  const files = localStore(ctx);
  const verdict = files.verifyLink("PUT", fileId, link, ctx.clock.now());
  if (verdict === "invalid") throw new AppError("FORBIDDEN", "This upload link is not valid: it was changed or is incomplete.");
  if (verdict === "expired") throw new AppError("FORBIDDEN", "This upload link has expired; ask for a new one with POST /v1/files/upload.");
  const row = store.fileById(ctx.db, fileId);
  if (!row) throw notFound(fileId);
  if (row.status !== "pending") throw new AppError("CONFLICT", `File ${fileId} is already ${row.status}; upload a new file instead.`);
  if (canonicalMediaType(request.contentType ?? "") !== canonicalMediaType(row.contentType))
    throw invalidField("Content-Type", "invalid_format", `Send Content-Type: ${row.contentType}, as declared for this upload.`);
  const declaredLength = request.contentLength === null ? null : Number(request.contentLength);
  if (declaredLength !== null && declaredLength !== row.sizeBytes)
    throw invalidField("Content-Length", declaredLength > row.sizeBytes ? "too_long" : "too_short", `The body must be exactly ${row.sizeBytes} bytes, as declared; Content-Length says ${request.contentLength}.`);

  let inFlight = uploading.get(ctx);
  if (!inFlight) uploading.set(ctx, (inFlight = new Set()));
  if (inFlight.has(fileId)) throw new AppError("CONFLICT", `An upload of ${fileId} is already in progress.`);
  inFlight.add(fileId);
  try {
    const stored = await files.put(row.storageKey, request.body ?? new Uint8Array(0), { sizeBytes: row.sizeBytes, contentType: row.contentType });
    const now = ctx.clock.now();
    const uploaded = store.markUploaded(ctx.db, fileId, { sha256: stored.sha256, uploadedAt: now, expiresAt: retentionDeadline(ctx, now) });
    if (!uploaded) {
      await files.delete(row.storageKey); // deleted while the bytes were arriving
      throw notFound(fileId);
    }
    return fileView(uploaded, now);
  } catch (e) {
    if (e instanceof SizeMismatchError) throw invalidField("body", e.tooLong ? "too_long" : "too_short", e.message);
    throw e;
  } finally {
    inFlight.delete(fileId);
  }
}

/**
 * Confirms a pending S3 upload with a HeadObject: the declared size and type → uploaded;
 * something else → failed (and the object removed); nothing there yet → still pending.
 */
export async function confirmUpload(ctx: AppContext, row: FileRow): Promise<FileRow> {
  if (row.status !== "pending" || row.backend !== "s3") return row;
  const files = storeFor(ctx, row);
  if (!files) return row;
  const head = await files.head(row.storageKey);
  if (!head) return row;
  const now = ctx.clock.now();
  const matches = head.sizeBytes === row.sizeBytes && canonicalMediaType(head.contentType ?? "") === canonicalMediaType(row.contentType);
  if (matches) return store.markUploaded(ctx.db, row.id, { sha256: null, uploadedAt: now, expiresAt: retentionDeadline(ctx, now) }) ?? store.fileById(ctx.db, row.id) ?? row;
  ctx.log.warn("files: stored object differs from the declared upload", { file_id: row.id, declared_bytes: row.sizeBytes, stored_bytes: head.sizeBytes, stored_type: head.contentType });
  const failed = store.markFailed(ctx.db, row.id);
  await files.delete(row.storageKey);
  return failed ?? row;
}

/** The org's file as the API shows it (pending ones confirmed first), or 404. */
export async function visibleFile(ctx: AppContext, orgId: string, fileId: string): Promise<FileRow> {
  if (!isId("file", fileId)) throw notFound(fileId);
  let row = store.fileById(ctx.db, fileId);
  if (!row || row.orgId !== orgId) throw notFound(fileId);
  row = await confirmUpload(ctx, row);
  if (row.status === "pending") throw notFound(fileId);
  return row;
}

export async function getFile(ctx: AppContext, orgId: string, fileId: string): Promise<FileView> {
  return fileView(await visibleFile(ctx, orgId, fileId), ctx.clock.now());
}

export function listFiles(ctx: AppContext, orgId: string, query: { limit?: number; starting_after?: string; ending_before?: string }) {
  const page = pageRequest(query);
  const now = ctx.clock.now();
  return toList(store.listPage(ctx.db, orgId, page), page, (row) => fileView(row, now));
}

/** Hides the file at once, then removes its bytes and its row (purgeExpired finishes the job if this is cut short). */
export async function deleteFile(ctx: AppContext, orgId: string, fileId: string) {
  const row = await visibleFile(ctx, orgId, fileId);
  if (!store.markDeleted(ctx.db, row.id, orgId, ctx.clock.now())) throw notFound(fileId);
  await storeFor(ctx, row)?.delete(row.storageKey);
  store.removeRow(ctx.db, row.id);
  return { id: row.id, object: "file" as const, deleted: true as const };
}

/** Throws 404 unless the bytes can be served: uploaded, not expired, on the configured backend. */
function assertDownloadable(ctx: AppContext, row: FileRow) {
  if (row.status === "failed") throw new AppError("NOT_FOUND", `File ${row.id} failed to upload; its bytes are not available.`);
  if (isExpired(row, ctx.clock.now())) throw new AppError("NOT_FOUND", `File ${row.id} has expired.`);
  const files = storeFor(ctx, row);
  if (!files) throw new AppError("NOT_FOUND", `File ${row.id} is stored on the ${row.backend} backend, which this server is not configured for.`);
  return files;
}

export type Download = { status: 200 | 206; headers: Record<string, string>; body: ReadableStream<Uint8Array> };

async function openDownload(ctx: AppContext, row: FileRow, rangeHeader: string | undefined): Promise<Download> {
  const files = assertDownloadable(ctx, row);
  const decision = decideRange(rangeHeader, row.sizeBytes);
  if (decision.kind === "unsatisfiable")
    throw new AppError("RANGE_NOT_SATISFIABLE", `The range ${rangeHeader} starts past the end of the ${row.sizeBytes}-byte file.`, [], {
      "content-range": `bytes */${row.sizeBytes}`,
    });
  const range = decision.kind === "partial" ? decision.range : undefined;
  const headers: Record<string, string> = {
    "content-type": row.contentType,
    "content-disposition": contentDisposition(row.filename),
    "content-length": String(range ? range.end - range.start + 1 : row.sizeBytes),
    "accept-ranges": "bytes",
    "cache-control": "private, max-age=0",
  };
  if (row.sha256) headers.etag = `"${row.sha256}"`;
  if (range) headers["content-range"] = `bytes ${range.start}-${range.end}/${row.sizeBytes}`;
  try {
    const body = await files.read(row.storageKey, range);
    // Bun applies a request's Range itself to a file's stream sent whole, by rules of its own (a
    // bare 416 for `bytes=5-1`, which RFC 9110 ignores): when this one ignored the Range, it goes
    // through a pipe Bun cannot see into.
    return { status: range ? 206 : 200, headers, body: rangeHeader && !range ? body.pipeThrough(new TransformStream()) : body };
  } catch (error) {
    if (!(error instanceof BlobNotFoundError)) throw error;
    // Deleted while this request ran, or bytes lost (a restore without <data-dir>/files): gone for the client, noted for the operator.
    ctx.log.warn("file bytes missing", { file_id: row.id, storage_key: row.storageKey });
    throw notFound(row.id);
  }
}

/** `GET /v1/files/{id}/download` for the org's own file. */
export async function download(ctx: AppContext, orgId: string, fileId: string, rangeHeader: string | undefined): Promise<Download> {
  return openDownload(ctx, await visibleFile(ctx, orgId, fileId), rangeHeader);
}

/**
 * The org's file sent whole as part of another answer (batch results, speech), whatever Range the
 * request carried: through a pipe, since Bun would apply that Range to a file's stream itself by
 * its own rules (a bare 416 for `bytes=-0`).
 */
export async function downloadWhole(ctx: AppContext, orgId: string, fileId: string): Promise<Download> {
  const whole = await download(ctx, orgId, fileId, undefined);
  return { ...whole, body: whole.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>()) };
}

/** `GET {url}` of a local download link: the signed, unexpired link is the credential. */
export async function downloadByLink(ctx: AppContext, fileId: string, link: { expires?: string; signature?: string }, rangeHeader: string | undefined) {
  const verdict = localStore(ctx).verifyLink("GET", fileId, link, ctx.clock.now());
  if (verdict === "invalid") throw new AppError("FORBIDDEN", "This download link is not valid: it was changed or is incomplete.");
  if (verdict === "expired") throw new AppError("FORBIDDEN", "This download link has expired; ask for a new one with GET /v1/files/{id}/url.");
  const row = store.fileById(ctx.db, fileId);
  if (!row || row.status === "pending") throw notFound(fileId);
  return openDownload(ctx, row, rangeHeader);
}

/** A presigned download link for the org's file (local: served by this binary; S3: the bucket's own). */
export async function downloadUrl(ctx: AppContext, orgId: string, fileId: string) {
  const row = await visibleFile(ctx, orgId, fileId);
  return presignedDownload(ctx, row);
}

export async function presignedDownload(ctx: AppContext, row: FileRow) {
  const files = assertDownloadable(ctx, row);
  let expiresAt = wholeSeconds(ctx.clock.now() + ctx.config.downloadUrlTtlSeconds * 1000);
  if (row.expiresAt !== null) expiresAt = Math.min(expiresAt, wholeSeconds(row.expiresAt)); // not past the file's own life
  const url = await files.presignDownload(row.storageKey, { filename: row.filename, contentType: row.contentType, expiresAtMs: expiresAt });
  return { url, expires_at: iso(expiresAt) };
}

/** What a file made by the gateway itself (not a presigned upload) is. */
type NewFile = { orgId: string; filename: string; contentType: string; purpose?: string | null; executionId?: string | null; expiresAt?: number | null };

/**
 * Writes a new file owned by the org on the configured backend and returns its row. The row is
 * pending while the bytes are written, so a crash leaves nothing visible and the purge removes the
 * remains. `expiresAt` undefined: the retention deadline; null: kept.
 */
async function putNewFile(ctx: AppContext, meta: NewFile, body: ReadableStream<Uint8Array> | Uint8Array, sizeBytes: number): Promise<FileRow> {
  const files = fileStore(ctx);
  const id = newId("file");
  const startedAt = ctx.clock.now();
  store.insertFile(ctx.db, {
    id,
    orgId: meta.orgId,
    filename: meta.filename,
    contentType: meta.contentType,
    sizeBytes,
    status: "pending",
    backend: files.backend,
    storageKey: id,
    executionId: meta.executionId ?? null,
    purpose: meta.purpose ?? null,
    createdAt: startedAt,
    expiresAt: startedAt,
  });
  let stored;
  try {
    stored = await files.put(id, body, { sizeBytes, contentType: meta.contentType });
  } catch (error) {
    // No row without its bytes (a full disk, a read-only one); if this delete fails too, the purge removes the row.
    try {
      store.removeRow(ctx.db, id);
    } catch {}
    throw error;
  }
  const now = ctx.clock.now();
  const row = store.markUploaded(ctx.db, id, { sha256: stored.sha256, uploadedAt: now, expiresAt: meta.expiresAt === undefined ? retentionDeadline(ctx, now) : meta.expiresAt });
  if (!row) throw new Error(`file ${id} vanished while its bytes were written`);
  return row;
}

/** Stores an execution's output bytes as a file owned by the org (on the configured backend) and returns it. */
export async function storeOutput(
  ctx: AppContext,
  output: { orgId: string; executionId: string; bytes: Uint8Array; contentType: string; filename: string },
): Promise<FileView & { file_id: string }> {
  const row = await putNewFile(ctx, output, output.bytes, output.bytes.byteLength);
  return { file_id: row.id, ...fileView(row, ctx.clock.now()) };
}

/**
 * Stores bytes a request carried (a multipart upload of a compatible surface) as a file of the
 * org, so an execution can take it as a `file_…` input; kept and purged like any upload.
 */
export async function storeInput(ctx: AppContext, input: { orgId: string; bytes: Uint8Array; contentType: string; filename: string }): Promise<FileView & { file_id: string }> {
  const row = await putNewFile(ctx, { ...input, executionId: null }, input.bytes, input.bytes.byteLength);
  return { file_id: row.id, ...fileView(row, ctx.clock.now()) };
}

export type Spooled = { path: string; sizeBytes: number; discard(): Promise<void> };

/**
 * Spools bytes whose length is known only at their end (a multipart upload, a batch's output) to
 * `<data-dir>/files/.incoming`, counted against `maxBytes` (413 past it): never held in memory
 * whole. Call discard() once stored (storeSpooled does not).
 */
export async function spool(ctx: AppContext, chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Spooled> {
  const spoolDir = join(ctx.config.dataDir, "files", ".incoming");
  await mkdir(spoolDir, { recursive: true });
  const path = join(spoolDir, `${newId("file")}.spool`);
  const discard = () => rm(path, { force: true });
  const handle = await open(path, "wx", 0o600);
  let sizeBytes = 0;
  try {
    for await (const chunk of chunks) {
      sizeBytes += chunk.byteLength;
      if (sizeBytes > maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `The file is larger than ${maxBytes} bytes.`);
      for (let offset = 0; offset < chunk.byteLength; ) offset += (await handle.write(chunk, offset)).bytesWritten;
    }
  } catch (error) {
    await handle.close();
    await discard();
    throw error;
  }
  await handle.close();
  return { path, sizeBytes, discard };
}

/** Writes spooled bytes as a new file of the org, with their exact size. */
export const storeSpooled = (ctx: AppContext, meta: NewFile, spooled: Spooled) => putNewFile(ctx, meta, Bun.file(spooled.path).stream(), spooled.sizeBytes);

/** spool() then storeSpooled(), the spool removed either way. */
export async function storeStreamed(ctx: AppContext, meta: NewFile, chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<FileRow> {
  const spooled = await spool(ctx, chunks, maxBytes);
  try {
    return await storeSpooled(ctx, meta, spooled);
  } finally {
    await spooled.discard();
  }
}

/** The org's file by id with its bytes as a stream, for a service that reads a file it was given (a batch's input). */
export async function openFile(ctx: AppContext, orgId: string, fileId: string): Promise<{ row: FileRow; body: ReadableStream<Uint8Array> }> {
  const row = await visibleFile(ctx, orgId, fileId);
  const download = await openDownload(ctx, row, undefined);
  return { row, body: download.body };
}

/** A page of the org's files for OpenAI's list: `after` an id, in `order`, optionally of one purpose. */
export const listByPurpose = (ctx: AppContext, orgId: string, query: store.PurposePage) => store.listByPurpose(ctx.db, orgId, query);

export { resolveInputFiles, type ResolvedFile } from "./inputs";
export { purgeExpired, sweepUploads, type SweepResult } from "./maintenance";
