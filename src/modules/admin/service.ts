/**
 * What the operator can do, shared by the admin API (`actor: "operator"`) and the CLI (`"cli"`,
 * straight on the database). Every action that changes something, and every catalog export
 * (it may carry provider secrets), writes an audit row in the same transaction.
 */
import type { Db, Tx } from "../../db/client";
import type { PageQuery } from "../../http/pagination";
import { invalidFields } from "../../errors";
import * as Audit from "../audit/service";
import * as Catalog from "../catalog/service";
import * as Executions from "../executions/service";
import { generateAdminToken, hashSecret } from "../keys/secret";
import * as Keys from "../keys/service";
import { ADMIN_TOKEN_SETTING } from "../orgs/bootstrap";
import * as Orgs from "../orgs/service";
import { putSetting } from "../settings/store";
import type { RouteStatus } from "../../providers/router";
import { catalogIssues, exportCatalog, toCatalog } from "./catalog-file";

export type AdminDeps = { db: Db; now: number; actor: Audit.Actor; keyCache?: Keys.KeyCache };

const keyDeps = (deps: AdminDeps): Keys.KeyDeps => ({ db: deps.db, now: deps.now, keyCache: deps.keyCache });
const audit = (deps: AdminDeps, action: string, target: string | null, details?: Record<string, unknown>) => (tx: Tx) =>
  Audit.recordAudit(tx, { actor: deps.actor, action, target, details }, deps.now);

export function createOrg(deps: AdminDeps, name: string) {
  const row = deps.db.transaction(
    (tx) => {
      const org = Orgs.createOrg(tx, name, deps.now);
      audit(deps, "org.create", org.id, { name: org.name })(tx);
      return org;
    },
    { behavior: "immediate" },
  );
  return Orgs.orgView(row);
}

export const listOrgs = (deps: AdminDeps, page: PageQuery) => Orgs.listOrgs(deps.db, page);
export const getOrg = (deps: AdminDeps, id: string) => Orgs.orgView(Orgs.findOrg(deps.db, id));
export const resolveOrg = (deps: AdminDeps, idOrName: string) => Orgs.orgView(Orgs.resolveOrg(deps.db, idOrName));

/** Suspends or reactivates an org; its keys answer 401 while suspended (other processes within 1 s). */
export function setOrgStatus(deps: AdminDeps, id: string, status: "active" | "suspended") {
  // IMMEDIATE, as every operator change that reads before it writes: the CLI runs beside a
  // server, and a deferred transaction whose snapshot a server commit outdated fails at once
  // with SQLITE_BUSY, where an immediate one waits its turn for the write lock.
  const row = deps.db.transaction(
    (tx) => {
      const org = Orgs.setOrgStatus(tx, id, status);
      audit(deps, status === "suspended" ? "org.suspend" : "org.unsuspend", id, { name: org.name })(tx);
      return org;
    },
    { behavior: "immediate" },
  );
  if (deps.keyCache) Keys.invalidateKeyCache(deps.keyCache);
  return Orgs.orgView(row);
}

export function createOrgKey(deps: AdminDeps, orgId: string, input: Keys.CreateKeyInput) {
  Orgs.findOrg(deps.db, orgId);
  const permission = input.permission ?? "inference";
  return Keys.createKey(keyDeps(deps), orgId, input, (tx) =>
    audit(deps, "api_key.create", orgId, { name: input.name.trim(), permission })(tx),
  );
}

export function listOrgKeys(deps: AdminDeps, orgId: string, page: PageQuery) {
  Orgs.findOrg(deps.db, orgId);
  return Keys.listKeys(keyDeps(deps), orgId, page);
}

/** The operator may revoke any key, the org's last full one included. */
export function revokeOrgKey(deps: AdminDeps, orgId: string, keyId: string) {
  Orgs.findOrg(deps.db, orgId);
  return Keys.revokeKey(keyDeps(deps), orgId, keyId, { operator: true, alsoInTx: audit(deps, "api_key.revoke", keyId, { org_id: orgId }) });
}

