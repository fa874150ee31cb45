/**
 * Guardrails: org-level rules assigned to keys (as OpenRouter's guardrails endpoints). Owns the
 * guardrails table; reaches keys only through the keys service. checkExecution() is called by
 * executions before any hold is placed, so a rejection costs nothing.
 *
 * A guardrail's limits apply to each assigned key separately, combined with the key's own by
 * keys/limits.ts effectiveLimits() (the stricter wins).
 */
import type { AppContext } from "../../context";
import type { Db } from "../../db/client";
import type { ContentRule } from "../../db/schema";
import { AppError, invalidField, invalidFields, type FieldIssue } from "../../errors";
import { pageRequest, toList, type PageQuery } from "../../http/pagination";
import { isId, newId } from "../../ids";
import { formatUsd, parseUsd } from "../../money";
import { limitsView, mergeLimits } from "../keys/limits";
import * as Keys from "../keys/service";
import type { Caller, KeyDeps } from "../keys/service";
import type { GuardrailModel } from "./model";
import { compileRules, contentRuleIssues, firstViolation, modelMatches } from "./rules";
import * as store from "./store";
import { iso } from "../../time";

export const MAX_GUARDRAILS_PER_ORG = 100;


export function guardrailView(row: store.GuardrailRow) {
  return {
    id: row.id,
    object: "guardrail" as const,
    name: row.name,
    description: row.description,
    allowed_models: row.allowedModels,
    blocked_models: row.blockedModels,
    max_cost_per_execution: row.maxCostMicros === null ? null : formatUsd(row.maxCostMicros),
    content_rules: row.contentRules.map((r) => ({ kind: r.kind, pattern: r.pattern })),
    limits: limitsView(row.limits),
    created_at: iso(row.createdAt),
    updated_at: iso(row.updatedAt),
  };
}

function findGuardrail(db: Db, orgId: string, id: string): store.GuardrailRow {
  const row = isId("grd", id) ? store.guardrailInOrg(db, orgId, id) : undefined;
  if (!row) throw new AppError("NOT_FOUND", `No guardrail ${id}.`);
  return row;
}

function throwIssues(issues: FieldIssue[]) {
  if (issues.length > 0) throw invalidFields(issues);
}

type RuleFields = Pick<GuardrailModel.updateBody, "allowed_models" | "blocked_models" | "max_cost_per_execution" | "content_rules">;

/** Validates the rule fields present in `body`; returns them as column values. */
function ruleColumns(body: RuleFields) {
  const issues: FieldIssue[] = [];
  const set: { allowedModels?: string[] | null; blockedModels?: string[] | null; maxCostMicros?: number | null; contentRules?: ContentRule[] } = {};
  if (body.allowed_models !== undefined) {
    if (body.allowed_models !== null && body.allowed_models.length === 0)
      issues.push({ field: "allowed_models", code: "too_short", message: "An empty list would block every model; use null to allow them all." });
    set.allowedModels = body.allowed_models === null ? null : [...new Set(body.allowed_models)];
  }
  if (body.blocked_models !== undefined) set.blockedModels = body.blocked_models === null ? null : [...new Set(body.blocked_models)];
  if (body.max_cost_per_execution !== undefined) {
    const micros = body.max_cost_per_execution === null ? null : parseUsd(body.max_cost_per_execution);
    if (body.max_cost_per_execution !== null && micros === null)
      issues.push({ field: "max_cost_per_execution", code: "invalid_format", message: 'Must be a decimal USD amount with at most 6 decimals, e.g. "0.050".' });
    set.maxCostMicros = micros;
  }
  if (body.content_rules !== undefined) {
    issues.push(...contentRuleIssues(body.content_rules));
    set.contentRules = body.content_rules.map((r) => ({ kind: r.kind, pattern: r.pattern }));
  }
  throwIssues(issues);
  return set;
}

const blankName = (name: string | undefined) => name !== undefined && name.trim().length === 0;

