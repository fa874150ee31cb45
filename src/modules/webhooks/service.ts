/**
 * Webhook endpoints and signing secrets (docs/decisions.md "Webhooks"). Owns the
 * webhook_endpoints table and the org's signing-secret columns. An endpoint's `secret` is shown
 * in full only on create and rotate-secret; during a rotation window both secrets sign.
 * Deliveries and their attempts live in deliveries.ts.
 */
import type { Config } from "../../config";
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import { AppError, invalidField, invalidFields, type FieldIssue } from "../../errors";
import { pageRequest, toList } from "../../http/pagination";
import { isId, newId } from "../../ids";
import type { WebhookModel } from "./model";
import { generateSecret } from "./signing";
import * as store from "./store";
import { checkTarget, literalRefusal } from "./targets";
import { endpointView, signingSecretView } from "./view";

/** What endpoints may subscribe to; `webhook.test` only comes from POST …/test. */
export const EVENT_TYPES = ["execution.started", "execution.completed", "execution.failed", "execution.cancelled", "execution.expired", "balance.low"] as const;
export const MAX_ENDPOINTS_PER_ORG = 16;
/** After a rotation the previous secret keeps signing this long (docs/webhooks.md: 24 h). */
export const ROTATION_WINDOW_MS = 24 * 60 * 60 * 1000;
export const WEBHOOK_URL_MAX = 2048;
const REGISTRATION_DNS_TIMEOUT_MS = 3000;

/**
 * Issues with a webhook URL as given: length, absolute http(s), and — unless
 * MODELROUTE_WEBHOOK_ALLOW_PRIVATE — no private, loopback or localhost target written literally.
 * Synchronous, for execution create (`webhook_url`) as well as endpoints (`url`); host names are
 * resolved and checked again at connect time.
 */
export function checkWebhookUrl(config: Pick<Config, "webhookAllowPrivate">, url: string | undefined, field = "webhook_url"): FieldIssue[] {
  if (url === undefined) return [];
  if (url.length > WEBHOOK_URL_MAX) return [{ field, code: "too_long", message: `At most ${WEBHOOK_URL_MAX} characters.` }];
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return [{ field, code: "invalid_format", message: "Must be an absolute http(s) URL." }];
  const refusal = config.webhookAllowPrivate ? null : literalRefusal(new URL(url));
  if (refusal) return [{ field, code: "unsupported", message: `Webhooks cannot go to private or loopback addresses: ${refusal}` }];
  return [];
}

function throwIssues(issues: FieldIssue[]) {
  if (issues.length > 0) throw invalidFields(issues);
}

/** The URL checks of registration: the synchronous ones, then where its host name resolves. */
async function checkEndpointUrl(ctx: AppContext, url: string) {
  throwIssues(checkWebhookUrl(ctx.config, url, "url"));
  if (ctx.config.webhookAllowPrivate) return;
  const target = await checkTarget(new URL(url), Math.min(REGISTRATION_DNS_TIMEOUT_MS, ctx.config.webhookTimeoutMs));
  // A name that does not resolve yet is accepted: attempts will say why they fail.
  if (!target.ok && target.resolved) throw invalidField("url", "unsupported", `Webhooks cannot go to private or loopback addresses: ${target.reason}`);
}

/** Deduplicated event types, or the issues with them; null = every type. */
function checkEvents(events: string[] | null | undefined): { events: string[] | null | undefined; issues: FieldIssue[] } {
  if (events === undefined || events === null) return { events, issues: [] };
  if (events.length === 0)
    return { events, issues: [{ field: "events", code: "too_short", message: "List at least one event type, or leave `events` out to receive them all." }] };
  const known = new Set<string>(EVENT_TYPES);
  const issues = events.flatMap((type, i): FieldIssue[] =>
    known.has(type) ? [] : [{ field: `events[${i}]`, code: "unsupported", message: `Unknown event type ${JSON.stringify(type)}; one of: ${EVENT_TYPES.join(", ")}.` }],
  );
  return { events: [...new Set(events)], issues };
}

/** The caller's live endpoint, or 404 for an unknown, malformed, deleted or foreign id. */
export function findEndpoint(ctx: AppContext, orgId: string, id: string): store.EndpointRow {
  const row = isId("whep", id) ? store.endpointInOrg(ctx.db, orgId, id) : undefined;
  if (!row) throw new AppError("NOT_FOUND", `No webhook endpoint ${id}.`);
  return row;
}

