/**
 * Files routes (the API reference, "Files"): upload links, metadata, list, delete, download and download
 * links with an API key; and the local backend's signed links (`/v1/files/{id}/content`), where
 * the link itself is the credential. The upload PUT is read as a stream, never parsed or buffered.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses } from "../../http/schemas";
import { closeFileStore } from "./backend";
import { FilesModel } from "./model";
import * as Files from "./service";

const UPLOAD_PATH = /^\/v1\/files\/[^/]+\/content\/?$/;

/** For the JSON body parser: the upload PUT hands its raw body to the handler. */
export const isFileUploadRequest = (method: string, path: string) => method === "PUT" && UPLOAD_PATH.test(path);

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
    .get("/:file_id/content", async ({ params, query, headers }) => asResponse(await Files.downloadByLink(ctx, params.file_id, query, headers.range)), {
      params: FilesModel.idParams,
      query: FilesModel.linkQuery,
      headers: FilesModel.rangeHeaders,
      detail: {
        summary: "Download by link (local storage link)",
        description: "The `url` of `GET /v1/files/{file_id}/url` on the local backend. No API key: the signed, expiring link is the credential (403 when changed or expired). Honours `Range`.",
        responses: byteResponses(403, 404, 416),
      },
    })
    .get("/", ({ query, caller }) => Files.listFiles(ctx, caller.orgId, query), {
      auth: "inference",
      query: FilesModel.listQuery,
      detail: {
        summary: "List files",
        description: "Your uploaded files and execution outputs, newest first, with cursor pagination (`limit`, `starting_after`, `ending_before`). Uploads that never completed are not listed.",
        security: [{ apiKey: [] }],
      },
      response: { 200: FilesModel.list, ...errorResponses(400, 401, 429) },
    })
    .get("/:file_id", ({ params, caller }) => Files.getFile(ctx, caller.orgId, params.file_id), {
      auth: "inference",
      params: FilesModel.idParams,
      detail: {
        summary: "Get a file",
        description: "Name, content type, size, SHA-256, status and dates. Unknown ids, another organization's files and uploads that never completed: 404.",
        security: [{ apiKey: [] }],
      },
      response: { 200: FilesModel.file, ...errorResponses(401, 404, 429) },
    })
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
