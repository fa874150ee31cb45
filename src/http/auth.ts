/**
 * Authentication and the per-key rate limit, as Elysia macros:
 * `auth: "inference"` admits any valid key, `auth: "full"` only full-permission keys, and
 * `admin: true` the operator token. Rate-limit headers are set before anything can fail, so
 * errors after auth carry them too (docs/decisions.md "Hardening"); 401s and ops routes carry none.
 */
import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { AppContext } from "../context";
import { AppError } from "../errors";
import { verifyApiKey, type Caller, type Permission } from "../modules/keys/service";
import { effectiveLimits } from "../modules/keys/limits";
import { hashSecret, isWellFormedAdminToken } from "../modules/keys/secret";
import { ADMIN_TOKEN_SETTING } from "../modules/orgs/bootstrap";
import { getSetting } from "../modules/settings/store";
import { throwIfBodyRejected } from "./body";
import * as Idempotency from "./idempotency";
import { rateLimitHeaders } from "./rate-limit";
import { registerResponseHeaders } from "./response-headers";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function bearerOf(header: string | undefined): string {
  const token = header ? BEARER.exec(header)?.[1] : undefined;
  if (!token) throw new AppError("UNAUTHORIZED", "Send your API key as Authorization: Bearer sk_….");
  return token;
}

/** Resolves the caller of a request or throws UNAUTHORIZED / RATE_LIMITED / FORBIDDEN. */
export function authenticate(ctx: AppContext, authorization: string | undefined, headers: Record<string, string | number>, need: Permission): Caller {
  const verification = verifyApiKey({ db: ctx.db, keyCache: ctx.keyCache, now: ctx.clock.now }, bearerOf(authorization));
  if (!verification.valid) throw new AppError("UNAUTHORIZED", verification.message);
  const caller = verification.caller;
  // The stricter of the key's and its guardrail's limit; neither set: the server default.
  const limit = effectiveLimits(caller, ctx.clock.now()).requestsPerMinute ?? ctx.config.rateLimitRpm;
  if (limit > 0) {
    const decision = ctx.rateLimiter.take(caller.keyId, limit, ctx.clock.now());
    Object.assign(headers, rateLimitHeaders(decision));
    if (!decision.allowed)
      throw new AppError("RATE_LIMITED", `Rate limit of ${limit} requests per minute exceeded; retry after ${decision.retryAfterS} s.`, [], {
        "retry-after": String(decision.retryAfterS),
      });
  }
  if (need === "full" && caller.permission !== "full")
    throw new AppError("FORBIDDEN", "This API key has inference permission; this route needs a full-permission key.");
  return caller;
}

/** For answers no route gave (see MeterUnmatched): counts a valid API key, returns its 429 if over. */
export function meterIfAuthenticated(ctx: AppContext, request: Request, headers: Record<string, string | number>): AppError | undefined {
  const authorization = request.headers.get("authorization") ?? undefined;
  if (!authorization?.includes("sk_")) return undefined;
  try {
    authenticate(ctx, authorization, headers, "inference");
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") return error;
  }
  return undefined;
}

const adminHashCache = new WeakMap<AppContext, { hash: string | undefined; at: number }>();

export function authenticateOperator(ctx: AppContext, authorization: string | undefined): void {
  const token = bearerOf(authorization);
  if (!isWellFormedAdminToken(token)) throw new AppError("UNAUTHORIZED", "Send the operator token as Authorization: Bearer mrt_….");
  const now = ctx.clock.now();
  let cached = adminHashCache.get(ctx);
  if (!cached || now - cached.at > 1000) adminHashCache.set(ctx, (cached = { hash: getSetting(ctx.db, ADMIN_TOKEN_SETTING), at: now }));
  const expected = cached.hash;
  if (!expected || !timingSafeEqual(Buffer.from(hashSecret(token), "hex"), Buffer.from(expected, "hex")))
    throw new AppError("UNAUTHORIZED", "The operator token is not recognised.");
}

/**
 * Both macros authenticate in `transform`, which Elysia runs before it validates params, query
 * and body (`resolve` runs after): a request without a valid key is a 401 whatever else is wrong
 * with it, and a caller's invalid request still counts against its limit and carries the
 * X-RateLimit-* headers. `resolve` then hands the caller found in `transform` to the handler.
 */
export const auth = (ctx: AppContext) => {
  const callers = new WeakMap<Request, Caller>();
  return new Elysia({ name: "http/auth", seed: ctx.instanceId }).macro({
    auth: (need: Permission) => ({
      transform: ({ headers, set, request }) => {
        // Anthropic's clients send the key as x-api-key.
        const authorization = headers.authorization ?? (headers["x-api-key"] ? `Bearer ${headers["x-api-key"]}` : undefined);
        callers.set(request, authenticate(ctx, authorization, set.headers as Record<string, string>, need));
        registerResponseHeaders(request, set.headers as Record<string, string>);
        throwIfBodyRejected(request);
      },
      resolve: ({ request }) => {
        const caller = callers.get(request);
        if (!caller) throw new Error("auth macro: resolve ran without transform");
        return { caller };
      },
      // Idempotency-Key on every POST: replay or claim here, remember after the handler.
      beforeHandle: ({ request, set, route, headers }) =>
        Idempotency.beforeRoute(ctx, callers.get(request)!.orgId, request, route, headers["idempotency-key"], set as never),
      afterHandle: ({ request, response, set }) => {
        Idempotency.afterRoute(ctx, request, response, set as never);
      },
    }),
    admin: (enabled: boolean) => ({
      transform: ({ headers, request }) => {
        if (enabled) authenticateOperator(ctx, headers.authorization);
        throwIfBodyRejected(request);
      },
      beforeHandle: ({ request, set, route, headers }) =>
        enabled ? Idempotency.beforeRoute(ctx, Idempotency.OPERATOR_SCOPE, request, route, headers["idempotency-key"], set as never) : undefined,
      afterHandle: ({ request, response, set }) => {
        Idempotency.afterRoute(ctx, request, response, set as never);
      },
    }),
  });
};
