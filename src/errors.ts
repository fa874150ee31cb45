/**
 * The error codes of the API (the API reference's twelve plus ours, docs/decisions.md) with their HTTP
 * status, `retryable` flag and when they happen, in one table (the API docs and README render it:
 * `bun scripts/error-table.ts`). Services, providers and jobs throw `AppError`;
 * the errors plugin turns it into the envelope. Anything else that escapes is a bug: 500.
 */
export const CODES = {
  INPUT_VALIDATION_ERROR: [400, false, "A body field, query parameter or header is missing or invalid, or `input` does not match the model's input schema; `details` names each field."],
  CONTENT_MODERATION_REJECTED: [400, false, "A content rule of the key's guardrail matched a string in the execution's `input`."],
  FILE_NOT_FOUND: [400, false, "A `file_…` id in `input` does not exist, was not uploaded, failed, has expired or was deleted."],
  FILE_FORMAT_UNSUPPORTED: [400, false, "A file in `input` is of a media type its field does not accept."],
  UNAUTHORIZED: [401, false, "The API key or operator token is missing, malformed, unknown, disabled, revoked or expired, or its organization is suspended."],
  INSUFFICIENT_BALANCE: [402, false, "The available balance, or a spend limit of the key or its guardrail, cannot cover the execution's maximum cost."],
  FORBIDDEN: [403, false, "An inference key on a full-permission route, a guardrail refusing the model or the cost, or a signed file link that is invalid or expired."],
  NOT_FOUND: [404, false, "No such route, or no such resource in your organization (a malformed id too)."],
  METHOD_NOT_ALLOWED: [405, false, "The path exists but not with this method; the `Allow` header lists the methods it takes."],
  CONFLICT: [409, false, "The resource's state forbids the change: cancelling a finished execution, a name taken, a per-organization maximum, a file already uploaded."],
  EXECUTION_NOT_FINISHED: [409, true, "The result of an execution that has not ended yet; poll again after `Retry-After`."],
  IDEMPOTENCY_KEY_IN_USE: [409, true, "A request with the same `Idempotency-Key` is still being processed; retry after `Retry-After`."],
  API_KEY_LIMIT_REACHED: [409, false, "The organization already has 20 active API keys, the most allowed."],
  PAYLOAD_TOO_LARGE: [413, false, "The JSON body is larger than 1 MiB."],
  UNSUPPORTED_MEDIA_TYPE: [415, false, "A body was sent without `Content-Type: application/json`."],
  RANGE_NOT_SATISFIABLE: [416, false, "A download's `Range` starts past the end of the file."],
  IDEMPOTENCY_KEY_REUSED: [422, false, "An idempotency key was used before with a different body (or a credit with a different amount or note)."],
  RATE_LIMITED: [429, true, "The key is over its requests per minute or its concurrent executions; retry after `Retry-After`."],
  REQUEST_HEADERS_TOO_LARGE: [431, false, "The request headers take more than 16 KiB."],
  GENERATION_FAILED: [500, true, "The provider failed to produce the output, or the gateway restarted while it was working."],
  INTERNAL_ERROR: [500, false, "An unexpected server error; it is logged with the request id."],
  MODEL_OVERLOADED: [503, true, "The model's routes are at their concurrency limit."],
  MODEL_UNAVAILABLE: [503, true, "The model has no working route: its providers are failing or unsupported, or it left the catalog."],
  SERVICE_UNAVAILABLE: [503, true, "An upstream provider is temporarily unavailable."],
  STORAGE_UNAVAILABLE: [503, true, "The server's data directory refuses writes (read-only or failing); reads still work. Retry once the operator has fixed it."],
  GENERATION_TIMEOUT: [504, true, "The provider did not answer within the route's timeout, or the execution waited in the queue past its time to live."],
  INSUFFICIENT_STORAGE: [507, true, "The server's disk is full: the write was not made (nothing of it is kept); reads still work. Retry once the operator has freed space."],
} as const satisfies Record<string, readonly [status: number, retryable: boolean, when: string]>;

export type ErrorCode = keyof typeof CODES;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(CODES, code);

export type DetailCode =
  | "required" | "invalid_type" | "unknown_field" | "too_long" | "too_short" | "out_of_range"
  | "invalid_format" | "not_found" | "unsupported" | (string & {});

export type FieldIssue = { field: string; code: DetailCode; message: string };

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: FieldIssue[] = [],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
  get status(): number {
    return CODES[this.code][0];
  }
  get retryable(): boolean {
    return CODES[this.code][1];
  }
}

/** One INPUT_VALIDATION_ERROR for a single field. */
export const invalidField = (field: string, code: DetailCode, message: string) =>
  new AppError("INPUT_VALIDATION_ERROR", message, [{ field, code, message }]);

/**
 * One error for several field issues: a single issue is named in the message
 * (`limits.spend_limit: Must be …`), more are counted (`3 fields are invalid; see details.`).
 */
export const invalidFields = (issues: FieldIssue[], many = "fields are invalid", code: ErrorCode = "INPUT_VALIDATION_ERROR") =>
  new AppError(code, issues.length === 1 ? `${issues[0]!.field}: ${issues[0]!.message}` : `${issues.length} ${many}; see details.`, issues);

/** SQLite's and PostgreSQL's codes and the file system's errno names for a disk that is full, or that refuses writes. */
const FULL = /^(SQLITE_FULL|ENOSPC|EDQUOT|53100)$/;
const REFUSED = /^(SQLITE_READONLY|SQLITE_IOERR|SQLITE_CANTOPEN|EROFS|EIO|EACCES|EPERM|25006)(_|$)/;

/**
 * The API error for a write the storage refused (a full disk, a read-only or failing one), found
 * by its code on the error or its causes; null for any other error. Nothing was written: SQLite
 * rolled the transaction back, the file store removed its temp file.
 */
export function storageFault(error: unknown): AppError | null {
  for (let e = error, depth = 0; e && typeof e === "object" && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = String((e as { code?: unknown }).code ?? "");
    if (FULL.test(code)) return new AppError("INSUFFICIENT_STORAGE", "The server's disk is full; nothing was written. Retry once space is freed.");
    if (REFUSED.test(code)) return new AppError("STORAGE_UNAVAILABLE", "The server's storage refuses writes just now; nothing was written. Retry later.");
  }
  return null;
}

export type ErrorBody = {
  error: { code: ErrorCode; message: string; retryable: boolean; request_id: string; details: FieldIssue[] };
};

export const errorBody = (e: AppError, requestId: string): ErrorBody => ({
  error: { code: e.code, message: e.message, retryable: e.retryable, request_id: requestId, details: e.details },
});
