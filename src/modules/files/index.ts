/**
 * Files routes (the API reference, "Files"): upload links, metadata, list, delete, download and download
 * links with an API key; and the local backend's signed links (`/v1/files/{id}/content`), where
 * the link itself is the credential. The upload PUT is read as a stream, never parsed or buffered.
 * OpenAI's Files API shares these paths (docs/decisions.md "OpenAI files beside the native files
 * API"): `POST /v1/files` is its multipart upload, and the shared routes answer in OpenAI's shape
 * when dialects/openai/files.ts says the request or the file is OpenAI's.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { auth, authenticate } from "../../http/auth";
import { invalidField } from "../../errors";
import * as OpenAIFiles from "../../dialects/openai/files";
import { errorResponses } from "../../http/schemas";
import { closeFileStore } from "./backend";
import { FilesModel } from "./model";
import * as Files from "./service";

const UPLOAD_PATH = /^\/v1\/files\/[^/]+\/content\/?$/;
const FILES_PATH = /^\/v1\/files\/?$/;

/** For the JSON body parser: the upload PUT and OpenAI's multipart upload hand their raw body to the handler. */
export const isFileUploadRequest = (method: string, path: string) => (method === "PUT" && UPLOAD_PATH.test(path)) || (method === "POST" && FILES_PATH.test(path));

/** The native list's page size is at most 100 (OpenAI's list takes up to 10,000). */
const NATIVE_MAX_LIMIT = 100;

const asResponse = (d: Files.Download) => new Response(d.body, { status: d.status, headers: d.headers });

const bytesResponse = (description: string) => ({
  description,
  content: { "application/octet-stream": { schema: { type: "string" as const, format: "binary" } } },
  headers: {
    "Content-Disposition": { schema: { type: "string" as const }, description: "attachment; filename=… (the uploaded name)" },
    "Content-Range": { schema: { type: "string" as const }, description: "On 206: bytes start-end/size." },
  },
});
/** Streamed routes return a Response, so their statuses are documented by hand. */
const byteResponses = (...errorStatuses: number[]) => ({
  200: bytesResponse("The whole file."),
  206: bytesResponse("The requested range."),
  ...Object.fromEntries(
    Object.entries(errorResponses(...errorStatuses)).map(([status, schema]) => [
      status,
      { description: "The error envelope.", content: { "application/json": { schema: schema as unknown as Record<string, unknown> } } },
    ]),
  ),
});

