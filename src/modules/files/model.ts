import { t } from "elysia";
import { enumOf, listOf, pageQuery, strictInteger, strictObject } from "../../http/schemas";

/** Max upload size (docs/decisions.md "Files"): 150 MiB. */
export const MAX_FILE_BYTES = 157_286_400;

const fileIdExample = "file_01a22bb7-e74e-7eb0-ab36-c904b0b1de0d";
const LINK = `http://127.0.0.1:8080/v1/files/${fileIdExample}/content`;

/** Whole examples as service.ts renders them: links expire on whole seconds, files 30 days after upload. */
const uploadExample = {
  file_id: fileIdExample,
  upload_url: `${LINK}?expires=1796033402&signature=1c8460d0a32f0d1baea1d8b0aeed814f865e88e09bfcf27245dcb98cfcc6b3fb`,
  expires_at: "2026-11-30T10:10:02.000Z",
};
const fileExample = {
  id: fileIdExample,
  object: "file",
  filename: "cat.png",
  content_type: "image/png",
  size_bytes: 482133,
  sha256: "77af778b51abd4a3c51c5ddd97204a9c3ae614ebccb75a606c3b6865aed6744e",
  status: "uploaded",
  created_at: "2026-11-30T09:10:02.318Z",
  expires_at: "2026-12-30T09:10:03.871Z",
};
const openaiFileExample = {
  id: fileIdExample,
  object: "file",
  bytes: 1024,
  created_at: 1796029802,
  filename: "requests.jsonl",
  purpose: "batch",
  status: "processed",
  expires_at: 1798621802,
  status_details: null,
};
const downloadExample = {
  url: `${LINK}?expires=1796033720&signature=b9eb75ebb258133455a3db33a2f0e222d989f4c78302fcd359c76089744d7cd5`,
  expires_at: "2026-11-30T10:15:20.000Z",
};

export namespace FilesModel {
  export const uploadBody = strictObject(
    {
      filename: t.String({ minLength: 1, maxLength: 255, description: "The file's name, shown again on download (Content-Disposition).", examples: ["cat.png"] }),
      content_type: t.String({ minLength: 1, maxLength: 255, description: "Media type of the bytes; the PUT must send the same Content-Type.", examples: ["image/png"] }),
      size_bytes: strictInteger({ minimum: 1, maximum: MAX_FILE_BYTES, description: "Exact size of the body the PUT will send, at most 157286400 (150 MiB).", examples: [482133] }),
    },
    { description: "What you are about to upload.", examples: [{ filename: "cat.png", content_type: "image/png", size_bytes: 482133 }] },
  );
  export type uploadBody = typeof uploadBody.static;

  export const upload = t.Object(
    {
      file_id: t.String({ description: "Use it in execution input fields of format file-id.", examples: [fileIdExample] }),
      upload_url: t.String({
        description: "PUT the bytes here, with no API key, with `Content-Type` equal to `content_type` and exactly `size_bytes` bytes.",
        examples: [uploadExample.upload_url],
      }),
      expires_at: t.String({ format: "date-time", description: "When the upload link stops working (ISO-8601 UTC).", examples: [uploadExample.expires_at] }),
    },
    { description: "A presigned upload link.", examples: [uploadExample] },
  );