export async function createEndpoint(ctx: AppContext, orgId: string, body: WebhookModel.createBody) {
  const checked = checkEvents(body.events);
  throwIssues(checked.issues);
  await checkEndpointUrl(ctx, body.url);
  const now = ctx.clock.now();
  const id = newId("whep");
  const secret = generateSecret();
  ctx.db.transaction((tx) => {
    if (store.countEndpoints(tx, orgId) >= MAX_ENDPOINTS_PER_ORG)
      throw new AppError("CONFLICT", `An organization may have at most ${MAX_ENDPOINTS_PER_ORG} webhook endpoints; delete one first.`);
    store.insertEndpoint(tx, {
      id,
      orgId,
      url: body.url,
      events: checked.events ?? null,
      description: body.description ?? null,
      enabled: body.enabled ?? true,
      disabledReason: body.enabled === false ? "Disabled by request." : null,
      secret,
      createdAt: now,
      updatedAt: now,
    });
  });
  return endpointView(store.endpointById(ctx.db, id)!, now, { revealSecret: true });
}

export function listEndpoints(ctx: AppContext, orgId: string, query: WebhookModel.pageQuery) {
  const page = pageRequest(query);
  const now = ctx.clock.now();
  return toList(store.pageOfEndpoints(ctx.db, orgId, page), page, (row) => endpointView(row, now));
}

export const getEndpoint = (ctx: AppContext, orgId: string, id: string) => endpointView(findEndpoint(ctx, orgId, id), ctx.clock.now());

export async function updateEndpoint(ctx: AppContext, orgId: string, id: string, body: WebhookModel.updateBody) {
  findEndpoint(ctx, orgId, id);
  const checked = checkEvents(body.events);
  throwIssues(checked.issues);
  if (body.url !== undefined) await checkEndpointUrl(ctx, body.url);
  const now = ctx.clock.now();
  const set: Parameters<typeof store.updateEndpoint>[2] = { updatedAt: now };
  if (body.url !== undefined) set.url = body.url;
  if (checked.events !== undefined) set.events = checked.events;
  if (body.description !== undefined) set.description = body.description;
  if (body.enabled !== undefined) {
    set.enabled = body.enabled;
    set.disabledReason = body.enabled ? null : "Disabled by request.";
  }
  store.updateEndpoint(ctx.db, id, set);
  return endpointView(findEndpoint(ctx, orgId, id), now);
}

/** Soft delete: deliveries keep pointing at it; pending ones stop at their next attempt. */
export function deleteEndpoint(ctx: AppContext, orgId: string, id: string) {
  findEndpoint(ctx, orgId, id);
  const now = ctx.clock.now();
  store.updateEndpoint(ctx.db, id, { deletedAt: now, enabled: false, updatedAt: now });
  return { id, object: "webhook_endpoint" as const, deleted: true as const };
}

export function rotateEndpointSecret(ctx: AppContext, orgId: string, id: string) {
  const row = findEndpoint(ctx, orgId, id);
  const now = ctx.clock.now();
  store.updateEndpoint(ctx.db, id, { secret: generateSecret(), previousSecret: row.secret, previousSecretExpiresAt: now + ROTATION_WINDOW_MS, updatedAt: now });
  return endpointView(findEndpoint(ctx, orgId, id), now, { revealSecret: true });
}

/** Newest first; the previous secret only while its rotation window lasts. */
function activeSecrets(current: string, previous: string | null, previousExpiresAt: number | null, now: number): string[] {
  return previous && previousExpiresAt !== null && previousExpiresAt > now ? [current, previous] : [current];
}

export const endpointSecrets = (row: store.EndpointRow, now: number) => activeSecrets(row.secret, row.previousSecret, row.previousSecretExpiresAt, now);

/** The org's signing-secret columns; the first secret is created on first use. */
function ensureOrgSecret(conn: Conn, orgId: string): store.SecretColumns & { secret: string } {
  let columns = store.orgSecrets(conn, orgId);
  if (!columns) throw new Error(`org ${orgId} does not exist`);
  if (columns.secret === null) {
    store.setFirstOrgSecret(conn, orgId, generateSecret());
    columns = store.orgSecrets(conn, orgId)!;
  }
  return columns as store.SecretColumns & { secret: string };
}

/** The secrets that sign deliveries to executions' webhook_url, newest first. */
export function orgSecrets(ctx: AppContext, orgId: string, now: number): string[] {
  const columns = ensureOrgSecret(ctx.db, orgId);
  return activeSecrets(columns.secret, columns.previous, columns.previousExpiresAt, now);
}

export function getSigningSecret(ctx: AppContext, orgId: string) {
  const now = ctx.clock.now();
  return signingSecretView(ensureOrgSecret(ctx.db, orgId), now);
}

export function rotateSigningSecret(ctx: AppContext, orgId: string) {
  const now = ctx.clock.now();
  const rotated = ctx.db.transaction((tx) => {
    const current = ensureOrgSecret(tx, orgId);
    store.rotateOrgSecret(tx, orgId, generateSecret(), current.secret, now + ROTATION_WINDOW_MS);
    return ensureOrgSecret(tx, orgId);
  });
  return signingSecretView(rotated, now);
}

/** Whether an enabled endpoint of the org subscribes to `type`: the outbox records only events someone receives. */
export const hasSubscriber = store.hasSubscriber;
