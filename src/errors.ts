/**
 * The error codes of the API (the seed's twelve plus CONTRACT.md's additions) with their HTTP
 * status and `retryable` flag, in one table. Services, providers and jobs throw `AppError`;
 * the errors plugin turns it into the envelope. Anything else that escapes is a bug: 500.
 */
export const CODES = {
  INPUT_VALIDATION_ERROR: [400, false],
  CONTENT_MODERATION_REJECTED: [400, false],
  FILE_NOT_FOUND: [400, false],
  FILE_FORMAT_UNSUPPORTED: [400, false],
  UNAUTHORIZED: [401, false],
  INSUFFICIENT_BALANCE: [402, false],
  FORBIDDEN: [403, false],
  NOT_FOUND: [404, false],
  METHOD_NOT_ALLOWED: [405, false],
  CONFLICT: [409, false],
  EXECUTION_NOT_FINISHED: [409, true],
  IDEMPOTENCY_KEY_IN_USE: [409, true],
  API_KEY_LIMIT_REACHED: [409, false],
  PAYLOAD_TOO_LARGE: [413, false],
  UNSUPPORTED_MEDIA_TYPE: [415, false],
  RANGE_NOT_SATISFIABLE: [416, false],
  IDEMPOTENCY_KEY_REUSED: [422, false],
  RATE_LIMITED: [429, true],
  GENERATION_FAILED: [500, true],
  INTERNAL_ERROR: [500, false],
  MODEL_OVERLOADED: [503, true],
  MODEL_UNAVAILABLE: [503, true],
  SERVICE_UNAVAILABLE: [503, true],
  GENERATION_TIMEOUT: [504, true],
} as const satisfies Record<string, readonly [status: number, retryable: boolean]>;

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

export type ErrorBody = {
  error: { code: ErrorCode; message: string; retryable: boolean; request_id: string; details: FieldIssue[] };
};

export const errorBody = (e: AppError, requestId: string): ErrorBody => ({
  error: { code: e.code, message: e.message, retryable: e.retryable, request_id: requestId, details: e.details },
});
