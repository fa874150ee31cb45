import { t } from "elysia";
import { enumOf, listOf, pageQuery, strictInteger, strictObject } from "../../http/schemas";

/** Max upload size (docs/decisions.md "Files"): 150 MiB. */
export const MAX_FILE_BYTES = 157_286_400;

const fileIdExample = "file_01932c5e-7a1b-7000-8000-000000000001";

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
        examples: ["http://127.0.0.1:8080/v1/files/file_01932c5e-7a1b-7000-8000-000000000001/content?expires=1764000000&signature=3f1c…"],
      }),
      expires_at: t.String({ format: "date-time", description: "When the upload link stops working (ISO-8601 UTC).", examples: ["2026-11-22T13:00:00.000Z"] }),
    },
    { description: "A presigned upload link." },
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
        examples: ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
      }),
      status: enumOf(["pending", "uploaded", "failed", "expired"], {
        description: "`uploaded`: usable. `failed`: the stored object did not match what was declared. `expired`: past `expires_at`, about to be deleted.",
      }),
      created_at: t.String({ format: "date-time", examples: ["2026-11-22T12:00:00.000Z"] }),
      expires_at: t.Union([t.String({ format: "date-time" }), t.Null()], {
        description: "When the file and its bytes are deleted (MODELROUTE_FILE_RETENTION_DAYS after upload); null = kept.",
        examples: ["2026-12-22T12:00:03.000Z"],
      }),
    },
    { description: "A stored file: an upload of yours or an execution's output." },
  );

  export const list = listOf(file, "Your uploaded files and execution outputs, newest first.");

  export const downloadUrl = t.Object(
    {
      url: t.String({ description: "GET it with no API key until `expires_at`.", examples: ["http://127.0.0.1:8080/v1/files/file_…/content?expires=1764003600&signature=…"] }),
      expires_at: t.String({ format: "date-time", examples: ["2026-11-22T13:00:00.000Z"] }),
    },
    { description: "A presigned download link." },
  );

  export const deleted = t.Object({
    id: t.String({ examples: [fileIdExample] }),
    object: t.Literal("file"),
    deleted: t.Literal(true),
  });

  export const idParams = t.Object({ file_id: t.String({ description: "A file id (`file_…`).", examples: [fileIdExample] }) });

  export const listQuery = strictObject(pageQuery);

  export const linkQuery = t.Object({
    expires: t.Optional(t.String({ description: "Unix seconds when the link expires." })),
    signature: t.Optional(t.String({ description: "HMAC-SHA256 of the link, hex." })),
  });

  export const rangeHeaders = t.Object({
    range: t.Optional(t.String({ description: "One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-512`.", examples: ["bytes=0-1023"] })),
  });
}
