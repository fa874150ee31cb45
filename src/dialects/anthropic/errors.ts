/**
 * Anthropic's error shape, `{"type":"error","error":{"type","message"},"request_id"}`, with its
 * statuses (529 `overloaded_error` for a model at capacity) and a `request-id` header, as the
 * `@anthropic-ai/sdk` client maps them to its error classes.
 */
import type { AppError } from "../../errors";
import type { RenderedError } from "../errors";

const BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  409: "invalid_request_error",
  413: "request_too_large",
  415: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
  500: "api_error",
  504: "timeout_error",
};

export function anthropicError(error: AppError, requestId: string): RenderedError {
  const overloaded = error.code === "MODEL_OVERLOADED" || error.code === "MODEL_UNAVAILABLE" || error.code === "SERVICE_UNAVAILABLE";
  const status = overloaded ? 529 : error.status;
  const type = overloaded ? "overloaded_error" : (BY_STATUS[status] ?? "api_error");
  return { status, body: { type: "error", error: { type, message: error.message }, request_id: requestId }, headers: { "request-id": requestId } };
}
