/**
 * OpenRouter's key management (`/keys`) over the gateway's own API keys, for management
 * (full-permission) keys. A key's `hash` is its id; `limit` is its spend limit in USD with
 * `limit_reset` (daily, weekly, monthly at midnight UTC, weeks from Monday, or none). Keys made
 * here are inference keys, as OpenRouter's are.
 */
import type { AppContext } from "../../context";
import { invalidField } from "../../errors";
import { spendWindowStart, type SpendReset } from "../../modules/keys/limits";
import * as Keys from "../../modules/keys/service";
import type { Caller } from "../../modules/keys/service";
import * as Ledger from "../../modules/ledger/service";
import { parseUsd } from "../../money";
import { objectBody } from "../body";
import { requireManagement } from "./account";

const usd = (micros: number) => micros / 1_000_000;
const RESETS = ["daily", "weekly", "monthly"] as const;

const deps = (ctx: AppContext): Keys.KeyDeps => ({ db: ctx.db, now: ctx.clock.now(), keyCache: ctx.keyCache });

/** A gateway key in OpenRouter's key shape, with its spend by window. */
function keyOf(ctx: AppContext, view: Keys.KeyView) {
  const now = ctx.clock.now();
  const spent = (since: number) => Ledger.spentByKeySince(ctx.db, view.id, since);
  const limitMicros = view.limits.spend_limit === null ? null : parseUsd(view.limits.spend_limit);
  const reset = (view.limits.spend_limit_reset ?? "none") as SpendReset;
  return {
    hash: view.id,
    name: view.name,
    label: view.masked_key,
    disabled: view.status !== "active",
    limit: limitMicros === null ? null : usd(limitMicros),
    limit_remaining: limitMicros === null ? null : usd(Math.max(0, limitMicros - spent(spendWindowStart(reset, now)))),
    limit_reset: reset === "none" ? null : reset,
    include_byok_in_limit: false,
    usage: usd(spent(0)),
    usage_daily: usd(spent(spendWindowStart("daily", now))),
    usage_weekly: usd(spent(spendWindowStart("weekly", now))),
    usage_monthly: usd(spent(spendWindowStart("monthly", now))),
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    created_at: view.created_at,
    updated_at: null,
    expires_at: view.expires_at,
    creator_user_id: null,
  };
}

/** `limit` and `limit_reset` as the gateway's spend limit; left out, unchanged. */
function limitsOf(b: Record<string, any>): Keys.CreateKeyInput["limits"] | undefined {
  const limits: NonNullable<Keys.CreateKeyInput["limits"]> = {};
  if (b.limit !== undefined) {
    if (b.limit !== null && (typeof b.limit !== "number" || !Number.isFinite(b.limit) || b.limit < 0)) throw invalidField("limit", "invalid_type", "limit must be a non-negative number of USD, or null.");
    limits.spend_limit = b.limit === null ? null : b.limit.toFixed(6);
  }
  if (b.limit_reset !== undefined) {
    if (b.limit_reset !== null && !RESETS.includes(b.limit_reset)) throw invalidField("limit_reset", "invalid_format", "limit_reset must be daily, weekly, monthly or null.");
    limits.spend_limit_reset = b.limit_reset ?? "none";
  }
  if (b.include_byok_in_limit !== undefined && typeof b.include_byok_in_limit !== "boolean") throw invalidField("include_byok_in_limit", "invalid_type", "include_byok_in_limit must be a boolean.");
  return Object.keys(limits).length ? limits : undefined;
}

const CREATE = new Set(["name", "limit", "limit_reset", "include_byok_in_limit", "expires_at"]);
const UPDATE = new Set(["name", "disabled", "limit", "limit_reset", "include_byok_in_limit"]);
const unknown = (param: string) => `Unknown parameter: ${param}`;

export function createKey(ctx: AppContext, caller: Caller, body: unknown) {
  requireManagement(caller);
  const b = objectBody(body, { known: CREATE, unknown });
  if (typeof b.name !== "string") throw invalidField("name", "required", "name is required.");
  if (b.expires_at !== undefined && (typeof b.expires_at !== "string" || !b.expires_at.endsWith("Z"))) throw invalidField("expires_at", "invalid_format", "expires_at must be an ISO 8601 UTC time (ending in Z).");
  const limits = limitsOf(b);
  const { view, key } = Keys.createKey(deps(ctx), caller.orgId, { name: b.name, permission: "inference", ...(b.expires_at ? { expires_at: b.expires_at } : {}), ...(limits ? { limits } : {}) });
  return { data: keyOf(ctx, view), key };
}

export function listKeys(ctx: AppContext, caller: Caller, query: { include_disabled?: string; offset?: string }) {
  requireManagement(caller);
  const offset = Math.max(0, Number.parseInt(query.offset ?? "0", 10) || 0);
  const views: Keys.KeyView[] = [];
  let after: string | undefined;
  // Every key of the organization, newest first, page by page (at most 20 are active at once).
  for (;;) {
    const page = Keys.listKeys(deps(ctx), caller.orgId, { limit: 100, ...(after ? { starting_after: after } : {}) });
    views.push(...page.data);
    if (!page.has_more || page.data.length === 0) break;
    after = page.data.at(-1)!.id;
  }
  const shown = query.include_disabled === "true" ? views : views.filter((v) => v.status === "active");
  return { data: shown.slice(offset, offset + 100).map((v) => keyOf(ctx, v)) };
}

export function getKey(ctx: AppContext, caller: Caller, hash: string) {
  requireManagement(caller);
  return { data: keyOf(ctx, Keys.getKey(deps(ctx), caller.orgId, hash)) };
}

export function updateKey(ctx: AppContext, caller: Caller, hash: string, body: unknown) {
  requireManagement(caller);
  const b = objectBody(body, { known: UPDATE, unknown });
  if (b.disabled !== undefined && typeof b.disabled !== "boolean") throw invalidField("disabled", "invalid_type", "disabled must be a boolean.");
  const limits = limitsOf(b);
  const view = Keys.updateKey(deps(ctx), caller.orgId, hash, { ...(b.name !== undefined ? { name: b.name } : {}), ...(b.disabled !== undefined ? { disabled: b.disabled } : {}), ...(limits ? { limits } : {}) });
  return { data: keyOf(ctx, view) };
}

export function deleteKey(ctx: AppContext, caller: Caller, hash: string) {
  requireManagement(caller);
  Keys.revokeKey(deps(ctx), caller.orgId, hash);
  return { deleted: true as const };
}
