/**
 * OpenAI's error shape, `{"error":{"message","type","param","code"}}`, with the statuses the
 * `openai` SDK maps to its classes (BadRequestError, AuthenticationError, RateLimitError, …).
 * `param` names the request field at fault, in OpenAI's own terms.
 */
import { AppError } from "../../errors";
import type { RenderedError } from "../errors";

const TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "invalid_request_error",
  402: "insufficient_quota",
  403: "permission_error",
  404: "invalid_request_error",
  409: "conflict_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_exceeded",
};

const CODES: Partial<Record<string, string>> = {
  UNAUTHORIZED: "invalid_api_key",
  NOT_FOUND: "model_not_found",
  INSUFFICIENT_BALANCE: "insufficient_quota",
  RATE_LIMITED: "rate_limit_exceeded",
  CONTENT_MODERATION_REJECTED: "content_policy_violation",
};

/** `input.messages[0].content` (the execution's view) is `messages[0].content` to the client. */
export const paramOf = (field: string | undefined) => (field ? field.replace(/^input\./, "").replace(/^body\.?/, "") || null : null);

/** OpenAI's code: `model_not_found` only for an unknown model (a missing response or file is plain `not_found`). */
const codeOf = (error: AppError) =>
  error.code === "NOT_FOUND" && error.details[0]?.field !== "model" ? "not_found" : (CODES[error.code] ?? error.code.toLowerCase());

export function openaiError(error: AppError, _requestId: string): RenderedError {
  const status = error.status;
  return {
    status,
    body: {
      error: {
        message: error.message,
        type: TYPES[status] ?? (status >= 500 ? "server_error" : "invalid_request_error"),
        param: paramOf(error.details[0]?.field),
        code: codeOf(error),
      },
    },
  };
}

/**
 * An error of the canonical input (`input.num_images`) in the OpenAI request's own names (`n`):
 * runs `work`, renaming the fields of an INPUT_VALIDATION_ERROR it throws by `params`.
 */
export async function inOpenAIParams<T>(params: Readonly<Record<string, string>>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AppError) || error.details.length === 0) throw error;
    const rename = (field: string) => {
      const name = field.replace(/^input\./, "");
      return params[name] ?? field;
    };
    let message = error.message;
    for (const d of error.details) if (rename(d.field) !== d.field) message = message.split(d.field).join(rename(d.field));
    throw new AppError(error.code, message, error.details.map((d) => ({ ...d, field: rename(d.field) })), error.headers);
  }
}
