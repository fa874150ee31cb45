/**
 * Multipart bodies of the compatible surfaces (audio transcriptions, image edits): read within a
 * bound as the bytes arrive (413 past it), parsed, fingerprinted for Idempotency-Key by their
 * fields and the files' digests (a client's retry picks a new boundary, not new content), and
 * each uploaded file stored as a file of the organization, the `file_…` input its execution takes.
 */
import type { AppContext } from "../context";
import { AppError, invalidField } from "../errors";
import { readLimited, setBodyFingerprint } from "../http/body";
import * as Files from "../modules/files/service";
import { canonicalMediaType, sniffMediaType } from "../modules/files/sniff";

/** The largest multipart body: OpenAI's own limit for an audio file, 25 MB. */
export const MULTIPART_LIMIT_BYTES = 25 * 1024 * 1024;

/** Fields by name; a name sent more than once, or with `[]` (`timestamp_granularities[]`), is a list. */
export type FormFields = Record<string, string | File | (string | File)[]>;

const sha256 = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");

export async function readForm(request: Request): Promise<FormFields> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!/^multipart\/form-data\s*;/i.test(contentType))
    throw new AppError("UNSUPPORTED_MEDIA_TYPE", "Send this request as multipart/form-data.", [
      { field: "Content-Type", code: "unsupported", message: `Expected multipart/form-data, got ${JSON.stringify(contentType)}.` },
    ]);
  const bytes = await readLimited(request, MULTIPART_LIMIT_BYTES);
  let entries: [string, string | File][];
  try {
    const form = await new Response(bytes, { headers: { "content-type": contentType } }).formData();
    entries = [...(form as unknown as Iterable<[string, string | File]>)];
  } catch {
    throw invalidField("body", "invalid_format", "The body is not valid multipart/form-data.");
  }
  const fields: FormFields = {};
  const fingerprint = new Bun.CryptoHasher("sha256");
  for (const [rawName, value] of entries) {
    const listed = rawName.endsWith("[]");
    const name = listed ? rawName.slice(0, -2) : rawName;
    fingerprint.update(`${rawName}\u0000${typeof value === "string" ? value : `file:${value.type}:${value.name}:${sha256(await value.bytes())}`}\u0001`);
    const existing = fields[name];
    if (existing === undefined) fields[name] = listed ? [value] : value;
    else fields[name] = [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  setBodyFingerprint(request, fingerprint.digest("hex"));
  return fields;
}

/** A text field, or undefined; 400 naming it when it is a file or sent twice. */
export function textField(fields: FormFields, name: string): string | undefined {
  const value = fields[name];
  if (value === undefined || typeof value === "string") return value;
  throw invalidField(name, "invalid_type", `${name} must be a text field, sent once.`);
}

/** The files sent as `name` (or `name[]`), in order; 400 naming it when one is text. */
export function fileFields(fields: FormFields, name: string): File[] {
  const value = fields[name];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  if (list.some((v) => typeof v === "string")) throw invalidField(name, "invalid_type", `${name} must be a file upload.`);
  return list as File[];
}

/** A number field (`temperature=0.2`); 400 naming it when it is not one. */
export function numberField(fields: FormFields, name: string): number | undefined {
  const text = textField(fields, name);
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw invalidField(name, "invalid_type", `${name} must be a number.`);
  return value;
}

/** Stores an uploaded file for the caller's org; returns its id. The type is the one its bytes show, else the declared one. */
export async function storeUploaded(ctx: AppContext, orgId: string, file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const contentType = sniffMediaType(bytes) ?? (file.type ? canonicalMediaType(file.type) : "application/octet-stream");
  const filename = file.name.replace(/[\u0000-\u001f\u007f/\\]/g, "_").slice(0, 255) || "upload";
  return (await Files.storeInput(ctx, { orgId, bytes, contentType, filename })).file_id;
}
