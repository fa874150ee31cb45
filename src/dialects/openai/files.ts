/**
 * OpenAI's Files API on the gateway's own file store (docs/decisions.md "OpenAI files beside the
 * native files API"): the multipart upload of `POST /v1/files`, OpenAI's file object and list,
 * and the rule that decides which of the two shapes a shared `/v1/files` route answers in.
 */
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import { boundaryOf, readMultipart, type MultipartEvent } from "../../http/multipart";
import * as Files from "../../modules/files/service";
import type { FileRow } from "../../modules/files/store";
import { MAX_FILE_BYTES } from "../../modules/files/model";
import { openaiUnknown } from "../body";

/** The purposes OpenAI documents for uploads; `batch_output` is written by batches only. */
export const UPLOAD_PURPOSES = ["assistants", "batch", "fine-tune", "vision", "user_data", "evals"] as const;
/** OpenAI's limit for batch input files (512 MB); other purposes keep the native 150 MiB. */
export const MAX_BATCH_FILE_BYTES = 512 * 1024 * 1024;
const MAX_FIELD_BYTES = 4096;
const EXPIRY_SECONDS = { min: 3600, max: 2_592_000 };

const seconds = (ms: number) => Math.floor(ms / 1000);

/** A file as OpenAI's FileObject; a native upload (no purpose) reads as `user_data`. */
export function openaiFileView(row: FileRow, now: number) {
  const expired = Files.isExpired(row, now);
  return {
    id: row.id,
    object: "file" as const,
    bytes: row.sizeBytes,
    created_at: seconds(row.createdAt),
    filename: row.filename,
    purpose: row.purpose ?? "user_data",
    status: row.status === "failed" || expired ? ("error" as const) : ("processed" as const),
    expires_at: row.expiresAt === null ? null : seconds(row.expiresAt),
    status_details: expired ? "The file has expired." : null,
  };
}

/** Parameters only OpenAI's list takes; any of them makes `GET /v1/files` answer in OpenAI's shape. */
const OPENAI_LIST_PARAMS = ["purpose", "order", "after"] as const;

/** True when the request comes from an official OpenAI SDK: every one sends `X-Stainless-Lang`. */
export const fromOpenAISdk = (headers: Headers) => headers.has("x-stainless-lang");

/**
 * True when a request on a shared `/v1/files` route is answered in OpenAI's shape: it comes from
 * an OpenAI SDK, it names one of OpenAI's list parameters, or the file it is about was made on
 * the OpenAI surface (it has a purpose).
 */
export function wantsOpenAIShape(headers: Headers, query: Record<string, unknown> = {}, row?: FileRow): boolean {
  return fromOpenAISdk(headers) || OPENAI_LIST_PARAMS.some((p) => query[p] !== undefined) || Boolean(row?.purpose);
}

/**
 * True when `GET /v1/files/{id}/content` without a signed link is OpenAI's `files.content`: the
 * SDK asks for `Accept: application/binary` (and sends X-Stainless-Lang). The route also takes a
 * request with an API key and no link parameters as one (src/modules/files/index.ts).
 */
export const isOpenAIContentRequest = (headers: Headers) => fromOpenAISdk(headers) || /application\/binary/i.test(headers.get("accept") ?? "");

export type OpenAIListQuery = { purpose?: string; order?: "asc" | "desc"; after?: string; limit?: number };

export function listFiles(ctx: AppContext, orgId: string, query: OpenAIListQuery) {
  const limit = query.limit ?? 10_000;
  const rows = Files.listByPurpose(ctx, orgId, { purpose: query.purpose, after: query.after, limit, order: query.order ?? "desc" });
  const now = ctx.clock.now();
  const data = rows.slice(0, limit).map((row) => openaiFileView(row, now));
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: rows.length > limit };
}

/** The bytes of the next part, up to its end. */
async function* partBytes(events: AsyncGenerator<MultipartEvent>): AsyncGenerator<Uint8Array> {
  for (;;) {
    const { value, done } = await events.next();
    if (done || value.type === "part") throw invalidField("body", "invalid_format", "The multipart body is malformed: a part does not end.");
    if (value.type === "end") return;
    yield value.bytes;
  }
}