export function getCatalog(deps: AdminDeps, opts: { includeSecrets?: boolean } = {}) {
  const file = exportCatalog(deps.db, opts);
  Audit.recordAudit(deps.db, { actor: deps.actor, action: "catalog.export", target: null, details: { include_secrets: opts.includeSecrets ?? false } }, deps.now);
  return file;
}

/** Validates the whole file first (400 naming every bad path), then applies it in one transaction. */
export function applyCatalog(deps: AdminDeps, file: unknown) {
  const issues = catalogIssues(deps.db, file);
  if (issues.length > 0) throw invalidFields(issues, "catalog fields are invalid");
  const catalog = toCatalog(deps.db, file as Parameters<typeof toCatalog>[1]);
  const summary = { providers: catalog.providers.map((p) => p.id), models: catalog.models.map((m) => m.slug), aliases: Object.keys(catalog.aliases) };
  deps.db.transaction(
    (tx) => {
      Catalog.applyCatalog(tx, catalog, deps.now);
      audit(deps, "catalog.apply", null, summary)(tx);
    },
    { behavior: "immediate" },
  );
  Catalog.invalidateCatalog(deps.db);
  return { object: "catalog_apply" as const, providers: summary.providers, models: summary.models, aliases: summary.aliases };
}

const isoOrNull = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

/** Every route of every model with this process's view of its health (a route never called is closed and idle). */
export function routes(deps: AdminDeps, health: RouteStatus[]) {
  const byId = new Map(health.map((h) => [h.route_id, h]));
  const data = Catalog.listModels(deps.db).flatMap((model) =>
    Catalog.routesOf(deps.db, model).map((route, position) => {
      const h = byId.get(route.id);
      return {
        object: "route" as const,
        id: route.id,
        model: model.slug,
        position,
        provider: route.provider.id,
        kind: route.provider.kind,
        upstream_model: route.upstreamModel,
        limits: {
          retries: route.retries,
          max_concurrency: route.maxConcurrency,
          max_queue: route.maxQueue,
          total_ms: route.timeouts.totalMs,
          first_token_ms: route.timeouts.firstTokenMs,
          idle_ms: route.timeouts.idleMs,
        },
        health: {
          breaker: h?.state ?? ("closed" as const),
          next_probe_at: isoOrNull(h?.next_probe_at ?? null),
          cooldown_until: isoOrNull(h?.cooldown_until ?? null),
          in_flight: h?.in_flight ?? 0,
          queued: h?.queued ?? 0,
          calls: h?.calls ?? 0,
          failures: h?.failures ?? 0,
          p50_latency_ms: h?.p50_latency_ms ?? null,
        },
      };
    }),
  );
  return { object: "list" as const, data, has_more: false };
}

export function stats(deps: AdminDeps) {
  const orgs = Orgs.countOrgsByStatus(deps.db);
  const byStatus: Record<string, number> = Executions.countByStatus(deps);
  return {
    object: "stats" as const,
    organizations: { total: orgs.active + orgs.suspended, active: orgs.active, suspended: orgs.suspended },
    api_keys: { active: Keys.countLiveKeys(deps.db, deps.now) },
    executions: { total: Object.values(byStatus).reduce((a, b) => a + b, 0), by_status: byStatus },
  };
}

export const listAudit = (deps: AdminDeps, page: PageQuery, filter: { action?: string; target?: string }) => Audit.listAudit(deps.db, page, filter);

/** Replaces the operator token; the old one stops working at once here, within 1 s in a running server. */
export function rotateAdminToken(deps: AdminDeps): string {
  const token = generateAdminToken();
  deps.db.transaction(
    (tx) => {
      putSetting(tx, ADMIN_TOKEN_SETTING, hashSecret(token));
      audit(deps, "admin_token.rotate", null)(tx);
    },
    { behavior: "immediate" },
  );
  return token;
}

/** Records an action that happens outside the database (backup, restore). */
export const recordAction = (deps: AdminDeps, action: string, target: string | null, details?: Record<string, unknown>) =>
  Audit.recordAudit(deps.db, { actor: deps.actor, action, target, details }, deps.now);
