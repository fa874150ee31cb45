/**
 * Google's error shape, `{"error":{"code":<status>,"message","status":"INVALID_ARGUMENT"|…,"details"}}`,
 * the google.rpc statuses the `@google/genai` client raises as `ApiError` with the HTTP status.
 * A field at fault is a `BadRequest` field violation and a retry delay a `RetryInfo`, as Google
 * sends them (docs/compatibility.md "Gemini").
 */
import type { AppError } from "../../errors";
import type { RenderedError } from "../errors";

const BY_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  // Google has no 402: an empty balance is a precondition the caller must fix, never a retry.
  402: "FAILED_PRECONDITION",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "UNIMPLEMENTED",
  409: "ABORTED",
  413: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  422: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  431: "INVALID_ARGUMENT",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** `input.contents[0].parts` (the execution's view) is `contents[0].parts` to the client. */
const fieldOf = (field: string) => field.replace(/^input\./, "").replace(/^body\.?/, "") || "body";

export function geminiError(error: AppError, _requestId: string): RenderedError {
  const status = error.status;
  const details: unknown[] = [];
  if (error.details.length)
    details.push({ "@type": "type.googleapis.com/google.rpc.BadRequest", fieldViolations: error.details.map((d) => ({ field: fieldOf(d.field), description: d.message })) });
  const retryAfter = error.headers["retry-after"] ?? error.headers["Retry-After"];
  if (retryAfter && /^\d+$/.test(retryAfter)) details.push({ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: `${retryAfter}s` });
  const body = { error: { code: status, message: error.message, status: BY_STATUS[status] ?? (status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"), ...(details.length ? { details } : {}) } };
  return { status, body };
}

/** The error as a stream element (an SSE `data:` or a JSON-array item), which the client raises as ApiError. */
export const streamedError = (error: AppError, requestId: string) => geminiError(error, requestId).body;