export const filesRoutes = (ctx: AppContext) =>
  new Elysia({ name: "files", seed: ctx.instanceId, prefix: "/v1/files", tags: ["Files"] })
    .use(auth(ctx))
    .onStop(() => closeFileStore(ctx))
    .post("/", ({ caller, request }) => OpenAIFiles.uploadFile(ctx, caller.orgId, request), {
      auth: "inference",
      detail: {
        summary: "Upload a file (OpenAI)",
        description:
          "OpenAI's `files.create`: a `multipart/form-data` body with `file` and `purpose` (`batch`, `user_data`, `assistants`, `fine-tune`, `vision`, `evals`), and optionally `expires_after[anchor]=created_at` with `expires_after[seconds]` (3600–2592000). " +
          "The body is streamed to storage as it arrives: up to 512 MiB for `purpose: batch`, 150 MiB otherwise. The answer is OpenAI's file object; the file is also one of your files in the native API. Errors are in OpenAI's shape.",
        security: [{ apiKey: [] }],
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: {
                type: "object",
                required: ["file", "purpose"],
                properties: {
                  file: { type: "string", format: "binary", description: "The file; for `batch`, JSONL with one request per line." },
                  purpose: { type: "string", enum: [...OpenAIFiles.UPLOAD_PURPOSES] },
                  "expires_after[anchor]": { type: "string", enum: ["created_at"] },
                  "expires_after[seconds]": { type: "integer", minimum: 3600, maximum: 2592000 },
                },
              },
            },
          },
        },
      },
      response: { 200: FilesModel.openaiFile },
    })
    .post("/upload", ({ body, caller }) => Files.createUpload(ctx, caller.orgId, body), {
      auth: "inference",
      body: FilesModel.uploadBody,
      detail: {
        summary: "Create an upload link",
        description:
          "Registers a file and returns a presigned `upload_url`. Then `PUT` exactly `size_bytes` bytes to it, with `Content-Type` equal to `content_type` and no API key (the link is the credential, valid until `expires_at`). Max 150 MiB. The file is usable (`status: uploaded`) once the bytes arrive; until then it is not found.",
        security: [{ apiKey: [] }],
      },
      response: { 200: FilesModel.upload, ...errorResponses(400, 401, 413, 415, 429) },
    })
    .put(
      "/:file_id/content",
      ({ params, query, request }) =>
        Files.receiveUpload(ctx, params.file_id, query, {
          contentType: request.headers.get("content-type"),
          contentLength: request.headers.get("content-length"),
          body: request.body,
        }),
      {
        params: FilesModel.idParams,
        query: FilesModel.linkQuery,
        detail: {
          summary: "Upload the bytes (local storage link)",
          description:
            "The `upload_url` of the local backend. No API key: the HMAC-signed, expiring link is the credential (403 when changed or expired). Send exactly `size_bytes` bytes with the declared `Content-Type`; the body is streamed to disk and hashed (SHA-256). A body of another length is refused and nothing is kept. With S3 storage, `upload_url` points at the bucket instead.",
          requestBody: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
        },
        response: { 200: FilesModel.file, ...errorResponses(400, 403, 404, 409) },
      },
    )
    .get(
      "/:file_id/content",
      async ({ params, query, headers, set, request }) => {
        // A signed link is its own credential; without one, an API key (OpenAI's `files.content`,
        // as its SDKs and its curl examples send it).
        const byKey = OpenAIFiles.isOpenAIContentRequest(request.headers) || (query.signature === undefined && query.expires === undefined && headers.authorization !== undefined);
        if (!byKey) return asResponse(await Files.downloadByLink(ctx, params.file_id, query, headers.range));
        const caller = authenticate(ctx, headers.authorization, set.headers as Record<string, string>, "inference");
        return asResponse(await Files.download(ctx, caller.orgId, params.file_id, headers.range));
      },
      {
        params: FilesModel.idParams,
        query: FilesModel.linkQuery,
        headers: FilesModel.contentHeaders,
        detail: {
          summary: "Download by link, or the content of a file (OpenAI)",
          description:
            "The `url` of `GET /v1/files/{file_id}/url` on the local backend, with no API key: the signed, expiring link is the credential (403 when missing, changed or expired). " +
            "With an `Authorization` header and no signed link, with `Accept: application/binary` (as the OpenAI SDKs send it) or from an OpenAI SDK: OpenAI's `files.content`, authenticated with your API key instead, for any of your files (a batch's output and error files among them). Honours `Range`.",
          responses: byteResponses(401, 403, 404, 416),
        },
      },
    )
    .get(
      "/",
      ({ query, caller, request }) => {
        if (OpenAIFiles.wantsOpenAIShape(request.headers, query)) {
          if (query.starting_after !== undefined || query.ending_before !== undefined)
            throw invalidField(query.starting_after !== undefined ? "starting_after" : "ending_before", "unsupported", "OpenAI's file list pages with `after`; starting_after and ending_before belong to the native list.");
          return OpenAIFiles.listFiles(ctx, caller.orgId, query);
        }
        if (query.limit !== undefined && query.limit > NATIVE_MAX_LIMIT) throw invalidField("limit", "out_of_range", `limit is at most ${NATIVE_MAX_LIMIT}.`);
        return Files.listFiles(ctx, caller.orgId, query);
      },
      {
        auth: "inference",
        query: FilesModel.listQuery,
        detail: {
          summary: "List files",
          description:
            "Your uploaded files and execution outputs, newest first, with cursor pagination (`limit` 1–100, `starting_after`, `ending_before`). Uploads that never completed are not listed. " +
            "OpenAI's list instead (OpenAI's file objects, `first_id`, `last_id`, `limit` up to 10,000) when the request names `purpose`, `order` or `after`, or comes from an OpenAI SDK (`X-Stainless-Lang`).",
          security: [{ apiKey: [] }],
        },
        response: { 200: FilesModel.listEitherShape, ...errorResponses(400, 401, 429) },
      },
    )
    .get(
      "/:file_id",
      async ({ params, caller, request }) => {
        const row = await Files.visibleFile(ctx, caller.orgId, params.file_id);
        const now = ctx.clock.now();
        return OpenAIFiles.wantsOpenAIShape(request.headers, {}, row) ? OpenAIFiles.openaiFileView(row, now) : Files.fileView(row, now);
      },
      {
        auth: "inference",
        params: FilesModel.idParams,
        detail: {
          summary: "Get a file",
          description:
            "Name, content type, size, SHA-256, status and dates. Unknown ids, another organization's files and uploads that never completed: 404. " +
            "A file uploaded through `POST /v1/files` or written by a batch, or any file asked for by an OpenAI SDK, comes as OpenAI's file object (`bytes`, `purpose`, unix-second times).",
          security: [{ apiKey: [] }],
        },
        response: { 200: FilesModel.fileEitherShape, ...errorResponses(401, 404, 429) },
      },
    )
    .delete("/:file_id", ({ params, caller }) => Files.deleteFile(ctx, caller.orgId, params.file_id), {
      auth: "inference",
      params: FilesModel.idParams,
      detail: { summary: "Delete a file", description: "Deletes the file and its bytes at once. Links handed out earlier stop working.", security: [{ apiKey: [] }] },
      response: { 200: FilesModel.deleted, ...errorResponses(401, 404, 429) },
    })
    .get(
      "/:file_id/download",
      async ({ params, caller, headers }) => asResponse(await Files.download(ctx, caller.orgId, params.file_id, headers.range)),
      {
        auth: "inference",
        params: FilesModel.idParams,
        headers: FilesModel.rangeHeaders,
        detail: {
          summary: "Download a file",
          description: "Streams the bytes with their `Content-Type` and `Content-Disposition`. One `Range` is honoured (206 with `Content-Range`); a range past the end is 416.",
          security: [{ apiKey: [] }],
          responses: byteResponses(401, 404, 416, 429),
        },
      },
    )
    .get("/:file_id/url", ({ params, caller }) => Files.downloadUrl(ctx, caller.orgId, params.file_id), {
      auth: "inference",
      params: FilesModel.idParams,
      detail: {
        summary: "Get a download link",
        description: "A presigned URL anyone holding it may GET until `expires_at` (MODELROUTE_DOWNLOAD_URL_TTL_SECONDS, never past the file's own expiry): served by this binary on local storage, by the bucket on S3.",
        security: [{ apiKey: [] }],
      },
      response: { 200: FilesModel.downloadUrl, ...errorResponses(401, 404, 429) },
    });
