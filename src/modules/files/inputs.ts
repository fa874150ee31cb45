/**
 * `file_…` references inside execution input (docs/architecture.md "Life of an execution", step 1): each must be an
 * uploaded file of the caller's org (else FILE_NOT_FOUND), of a type the model's schema accepts
 * by its real bytes (else FILE_FORMAT_UNSUPPORTED); `details[].field` names the input path.
 */
import type { AppContext } from "../../context";
import { AppError, invalidFields, type FieldIssue } from "../../errors";
import { isId } from "../../ids";
import { BlobNotFoundError } from "../../storage";
import { storeFor } from "./backend";
import { confirmUpload, isExpired, presignedDownload } from "./service";
import { accepts, canonicalMediaType, isSniffable, sniffMediaType, SNIFF_BYTES } from "./sniff";
import * as store from "./store";

/** What a provider adapter needs of an input file: a URL to hand upstream, or the bytes. */
export type ResolvedFile = {
  /** Where it was referenced: `input.image`, `input.images[1]`. */
  field: string;
  fileId: string;
  filename: string;
  /** The real media type when the bytes are recognised, else the declared one. */
  contentType: string;
  sizeBytes: number;
  sha256: string | null;
  /** A presigned GET link (local: served by this binary at MODELROUTE_PUBLIC_URL; S3: the bucket's). */
  url: string;
  urlExpiresAt: string;
  stream(): Promise<ReadableStream<Uint8Array>>;
  bytes(): Promise<Uint8Array>;
};

type Reference = { field: string; fileId: string; accept: string[] | null };

type Schema = { properties?: Record<string, Schema>; items?: Schema; "x-accept"?: unknown };

/** The `x-accept` list of the schema at `path` (on the field or on its array items); null = any type. */
function acceptListAt(schema: Schema, path: string): string[] | null {
  let node: Schema | undefined = schema;
  for (const segment of path.split(".")) node = node?.properties?.[segment];
  const list = node?.["x-accept"] ?? node?.items?.["x-accept"];
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === "string") : null;
}

function referencesIn(input: Record<string, unknown>, paths: string[], schema: Schema): Reference[] {
  const refs: Reference[] = [];
  for (const path of paths) {
    let value: unknown = input;
    for (const segment of path.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[segment] : undefined;
    const accept = acceptListAt(schema, path);
    if (typeof value === "string") refs.push({ field: `input.${path}`, fileId: value, accept });
    else if (Array.isArray(value))
      value.forEach((item, i) => typeof item === "string" && refs.push({ field: `input.${path}[${i}]`, fileId: item, accept }));
  }
  return refs;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

type Outcome = { ok: ResolvedFile } | { missing: FieldIssue } | { unsupported: FieldIssue };

async function resolveOne(ctx: AppContext, orgId: string, ref: Reference): Promise<Outcome> {
  const missing = (why: string): Outcome => ({ missing: { field: ref.field, code: "not_found", message: `File ${ref.fileId} ${why}.` } });
  if (!isId("file", ref.fileId)) return missing("does not exist");
  let row = store.fileById(ctx.db, ref.fileId);
  if (!row || row.orgId !== orgId) return missing("does not exist");
  row = await confirmUpload(ctx, row);
  if (row.status === "pending") return missing("has not been uploaded yet");
  if (row.status === "failed") return missing("failed to upload");
  if (isExpired(row, ctx.clock.now())) return missing("has expired");
  const files = storeFor(ctx, row);
  if (!files) return missing(`is stored on the ${row.backend} backend, which this server is not configured for`);

  let head: Uint8Array;
  try {
    head = await readAll(await files.read(row.storageKey, { start: 0, end: Math.min(SNIFF_BYTES, row.sizeBytes) - 1 }));
  } catch (error) {
    // A DELETE raced this read: the blob went before the open, or (local files open lazily)
    // while its bytes were being read.
    if (error instanceof BlobNotFoundError || !(await files.head(row.storageKey))) return missing("was deleted");
    throw error;
  }
  const real = sniffMediaType(head);
  const declared = canonicalMediaType(row.contentType);
  if (ref.accept) {
    const ok = real ? accepts(ref.accept, real) : !isSniffable(declared) && accepts(ref.accept, declared);
    if (!ok) {
      const what = real ? `is ${real}` : isSniffable(declared) ? `is declared ${declared} but its bytes are not` : `is ${declared}`;
      return { unsupported: { field: ref.field, code: "unsupported", message: `File ${ref.fileId} ${what}; this field accepts ${ref.accept.join(", ")}.` } };
    }
  }
  const link = await presignedDownload(ctx, row);
  const key = row.storageKey;
  // Deleted between resolution and use (DELETE /v1/files, retention): the run fails as the create would have.
  const gone = async (error: unknown) => {
    if (!(error instanceof BlobNotFoundError) && (await files.head(key))) return error; // another failure: as it is
    ctx.log.warn("input file deleted before it was read", { file_id: row.id, error });
    return new AppError("FILE_NOT_FOUND", `File ${row.id} was deleted before the model could read it.`, [
      { field: ref.field, code: "not_found", message: "The file no longer exists." },
    ]);
  };
  const read = async () => {
    try {
      return await files.read(key);
    } catch (error) {
      throw await gone(error);
    }
  };
  const bytes = async () => {
    try {
      return await readAll(await files.read(key));
    } catch (error) {
      throw await gone(error); // local files open lazily: a deletion can surface mid-read
    }
  };
  return {
    ok: {
      field: ref.field,
      fileId: row.id,
      filename: row.filename,
      contentType: real ?? declared,
      sizeBytes: row.sizeBytes,
      sha256: row.sha256,
      url: link.url,
      urlExpiresAt: link.expires_at,
      stream: read,
      bytes,
    },
  };
}

const failure = (code: "FILE_NOT_FOUND" | "FILE_FORMAT_UNSUPPORTED", issues: FieldIssue[]) => invalidFields(issues, "input files are unusable", code);

/**
 * Resolves every `file_…` id at `fileFieldPaths` (dot paths inside `input`, string or array of
 * strings, as `Catalog.fileFields` lists them); `inputSchema` gives each field's `x-accept`.
 * Throws FILE_NOT_FOUND first if any reference is missing, else FILE_FORMAT_UNSUPPORTED.
 */
export async function resolveInputFiles(
  ctx: AppContext,
  orgId: string,
  fileFieldPaths: string[],
  input: Record<string, unknown>,
  inputSchema: Record<string, unknown>,
): Promise<ResolvedFile[]> {
  const outcomes = await Promise.all(referencesIn(input, fileFieldPaths, inputSchema as Schema).map((ref) => resolveOne(ctx, orgId, ref)));
  const missing = outcomes.flatMap((o) => ("missing" in o ? [o.missing] : []));
  if (missing.length) throw failure("FILE_NOT_FOUND", missing);
  const unsupported = outcomes.flatMap((o) => ("unsupported" in o ? [o.unsupported] : []));
  if (unsupported.length) throw failure("FILE_FORMAT_UNSUPPORTED", unsupported);
  return outcomes.flatMap((o) => ("ok" in o ? [o.ok] : []));
}
