/**
 * Upstream failures, classified once where they happen (the adapter or the HTTP helper), so the
 * router decides from the class alone: retry and count against the route, cool a key, or hand
 * the caller an error that is theirs (docs/routing.md).
 */
import { AppError, type ErrorCode } from "../errors";

export type FailureClass =
  | "rate_limited" // 429
  | "overloaded" // 503, 529
  | "capacity" // the upstream is busy by design (Cog's 409): back-pressure, not ill health
  | "server" // other 5xx, a malformed answer
  | "connection" // refused, reset, DNS, TLS, cut mid-answer
  | "timeout" // connect, first token, idle between chunks, total
  | "auth" // 401, 403: the gateway's credentials
  | "bad_request" // 400, 404, 409, 413, 422: the request itself
  | "context_length" // the prompt does not fit the model
  | "content_policy"; // the upstream refused the content

/** Retried (on this route, then the next) and counted against the route's health. */
export const RETRYABLE: ReadonlySet<FailureClass> = new Set(["rate_limited", "overloaded", "capacity", "server", "connection", "timeout"]);
/** Never retried and never held against the route: the caller's request is the problem. */
export const CALLERS_FAULT: ReadonlySet<FailureClass> = new Set(["bad_request", "context_length", "content_policy"]);

export class ProviderError extends Error {
  constructor(
    readonly failure: FailureClass,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

const CALLER_CODES: Record<FailureClass, ErrorCode> = {
  rate_limited: "MODEL_OVERLOADED",
  overloaded: "MODEL_OVERLOADED",
  capacity: "MODEL_OVERLOADED",
  server: "GENERATION_FAILED",
  connection: "SERVICE_UNAVAILABLE",
  timeout: "GENERATION_TIMEOUT",
  auth: "MODEL_UNAVAILABLE",
  bad_request: "INPUT_VALIDATION_ERROR",
  context_length: "INPUT_VALIDATION_ERROR",
  content_policy: "CONTENT_MODERATION_REJECTED",
};

/**
 * The error with the key the call was sent with masked: some upstreams quote it in their error
 * ("Incorrect API key provided: sk-…"), and the message goes on to the caller, the execution and the logs.
 */
export function withoutKey(error: ProviderError, key: string | null | undefined): ProviderError {
  if (!key || key.length < 8 || !error.message.includes(key)) return error;
  return new ProviderError(error.failure, error.message.split(key).join("[the provider key]"), error.opts);
}

/** What the caller sees once the router has given up: the code of the class, never a secret. */
export function toAppError(error: ProviderError): AppError {
  const headers: Record<string, string> = error.opts.retryAfterMs ? { "Retry-After": String(Math.max(1, Math.ceil(error.opts.retryAfterMs / 1000))) } : {};
  const message =
    error.failure === "auth" ? "The provider refused the gateway's credentials; the operator has been told in the logs." : `The provider failed: ${error.message}`;
  return new AppError(CALLER_CODES[error.failure], message, [], headers);
}

const CONTEXT_LENGTH = /context[ _-]?(length|window)|maximum context|too many tokens|prompt is too long|max_tokens.*exceed|reduce the length/i;
const CONTENT_POLICY = /content[ _-]?(policy|filter|management)|safety system|flagged|moderation/i;

/** The class of an HTTP answer that is not 2xx, from its status and (for 400s) its message. */
export function classifyStatus(status: number, message: string): FailureClass {
  if (status === 429) return "rate_limited";
  if (status === 503 || status === 529) return "overloaded";
  if (status === 401 || status === 403) return "auth";
  if (status === 408) return "timeout";
  if (status >= 500) return "server";
  if (CONTEXT_LENGTH.test(message)) return "context_length";
  if (CONTENT_POLICY.test(message)) return "content_policy";
  return "bad_request";
}

const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** `retry-after-ms`, then `Retry-After` in seconds, then as an HTTP-date; capped at 10 minutes. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(Number(ms)));
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(Number(value) * 1000));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - now));
}