  export const file = t.Object(
    {
      id: t.String({ examples: [fileIdExample] }),
      object: t.Literal("file"),
      filename: t.String({ examples: ["cat.png"] }),
      content_type: t.String({ examples: ["image/png"] }),
      size_bytes: strictInteger({ examples: [482133] }),
      sha256: t.Union([t.String(), t.Null()], {
        description: "Hex SHA-256 of the bytes; null when the gateway never saw them (uploads straight to S3).",
        examples: [fileExample.sha256],
      }),
      status: enumOf(["pending", "uploaded", "failed", "expired"], {
        description: "`uploaded`: usable. `failed`: the stored object did not match what was declared. `expired`: past `expires_at`, about to be deleted.",
      }),
      created_at: t.String({ format: "date-time", examples: [fileExample.created_at] }),
      expires_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
        description: "When the file and its bytes are deleted (MODELROUTE_FILE_RETENTION_DAYS after upload); null = kept.",
        examples: [fileExample.expires_at],
      }),
    },
    { description: "A stored file: an upload of yours or an execution's output.", examples: [fileExample] },
  );

  export const list = listOf(file, "Your uploaded files and execution outputs, newest first.");

  export const downloadUrl = t.Object(
    {
      url: t.String({ description: "GET it with no API key until `expires_at`.", examples: [downloadExample.url] }),
      expires_at: t.String({ format: "date-time", examples: [downloadExample.expires_at] }),
    },
    { description: "A presigned download link.", examples: [downloadExample] },
  );

  export const deleted = t.Object(
    {
      id: t.String({ examples: [fileIdExample] }),
      object: t.Literal("file"),
      deleted: t.Literal(true),
    },
    { description: "The file is gone, with its bytes.", examples: [{ id: fileIdExample, object: "file", deleted: true }] },
  );

  export const idParams = t.Object({ file_id: t.String({ description: "A file id (`file_…`).", examples: [fileIdExample] }) });

  /** The native list's parameters and OpenAI's (`purpose`, `order`, `after`; `limit` up to 10,000 there). */
  export const listQuery = strictObject({
    ...pageQuery,
    limit: t.Optional(t.Integer({ minimum: 1, maximum: 10_000, description: "Page size: 1–100 on the native list (default 20), up to 10,000 on OpenAI's." })),
    purpose: t.Optional(t.String({ maxLength: 64, description: "OpenAI's list: only files of this purpose (`batch`, `batch_output`, …)." })),
    order: t.Optional(enumOf(["asc", "desc"], { description: "OpenAI's list: by creation time (default desc)." })),
    after: t.Optional(t.String({ maxLength: 64, description: "OpenAI's list: the id after which the page starts." })),
  });

  export const openaiFile = t.Object(
    {
      id: t.String({ examples: [fileIdExample] }),
      object: t.Literal("file"),
      bytes: strictInteger({ examples: [1024] }),
      created_at: strictInteger({ description: "Unix seconds." }),
      filename: t.String({ examples: ["requests.jsonl"] }),
      purpose: t.String({ examples: ["batch"] }),
      status: enumOf(["uploaded", "processed", "error"], { description: "`processed`: stored and usable; `error`: failed or expired." }),
      expires_at: t.Union([strictInteger(), t.Null()], { description: "Unix seconds when the file is deleted; null = kept." }),
      status_details: t.Union([t.String(), t.Null()]),
    },
    { description: "A file in OpenAI's shape (`files.create`, `files.retrieve`).", examples: [openaiFileExample] },
  );

  export const openaiList = t.Object(
    {
      object: t.Literal("list"),
      data: t.Array(openaiFile),
      first_id: t.Union([t.String(), t.Null()]),
      last_id: t.Union([t.String(), t.Null()]),
      has_more: t.Boolean(),
    },
    { description: "OpenAI's file list.", examples: [{ object: "list", data: [openaiFileExample], first_id: fileIdExample, last_id: fileIdExample, has_more: false }] },
  );

  /** The shared routes answer either shape (docs/decisions.md "OpenAI files beside the native files API"). */
  export const fileEitherShape = t.Union([file, openaiFile], { description: "The native file object, or OpenAI's for OpenAI files and clients.", examples: [fileExample] });
  export const listEitherShape = t.Union([list, openaiList], { description: "The native list, or OpenAI's for OpenAI clients and parameters.", examples: [{ object: "list", data: [fileExample], has_more: false }] });

  export const linkQuery = t.Object({
    expires: t.Optional(t.String({ description: "Unix seconds when the link expires." })),
    signature: t.Optional(t.String({ description: "HMAC-SHA256 of the link, hex." })),
  });

  export const contentHeaders = t.Object({
    range: t.Optional(t.String({ description: "One byte range, e.g. `bytes=0-1023`." })),
    authorization: t.Optional(t.String({ description: "Bearer sk_… — only without a signed link (OpenAI's files.content)." })),
  });

  export const rangeHeaders = t.Object({
    range: t.Optional(t.String({ description: "One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-512`.", examples: ["bytes=0-1023"] })),
  });
}