export function createGuardrail(ctx: AppContext, orgId: string, body: GuardrailModel.createBody) {
  if (blankName(body.name)) throw invalidField("name", "too_short", "Must not be blank.");
  const columns = ruleColumns(body);
  const limits = mergeLimits({}, body.limits);
  const now = ctx.clock.now();
  const id = newId("grd");
  ctx.db.transaction(
    (tx) => {
      if (store.countGuardrails(tx, orgId) >= MAX_GUARDRAILS_PER_ORG)
        throw new AppError("CONFLICT", `An organization may have at most ${MAX_GUARDRAILS_PER_ORG} guardrails; delete one first.`);
      store.insertGuardrail(tx, {
        id,
        orgId,
        name: body.name.trim(),
        description: body.description ?? null,
        allowedModels: columns.allowedModels ?? null,
        blockedModels: columns.blockedModels ?? null,
        maxCostMicros: columns.maxCostMicros ?? null,
        contentRules: columns.contentRules ?? [],
        limits,
        createdAt: now,
        updatedAt: now,
      });
    },
    { behavior: "immediate" },
  );
  return guardrailView(store.guardrailById(ctx.db, id)!);
}

export function listGuardrails(ctx: AppContext, orgId: string, query: PageQuery) {
  const page = pageRequest(query);
  return toList(store.listGuardrails(ctx.db, orgId, page), page, guardrailView);
}

export const getGuardrail = (ctx: AppContext, orgId: string, id: string) => guardrailView(findGuardrail(ctx.db, orgId, id));

export function updateGuardrail(ctx: AppContext, orgId: string, id: string, body: GuardrailModel.updateBody) {
  const row = findGuardrail(ctx.db, orgId, id);
  if (blankName(body.name)) throw invalidField("name", "too_short", "Must not be blank.");
  const set = {
    ...ruleColumns(body),
    ...(body.name !== undefined && { name: body.name.trim() }),
    ...(body.description !== undefined && { description: body.description }),
    ...(body.limits !== undefined && { limits: mergeLimits(row.limits, body.limits) }),
    updatedAt: ctx.clock.now(),
  };
  store.updateGuardrail(ctx.db, id, set);
  changed(ctx);
  return guardrailView(store.guardrailById(ctx.db, id)!);
}

export function deleteGuardrail(ctx: AppContext, orgId: string, id: string) {
  findGuardrail(ctx.db, orgId, id);
  ctx.db.transaction((tx) => {
    Keys.detachGuardrail(tx, id);
    store.deleteGuardrail(tx, id);
  });
  changed(ctx);
  return { id, object: "guardrail" as const, deleted: true as const };
}

/** Every id must be a live key of the org: 400 naming `key_ids[i]` otherwise. */
function checkKeyIds(ctx: AppContext, orgId: string, keyIds: string[]) {
  const wellFormed = keyIds.filter((k) => isId("key", k));
  const live = Keys.liveKeyIds(ctx.db, orgId, wellFormed);
  throwIssues(
    keyIds.flatMap((k, i) => (live.has(k) ? [] : [{ field: `key_ids[${i}]`, code: "not_found", message: `No API key ${k} in this organization.` }])),
  );
}

/** Checks the guardrail and every key id, applies `change` to the distinct ids; returns how many keys changed. */
function changeAssignments(ctx: AppContext, orgId: string, id: string, keyIds: string[], change: typeof Keys.assignGuardrail): number {
  findGuardrail(ctx.db, orgId, id);
  checkKeyIds(ctx, orgId, keyIds);
  const changedCount = ctx.db.transaction((tx) => change(tx, orgId, [...new Set(keyIds)], id));
  changed(ctx);
  return changedCount;
}

export const assignKeys = (ctx: AppContext, orgId: string, id: string, keyIds: string[]) => ({
  assigned_count: changeAssignments(ctx, orgId, id, keyIds, Keys.assignGuardrail),
});

export const unassignKeys = (ctx: AppContext, orgId: string, id: string, keyIds: string[]) => ({
  unassigned_count: changeAssignments(ctx, orgId, id, keyIds, Keys.unassignGuardrail),
});

/** Keys under this guardrail, or under any guardrail when `id` is undefined. */
export function listAssignments(ctx: AppContext, orgId: string, page: PageQuery, id?: string) {
  if (id !== undefined) findGuardrail(ctx.db, orgId, id);
  const deps: KeyDeps = { db: ctx.db, now: ctx.clock.now() };
  const keys = Keys.listKeys(deps, orgId, page, id ?? "assigned");
  return {
    object: "list" as const,
    data: keys.data.map((k) => ({
      object: "guardrail_assignment" as const,
      guardrail_id: k.guardrail_id!,
      key_id: k.id,
      key_name: k.name,
      masked_key: k.masked_key,
    })),
    has_more: keys.has_more,
  };
}

