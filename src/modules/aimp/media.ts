/**
 * AIMP media uploads over the files module: `init` is a file upload (the same presigned link,
 * local or S3), `complete` checks the bytes that arrived and hands back the `media_ref` that run
 * inputs carry. A media upload is a file: its `media_ref` is the file id, so it also shows in
 * `/v1/files` and works in `/v1/executions` input. The upload id is the file's UUID under the
 * gateway's `studio_upload_` prefix.
 */
import type { AppContext } from "../../context";
import { AppError, invalidField, invalidFields, type FieldIssue } from "../../errors";
import * as Files from "../files/service";
import { canonicalMediaType, isSniffable, SNIFF_BYTES, sniffMediaType } from "../files/sniff";

export const MEDIA_TYPES = ["image", "audio", "video", "file"] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

const UPLOAD_PREFIX = "studio_upload_";

export const uploadIdOf = (fileId: string) => UPLOAD_PREFIX + fileId.slice("file_".length);
const fileIdOf = (uploadId: string) => `file_${uploadId.slice(UPLOAD_PREFIX.length)}`;

/** image/*, audio/*, video/* are those media types; everything else (PDF, text, JSON) is a file. */
export function mediaTypeOf(contentType: string): MediaType {
  const family = canonicalMediaType(contentType).split("/")[0];
  return family === "image" || family === "audio" || family === "video" ? family : "file";
}

export type InitBody = { filename: string; content_type: string; media_type: string; size_bytes: number };

export async function initUpload(ctx: AppContext, orgId: string, body: InitBody) {
  const issues: FieldIssue[] = [];
  if (!(MEDIA_TYPES as readonly string[]).includes(body.media_type))
    issues.push({ field: "media_type", code: "invalid_format", message: `media_type is one of ${MEDIA_TYPES.join(", ")}.` });
  else if (mediaTypeOf(body.content_type) !== body.media_type)
    issues.push({ field: "media_type", code: "invalid_format", message: `A ${body.content_type} upload is media_type ${mediaTypeOf(body.content_type)}, not ${body.media_type}.` });
  if (issues.length) throw invalidFields(issues);
  const upload = await Files.createUpload(ctx, orgId, { filename: body.filename, content_type: body.content_type, size_bytes: body.size_bytes });
  return {
    object: "media_upload" as const,
    upload_id: uploadIdOf(upload.file_id),
    upload_url: upload.upload_url,
    upload_method: "PUT" as const,
    upload_headers: { "Content-Type": body.content_type },
    expires_at: upload.expires_at,
  };
}

/** The file's first bytes, for the magic-byte check. */
async function headOf(ctx: AppContext, orgId: string, fileId: string): Promise<Uint8Array> {
  const download = await Files.download(ctx, orgId, fileId, `bytes=0-${SNIFF_BYTES - 1}`);
  return new Uint8Array(await new Response(download.body).arrayBuffer()).subarray(0, SNIFF_BYTES);
}

/**
 * Confirms the upload and checks that its bytes are what was declared: a type the magic bytes
 * recognise must be exactly the declared one, and bytes of a recognisable format may not pass as
 * another (text, JSON). A file that fails is deleted; upload it again.
 */
export async function completeUpload(ctx: AppContext, orgId: string, uploadId: string) {
  const notReceived = () =>
    new AppError("NOT_FOUND", `No received upload ${uploadId}: start one with POST /api/media/upload/init and PUT the bytes to its upload_url first.`);
  if (!uploadId.startsWith(UPLOAD_PREFIX)) throw notReceived();
  const fileId = fileIdOf(uploadId);
  let file: Files.FileView;
  try {
    file = await Files.getFile(ctx, orgId, fileId);
  } catch (e) {
    if (e instanceof AppError && e.code === "NOT_FOUND") throw notReceived();
    throw e;
  }
  if (file.status !== "uploaded") throw new AppError("NOT_FOUND", `Upload ${uploadId} is ${file.status}; start a new one.`);
  const declared = canonicalMediaType(file.content_type);
  const sniffed = sniffMediaType(await headOf(ctx, orgId, fileId));
  const agrees = sniffed !== null ? sniffed === declared : !isSniffable(declared);
  if (!agrees) {
    await Files.deleteFile(ctx, orgId, fileId);
    throw new AppError("FILE_FORMAT_UNSUPPORTED", `The bytes of upload ${uploadId} are ${sniffed ?? "not a recognised format"}, not the declared ${declared}; the upload was discarded.`, [
      { field: "upload_id", code: "unsupported", message: `Declared ${declared}, received ${sniffed ?? "unrecognised bytes"}.` },
    ]);
  }
  return {
    object: "media" as const,
    media_ref: file.id,
    upload_id: uploadId,
    media_type: mediaTypeOf(declared),
    filename: file.filename,
    content_type: file.content_type,
    size_bytes: file.size_bytes,
    sha256: file.sha256,
    created_at: file.created_at,
    expires_at: file.expires_at,
  };
}

