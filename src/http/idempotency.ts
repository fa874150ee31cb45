/**
 * Idempotency-Key on POST (CONTRACT.md "Idempotency"): scope (org, method, path, key), kept
 * 24 h; fingerprint = SHA-256 of the raw body. Same key + same body → the first response
 * replayed with `Idempotent-Replayed: true`; a different body → 422 IDEMPOTENCY_KEY_REUSED;
 * while the first is still running → 409 IDEMPOTENCY_KEY_IN_USE. A record is stored only when
 * the request created something, so a retry after an error can succeed.
 */
import { and, eq, lt } from "drizzle-orm";
import type { AppContext } from "../context";
import type { Conn } from "../db/client";
import { idempotencyKeys } from "../db/schema";
import { AppError } from "../errors";
import { bodyFingerprint } from "./body";

export const RETENTION_MS = 24 * 3600_000;
const KEY_SHAPE = /^[\x20-\x7e]{1,255}$/;

export type Claim = { orgId: string; method: string; path: string; key: string; fingerprint: string };
export type Stored = typeof idempotencyKeys.$inferSelect;

const inFlight = new WeakMap<AppContext, Set<string>>();
const slot = (c: Claim) => `${c.orgId}\u0000${c.method}\u0000${c.path}\u0000${c.key}`;

function find(conn: Conn, c: Claim, now: number): Stored | undefined {
  const row = conn
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.orgId, c.orgId), eq(idempotencyKeys.method, c.method), eq(idempotencyKeys.path, c.path), eq(idempotencyKeys.key, c.key)))
    .get();
  return row && row.expiresAt > now ? row : undefined;
}

export type Begin = { claim: Claim; replay?: undefined; release(): void } | { replay: Stored; claim?: undefined; release(): void };

/**
 * Starts an idempotent request: null without the header, a replay of the stored first
 * response, or a claim the caller must release() when done (finally).
 */
export function begin(ctx: AppContext, orgId: string, request: Request, path: string, key: string | undefined): Begin | null {
  if (key === undefined) return null;
  if (!KEY_SHAPE.test(key))
    throw new AppError("INPUT_VALIDATION_ERROR", "Idempotency-Key must be 1–255 printable ASCII characters.", [
      { field: "Idempotency-Key", code: "invalid_format", message: "1–255 printable ASCII characters." },
    ]);
  const claim: Claim = { orgId, method: request.method, path, key, fingerprint: bodyFingerprint(request) };
  const stored = find(ctx.db, claim, ctx.clock.now());
  if (stored) {
    if (stored.fingerprint !== claim.fingerprint)
      throw new AppError("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request body.", [
        { field: "Idempotency-Key", code: "invalid_format", message: "Use a new key for a different request." },
      ]);
    return { replay: stored, release() {} };
  }
  let running = inFlight.get(ctx);
  if (!running) inFlight.set(ctx, (running = new Set()));
  const id = slot(claim);
  if (running.has(id))
    throw new AppError("IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still being processed; retry shortly.", [], { "retry-after": "1" });
  running.add(id);
  return { claim, release: () => running!.delete(id) };
}

/** Records the outcome, in the transaction that created the resource. */
export function remember(tx: Conn, claim: Claim, statusCode: number, resourceId: string | null, now: number, response: unknown = null) {
  tx.insert(idempotencyKeys)
    .values({ ...claim, statusCode, resourceId, response: JSON.stringify(response), createdAt: now, expiresAt: now + RETENTION_MS })
    .onConflictDoUpdate({
      target: [idempotencyKeys.orgId, idempotencyKeys.method, idempotencyKeys.path, idempotencyKeys.key],
      set: { fingerprint: claim.fingerprint, statusCode, resourceId, response: JSON.stringify(response), createdAt: now, expiresAt: now + RETENTION_MS },
    })
    .run();
}

/** Deletes expired records; returns how many. */
export const purgeExpired = (conn: Conn, now: number) => conn.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).run();

/** Routes whose service records the key in its own create transaction (POST /v1/executions). */
const SELF_MANAGED_ROUTES = new Set(["/v1/executions", "/v1/executions/"]);
const claims = new WeakMap<Request, Claim & { release(): void }>();

type SetLike = { status?: number | string; headers: Record<string, string | number> };

/**
 * For every other authenticated POST (the auth macro calls it after authenticating): replays a
 * stored answer, or claims the key until the handler's answer is remembered by afterRoute.
 */
export function beforeRoute(ctx: AppContext, orgId: string, request: Request, route: string, key: string | undefined, set: SetLike): unknown {
  if (request.method !== "POST" || SELF_MANAGED_ROUTES.has(route)) return undefined;
  const started = begin(ctx, orgId, request, new URL(request.url).pathname, key);
  if (!started) return undefined;
  if (started.replay) {
    set.status = started.replay.statusCode;
    set.headers["idempotent-replayed"] = "true";
    return JSON.parse(started.replay.response);
  }
  claims.set(request, { ...started.claim, release: started.release });
  return undefined;
}

/** Remembers a 2xx JSON answer under the request's key (streams and files are not replayable). */
export function afterRoute(ctx: AppContext, request: Request, response: unknown, set: SetLike) {
  const claim = claims.get(request);
  if (!claim) return;
  const status = typeof set.status === "number" ? set.status : 200;
  if (status < 300 && !(response instanceof Response)) {
    const { release: _release, ...stored } = claim;
    ctx.db.transaction((tx) => remember(tx, stored, status, null, ctx.clock.now(), response));
  }
  releaseClaim(request);
}

/** Frees the key for a retry; called once the response (or error) has been sent. */
export function releaseClaim(request: Request) {
  const claim = claims.get(request);
  if (!claim) return;
  claims.delete(request);
  claim.release();
}