// ---- Enforcement ----

const CACHE_TTL_MS = 1000;
type Compiled = { row: store.GuardrailRow; rules: RegExp[]; fetchedAt: number };
const compiledCache = new WeakMap<Db, Map<string, Compiled | null>>();

/** Another process's edits are seen within CACHE_TTL_MS; this process's at once. */
function changed(ctx: AppContext) {
  compiledCache.delete(ctx.db);
  Keys.invalidateKeyCache(ctx.keyCache); // callers carry the guardrail's limits
}

function compiledGuardrail(db: Db, id: string, now: number): Compiled | null {
  let byId = compiledCache.get(db);
  if (!byId) compiledCache.set(db, (byId = new Map()));
  const cached = byId.get(id);
  if (cached && now - cached.fetchedAt <= CACHE_TTL_MS) return cached;
  const row = store.guardrailById(db, id);
  // Reuse compiled regexes while the rules have not changed.
  const rules = row ? (cached && cached.row.updatedAt === row.updatedAt ? cached.rules : compileRules(row.contentRules)) : [];
  const fresh = row ? { row, rules, fetchedAt: now } : null;
  if (byId.size > 10_000) byId.clear();
  byId.set(id, fresh);
  return fresh;
}

const rowAllows = (row: store.GuardrailRow, modelSlug: string) =>
  !(row.blockedModels?.some((p) => modelMatches(p, modelSlug)) ?? false) && (row.allowedModels === null || row.allowedModels.some((p) => modelMatches(p, modelSlug)));

/** Whether the key's guardrail (if any) lets it use the model. */
export function allowsModel(ctx: Pick<AppContext, "db" | "clock">, caller: Pick<Caller, "guardrailId">, modelSlug: string): boolean {
  const guardrail = caller.guardrailId ? compiledGuardrail(ctx.db, caller.guardrailId, ctx.clock.now()) : null;
  return !guardrail || rowAllows(guardrail.row, modelSlug);
}

/**
 * Refuses an execution its key's guardrail does not allow, before anything is held or stored:
 * - model not allowed or blocked: 403 FORBIDDEN, details field `model`;
 * - maximum cost above max_cost_per_execution: 403 FORBIDDEN, details field `input`;
 * - a content rule matches a string of the input: 400 CONTENT_MODERATION_REJECTED, details field
 *   = the string's path (`input.messages[0].content`). The message names the rule by position,
 *   never its pattern, so a rule cannot be probed for.
 */
export function checkExecution(
  ctx: Pick<AppContext, "db" | "clock">,
  caller: Pick<Caller, "guardrailId">,
  modelSlug: string,
  input: unknown,
  maxCostMicros: number,
): void {
  if (!caller.guardrailId) return;
  const guardrail = compiledGuardrail(ctx.db, caller.guardrailId, ctx.clock.now());
  if (!guardrail) return;
  const { row } = guardrail;
  if (!rowAllows(row, modelSlug)) {
    const message = `This API key's guardrail "${row.name}" does not allow the model "${modelSlug}".`;
    throw new AppError("FORBIDDEN", message, [{ field: "model", code: "unsupported", message }]);
  }
  if (row.maxCostMicros !== null && maxCostMicros > row.maxCostMicros) {
    const message = `This execution may cost up to $${formatUsd(maxCostMicros)}, above the $${formatUsd(row.maxCostMicros)} per execution allowed by guardrail "${row.name}"; ask for less output.`;
    throw new AppError("FORBIDDEN", message, [{ field: "input", code: "out_of_range", message }]);
  }
  const violation = firstViolation(input, guardrail.rules);
  if (violation) {
    const message = `${violation.field} matches content rule ${violation.ruleIndex + 1} of guardrail "${row.name}".`;
    throw new AppError("CONTENT_MODERATION_REJECTED", message, [{ field: violation.field, code: "unsupported", message }]);
  }
}
