/**
 * The error envelope on every non-2xx response (the README "Error codes" and the OpenAPI introduction list the codes), the
 * X-Request-Id header on every response, and 404/405 for unknown routes. Registered before
 * any module. Nothing an unexpected exception says reaches the client: it is logged with the
 * request id and answered as INTERNAL_ERROR.
 */
import { Elysia, ValidationError } from "elysia";
import { PostgresError } from "../db/postgres/libpq";
import { AppError, errorBody, invalidField, invalidFields, storageFault } from "../errors";
import type { Logger } from "../log";
import { bodyLeftUnread } from "./body";
import { releaseClaim } from "./idempotency";
import { requestIdOf, stampRequest } from "./request-id";
import { pathOf, queryOf } from "./request-target";
import { toFieldIssues } from "./validation";

export type MethodsForPath = (path: string) => string[];

/**
 * Elysia checks a numeric query value (t.Integer, t.Number) after coercing it and reports a
 * failure without the parameter's name ("property", path ""). The name is the query parameter
 * holding that value.
 */
function coercedParamName(error: ValidationError, request: Request | undefined): string {
  const value = (error as unknown as { value?: unknown }).value;
  if (!request) return "query";
  const params = queryOf(request);
  const names = [...new Set(params.keys())].filter((k) => params.getAll(k).some((v) => v.trim() !== "" && Number(v) === value));
  return names.length === 1 ? names[0]! : "query";
}

export function toAppError(code: string | number, error: unknown, method: string, path: string, methodsFor: MethodsForPath, request?: Request): AppError {
  if (error instanceof AppError) return error;
  if (code === "VALIDATION" && error instanceof ValidationError) {
    if (error.type === "response") return new AppError("INTERNAL_ERROR", "The server produced an invalid response.");
    const details = toFieldIssues(error.all as never, error.type === "property" ? coercedParamName(error, request) : "");
    if (details.length === 0) return invalidField(error.type === "body" ? "body" : error.type, "invalid_type", "The request is invalid.");
    return invalidFields(details);
  }
  if (code === "PARSE") {
    // Elysia wraps whatever the body parser throws in a ParseError; our 413/415/400 ride in `cause`.
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof AppError) return cause;
    return invalidField("body", "invalid_format", "The body could not be parsed.");
  }
  // PostgreSQL cannot store U+0000 in text; its driver refuses such a value before sending it
  // (SQLSTATE 22021). That is the request's to fix: in the path it can only be a malformed id,
  // a 404 as on SQLite.
  if (error instanceof PostgresError && error.code === "22021") {
    if (/%00/.test(path)) return new AppError("NOT_FOUND", "No such resource: its id contains a NUL character (U+0000).");
    return new AppError("INPUT_VALIDATION_ERROR", "A text value of the request contains a NUL character (U+0000), which cannot be stored.");
  }
  if (code === "NOT_FOUND") {
    const allowed = methodsFor(path);
    if (allowed.length > 0 && !allowed.includes(method))
      return new AppError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${path}; use ${allowed.join(", ")}.`, [], {
        allow: allowed.join(", "),
      });
    return new AppError("NOT_FOUND", `No route matches ${method} ${path}.`);
  }
  const fault = storageFault(error);
  if (fault) return fault;
  return new AppError("INTERNAL_ERROR", "An internal error occurred. It has been logged with this request id.");
}

/**
 * Meters a caller on an answer no route gave (an unknown route, a method not allowed): a valid API
 * key is counted and told its limit as on every route, and gets the 429 once over it; any other
 * caller is left alone. Returns the 429 to answer instead, if any.
 */
export type MeterUnmatched = (request: Request, headers: Record<string, string | number>) => AppError | undefined;

/** `OPTIONS` on a path that exists: 204 with the methods it takes (HAProxy's default health check). */
function optionsAnswer(method: string, path: string, methodsFor: MethodsForPath): string | null {
  if (method !== "OPTIONS") return null;
  const allowed = methodsFor(path);
  return allowed.length > 0 ? [...allowed, "OPTIONS"].join(", ") : null;
}

/** The error shape of a compatible surface (OpenAI, Anthropic), or null for the gateway's own envelope. */
export type DialectErrors = (path: string, request: Request) => ((error: AppError, requestId: string) => { status: number; body: unknown; headers?: Record<string, string> }) | null;

export const errors = (log: Logger, methodsFor: MethodsForPath, meterUnmatched: MeterUnmatched = () => undefined, dialectFor: DialectErrors = () => null) =>
  new Elysia({ name: "http/errors" })
    .onRequest(({ request, set }) => {
      set.headers["x-request-id"] = stampRequest(request);
    })
    .onError({ as: "global" }, ({ code, error, set, request, route }) => {
      const path = pathOf(request);
      const requestId = requestIdOf(request);
      set.headers["x-request-id"] = requestId;
      const unmatched = code === "NOT_FOUND" && !(error instanceof AppError); // no route, not a route's own 404
      const allow = unmatched ? optionsAnswer(request.method, path, methodsFor) : null;
      if (allow) {
        set.status = 204;
        set.headers.allow = allow;
        return "";
      }
      let appError = toAppError(code, error, request.method, path, methodsFor, request);
      if (unmatched) appError = meterUnmatched(request, set.headers) ?? appError;
      releaseClaim(request); // a failed request leaves its Idempotency-Key free for a retry
      if (appError.code === "INTERNAL_ERROR")
        log.error("unhandled error", { request_id: requestId, method: request.method, path, code: String(code), error });
      else if (appError.code === "INSUFFICIENT_STORAGE" || appError.code === "STORAGE_UNAVAILABLE")
        log.error("storage refused a write", { request_id: requestId, method: request.method, path, error: (error as Error).message });
      if (bodyLeftUnread(request)) set.headers.connection = "close";
      for (const [name, value] of Object.entries(appError.headers)) set.headers[name] = value;
      // A route's own error, and a wrong method on a surface's path, come in that surface's shape; an unknown path in the envelope.
      // The surface is the matched route's: Bun routes on the target as sent, while request.url has its
      // dot segments and backslashes resolved (`/v1/responses/%2e%2e/cancel` is `/v1/cancel` there).
      const dialect = unmatched && appError.code !== "METHOD_NOT_ALLOWED" ? null : dialectFor(route || path, request);
      if (dialect) {
        const rendered = dialect(appError, requestId);
        set.status = rendered.status;
        Object.assign(set.headers, rendered.headers);
        return rendered.body;
      }
      set.status = appError.status;
      return errorBody(appError, requestId);
    });