async function fieldText(events: AsyncGenerator<MultipartEvent>, name: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const bytes of partBytes(events)) {
    size += bytes.byteLength;
    if (size > MAX_FIELD_BYTES) throw invalidField(name, "too_long", `${name} is longer than ${MAX_FIELD_BYTES} bytes.`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function expiryOf(fields: Map<string, string>, createdAt: number): number | undefined {
  const anchor = fields.get("expires_after[anchor]");
  const secondsText = fields.get("expires_after[seconds]");
  if (anchor === undefined && secondsText === undefined) return undefined;
  if (anchor !== "created_at") throw invalidField("expires_after.anchor", "invalid_format", 'expires_after[anchor] must be "created_at".');
  const n = Number(secondsText);
  if (!Number.isInteger(n) || n < EXPIRY_SECONDS.min || n > EXPIRY_SECONDS.max)
    throw invalidField("expires_after.seconds", "out_of_range", `expires_after[seconds] must be an integer from ${EXPIRY_SECONDS.min} to ${EXPIRY_SECONDS.max}.`);
  return createdAt + n * 1000;
}

/**
 * `POST /v1/files`: reads the multipart body as it arrives (the `file` part spooled to disk, at
 * most 512 MiB for `purpose: batch`, 150 MiB otherwise), then stores it as the org's file.
 */
export async function uploadFile(ctx: AppContext, orgId: string, request: Request) {
  const boundary = boundaryOf(request.headers.get("content-type"));
  if (!boundary || !request.body)
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send the file as multipart/form-data with the fields file and purpose.", [
      { field: "Content-Type", code: "unsupported", message: "Expected multipart/form-data with a boundary." },
    ]);
  const events = readMultipart(request.body, boundary);
  const fields = new Map<string, string>();
  let file: { spooled: Files.Spooled; filename: string; contentType: string | null } | null = null;
  try {
    for (;;) {
      const { value, done } = await events.next();
      if (done) break;
      if (value.type !== "part") continue;
      const { name, filename, contentType } = value.part;
      if (name === "file") {
        if (file) throw invalidField("file", "invalid_format", "Send one file per request.");
        const spooled = await Files.spool(ctx, partBytes(events), MAX_BATCH_FILE_BYTES);
        file = { spooled, filename: filename ?? "file", contentType };
      } else if (name === "purpose" || name === "expires_after[anchor]" || name === "expires_after[seconds]") fields.set(name, await fieldText(events, name));
      else throw invalidField(name, "unknown_field", openaiUnknown(name));
    }
    const purpose = fields.get("purpose");
    if (purpose === undefined) throw invalidField("purpose", "required", "purpose is required.");
    if (!(UPLOAD_PURPOSES as readonly string[]).includes(purpose)) throw invalidField("purpose", "invalid_format", `purpose must be one of ${UPLOAD_PURPOSES.join(", ")}.`);
    if (!file) throw invalidField("file", "required", "file is required.");
    if (purpose !== "batch" && file.spooled.sizeBytes > MAX_FILE_BYTES) throw new AppError("PAYLOAD_TOO_LARGE", `Files of purpose ${purpose} are at most ${MAX_FILE_BYTES} bytes; batch input files up to ${MAX_BATCH_FILE_BYTES}.`);
    if (file.spooled.sizeBytes === 0) throw invalidField("file", "too_short", "The file is empty.");
    if (/[\u0000-\u001f\u007f/\\]/.test(file.filename)) throw invalidField("file", "invalid_format", "The filename may not contain control characters, / or \\.");
    const createdAt = ctx.clock.now();
    const contentType = purpose === "batch" ? "application/jsonl" : (file.contentType ?? "application/octet-stream");
    const row = await Files.storeSpooled(ctx, { orgId, filename: file.filename, contentType, purpose, expiresAt: expiryOf(fields, createdAt) }, file.spooled);
    return openaiFileView(row, ctx.clock.now());
  } finally {
    await file?.spooled.discard();
  }
}
