/**
 * Idempotency-Key on POST (docs/decisions.md): scope (org, method, path, key), kept
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
import { pathOf } from "./request-target";

export const RETENTION_MS = 24 * 3600_000;
/** 1–255 printable ASCII characters, no space at either end: the one rule for every key, header or body. */
const KEY_SHAPE = /^(?=[\x21-\x7e])[\x20-\x7e]{0,254}[\x21-\x7e]$/;

/** Throws 400 naming `field` when an idempotency key breaks the rule above. */
export function assertKeyShape(key: string, field = "Idempotency-Key"): void {
  if (!KEY_SHAPE.test(key))
    throw new AppError("INPUT_VALIDATION_ERROR", `${field} must be 1–255 printable ASCII characters.`, [
      { field, code: "invalid_format", message: "1–255 printable ASCII characters, not starting or ending with a space." },
    ]);
}

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
  assertKeyShape(key);
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

/**
 * Routes that keep their keys themselves: executions record theirs in the create transaction;
 * credits keep theirs forever in the ledger. The key's shape is checked here all the same.
 */
/** Routes that claim and remember their key themselves, in the transaction that creates the execution. */
const SELF_MANAGED_ROUTES = new Set(["/v1/executions", "/v1/executions/", "/admin/v1/orgs/:id/credits", "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/images/generations", "/v1/images/edits", "/v1/images/variations", "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/moderations", "/v1/rerank", "/v1/messages", "/api/v1/chat/completions", "/api/v1/embeddings", "/v1/responses", "/api/v1/responses", "/v1beta/models/*", "/api/chat", "/api/generate", "/api/embed", "/api/embeddings"]);

/** The scope of the operator's keys (the admin API has no organization of its own). */
export const OPERATOR_SCOPE = "operator";
const claims = new WeakMap<Request, Claim & { release(): void }>();

type SetLike = { status?: number | string; headers: Record<string, string | number> };

/**
 * For every other authenticated POST, /v1 and admin alike (the auth macros call it after
 * authenticating): replays a stored answer, or claims the key until afterRoute remembers the
 * handler's answer.
 */
export function beforeRoute(ctx: AppContext, orgId: string, request: Request, route: string, key: string | undefined, set: SetLike): unknown {
  if (request.method !== "POST") return undefined;
  if (SELF_MANAGED_ROUTES.has(route)) {
    if (key !== undefined) assertKeyShape(key);
    return undefined;
  }
  const started = begin(ctx, orgId, request, pathOf(request), key);
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
