/**
 * The model catalog: slugs, tasks, input schemas, pricing and the ordered routes to providers.
 * Reads go through an in-memory snapshot refreshed at most once a second, so a catalog applied
 * by another process (the CLI) is seen quickly without a query per request.
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { Conn, Db } from "../../db/client";
import type { Pricing } from "../../db/schema";
import { AppError, invalidFields, type FieldIssue } from "../../errors";
import { isId, newId } from "../../ids";
import { formatUsd } from "../../money";
import { pointerToPath } from "../../http/validation";
import { DEFAULT_MODELS, DEFAULT_PROVIDERS, type CatalogModel, type CatalogProvider } from "./default-catalog";
import { TASK_INPUT_SCHEMAS } from "../../canonical/tasks";
import { unseal } from "../../db/secret-box";
import { ProviderError } from "../../providers/errors";
import { providerKeys } from "../../providers/keys";
import type { RouteInfo } from "../../providers/types";
import * as store from "./store";

export type Model = store.ModelRow & { routes: store.RouteRow[] };

const SNAPSHOT_TTL_MS = 1000;

type Snapshot = { at: number; models: Map<string, Model>; providers: Map<string, store.ProviderRow>; aliases: Map<string, string[]> };
const snapshots = new WeakMap<Db, Snapshot>();

function snapshot(db: Db, now = Date.now()): Snapshot {
  const cached = snapshots.get(db);
  if (cached && now - cached.at < SNAPSHOT_TTL_MS) return cached;
  const routesBySlug = new Map<string, store.RouteRow[]>();
  for (const route of store.allRoutes(db)) {
    const list = routesBySlug.get(route.modelSlug) ?? [];
    list.push(route);
    routesBySlug.set(route.modelSlug, list);
  }
  const models = new Map(
    store.allModels(db).map((m) => [m.slug, { ...m, inputSchema: m.taskSchema ? (TASK_INPUT_SCHEMAS[m.task] ?? m.inputSchema) : m.inputSchema, routes: routesBySlug.get(m.slug) ?? [] }]),
  );
  const providers = new Map(store.allProviders(db).map((p) => [p.id, p]));
  const aliases = new Map(store.allAliases(db).map((a) => [a.name, a.models]));
  const fresh = { at: now, models, providers, aliases };
  snapshots.set(db, fresh);
  return fresh;
}

/** Drops the snapshot so this process sees its own catalog writes at once. */
export const invalidateCatalog = (db: Db) => snapshots.delete(db);

export const listModels = (db: Db): Model[] => [...snapshot(db).models.values()];

export const findModel = (db: Db, slug: string): Model | undefined => snapshot(db).models.get(slug);

/** The model or alias with this name as GET /v1/models/{slug} shows it, or 404. */
export function getModelView(db: Db, slug: string) {
  const model = findModel(db, slug);
  if (model) return modelView(model);
  const target = findTarget(db, slug);
  if (!target) throw new AppError("NOT_FOUND", `No model "${slug}".`);
  return aliasView(target);
}

/** Every model, then every alias, as GET /v1/models lists them. */
export function listModelViews(db: Db) {
  const aliases = listAliases(db).flatMap((a) => {
    const target = findTarget(db, a.name);
    return target ? [aliasView(target)] : [];
  });
  return [...listModels(db).map(modelView), ...aliases];
}

/**
 * What a name a client calls stands for: one model, or an alias's models in the order they are
 * tried (docs/catalog.md "Aliases"). A member removed from the catalog since is left out.
 */
export type Target = { name: string; models: Model[]; alias: boolean };

export function findTarget(db: Db, name: string): Target | undefined {
  const snap = snapshot(db);
  const model = snap.models.get(name);
  if (model) return { name, models: [model], alias: false };
  const members = snap.aliases.get(name);
  if (!members) return undefined;
  const models = members.flatMap((slug) => snap.models.get(slug) ?? []);
  return models.length ? { name, models, alias: true } : undefined;
}

/**
 * The target of an execution request, or 400 on `model`; `fallbacks` (OpenRouter's `models`)
 * follow in order, an alias among them standing for its models, each model once.
 */
export function resolveTarget(db: Db, name: string, fallbacks: readonly string[] = []): Target {
  const target = findTarget(db, name);
  if (!target) {
    const message = `Unknown model "${name}". GET /v1/models lists the available slugs.`;
    throw new AppError("INPUT_VALIDATION_ERROR", message, [{ field: "model", code: "not_found", message }]);
  }
  if (fallbacks.length === 0) return target;
  const models = [...target.models];
  for (const fallback of fallbacks) for (const m of findTarget(db, fallback)?.models ?? []) if (!models.includes(m)) models.push(m);
  return { name, models, alias: target.alias || models.length > 1 };
}

/**
 * The model a client-dialect request names: the model, or for an alias its first model under the
 * alias's name (what the dialect checks the task against and shows), the execution then trying
 * all of the alias's models.
 */
export function findCallable(db: Db, name: string): Model | undefined {
  const target = findTarget(db, name);
  if (!target) return undefined;
  return target.alias ? { ...target.models[0]!, slug: name } : target.models[0];
}

/**
 * Every name a client may call, for the surfaces whose model lists have no alias field of their
 * own (Ollama's tags, Gemini's models): each model, then each alias as its first model under the
 * alias's name (findCallable's view).
 */
export function listCallable(db: Db): Model[] {
  const aliases = listAliases(db).flatMap((a) => {
    const model = findCallable(db, a.name);
    return model ? [model] : [];
  });
  return [...listModels(db), ...aliases];
}

/** Every alias of the catalog with its member slugs, by name. */
export const listAliases = (db: Db): { name: string; models: string[] }[] => [...snapshot(db).aliases].map(([name, models]) => ({ name, models }));

/** Every provider of the catalog (the admin export and apply read them). */
export const listProviders = (db: Db): store.ProviderRow[] => [...snapshot(db).providers.values()];

/** The model for an execution request, or 400 with `details[].field = "model"`. */
export function resolveModel(db: Db, slug: string): Model {
  const model = findModel(db, slug);
  if (!model) {
    const message = `Unknown model "${slug}". GET /v1/models lists the available slugs.`;
    throw new AppError("INPUT_VALIDATION_ERROR", message, [{ field: "model", code: "not_found", message }]);
  }
  return model;
}

/**
 * A provider's keys as the router gets them: references read now, the stored key unsealed. A
 * reference that resolves to nothing, or a stored key that cannot be unsealed, throws a
 * ProviderError naming it (never a value).
 */
export function keysOf(db: Db, provider: store.ProviderRow): string[] {
  let apiKey: string | null = null;
  if (provider.apiKey !== null) {
    try {
      apiKey = unseal(db, provider.apiKey);
    } catch (error) {
      throw new ProviderError("auth", `provider ${provider.id}: the stored api_key cannot be read (${(error as Error).message})`);
    }
  }
  return providerKeys({ ...provider, apiKey });
}

const DEFAULT_FIRST_TOKEN_MS = 60_000;
const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_RETRIES = 1;
const DEFAULT_MAX_QUEUE = 64;

/** The model's routes joined with their providers, in failover order, as the router takes them. */
export function routesOf(db: Db, model: Model): RouteInfo[] {
  const providers = snapshot(db).providers;
  return model.routes.flatMap((r) => {
    const provider = providers.get(r.providerId);
    if (!provider) return [];
    return [
      {
        id: r.id,
        upstreamModel: r.upstreamModel,
        params: r.params,
        timeouts: { totalMs: r.timeoutMs, firstTokenMs: r.firstTokenMs ?? Math.min(DEFAULT_FIRST_TOKEN_MS, r.timeoutMs), idleMs: r.idleMs ?? DEFAULT_IDLE_MS },
        retries: r.retries ?? DEFAULT_RETRIES,
        maxConcurrency: r.maxConcurrency,
        maxQueue: r.maxQueue ?? DEFAULT_MAX_QUEUE,
        maxOutputTokens: model.maxOutputTokens,
        provider: { id: provider.id, kind: provider.kind, baseUrl: provider.baseUrl, config: provider.config },
        apiKeys: () => keysOf(db, provider),
        webhookSecret: () => (provider.keyRefs.webhookSecretEnv ? process.env[provider.keyRefs.webhookSecretEnv]?.trim() || null : null),
      },
    ];
  });
}

let ajv: import("ajv").default | undefined;

/** Loaded on the first validation, not at start-up: Ajv's module setup costs ~6 ms of every cold start. */
function validatorCompiler(): import("ajv").default {
  if (ajv) return ajv;
  const Ajv = (require("ajv") as typeof import("ajv")).default;
  ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, coerceTypes: false });
  ajv.addFormat("file-id", (value: string) => isId("file", value));
  return ajv;
}
/** Compiled validators by schema text; a schema object the snapshot parsed again is looked up once by its text, then by identity. */
const validatorsByText = new Map<string, ValidateFunction>();
const validatorsBySchema = new WeakMap<object, ValidateFunction>();

function validatorFor(model: Model): ValidateFunction {
  let validate = validatorsBySchema.get(model.inputSchema);
  if (validate) return validate;
  const text = JSON.stringify(model.inputSchema);
  validate = validatorsByText.get(text);
  if (!validate) {
    validate = validatorCompiler().compile(model.inputSchema);
    validatorsByText.set(text, validate);
  }
  validatorsBySchema.set(model.inputSchema, validate);
  return validate;
}

/** Ajv's messages already start with "must" ("must NOT have more than 4000 characters"). */
const sentence = (message: string | undefined) => (message ? `${message[0]!.toUpperCase()}${message.slice(1)}.` : "Is invalid.");

function issueOf(e: ErrorObject): FieldIssue {
  const base = pointerToPath(e.instancePath, "input");
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { field: `${base}.${p.missingProperty}`, code: "required", message: "This field is required." };
    case "additionalProperties":
      return { field: `${base}.${p.additionalProperty}`, code: "unknown_field", message: "Unknown field." };
    case "maxLength":
    case "maxItems":
    case "maxProperties":
      return { field: base, code: "too_long", message: sentence(e.message) };
    case "minLength":
    case "minItems":
    case "minProperties":
      return { field: base, code: "too_short", message: sentence(e.message) };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
    case "multipleOf":
      return { field: base, code: "out_of_range", message: `Must be ${p.comparison ?? ""} ${p.limit ?? ""}`.replace(/\s+/g, " ").trim() + "." };
    case "enum":
      return { field: base, code: "invalid_format", message: `Must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}.` };
    case "format":
    case "pattern":
    case "const":
      return { field: base, code: "invalid_format", message: sentence(e.message) };
    case "type":
      return { field: base, code: "invalid_type", message: `Expected ${p.type}.` };
    default:
      return { field: base, code: "invalid_type", message: sentence(e.message) };
  }
}

/**
 * Validates (and fills defaults into) an execution input; throws INPUT_VALIDATION_ERROR with one
 * detail per field. Returns a copy, so the caller's object is not changed — unless `inPlace`,
 * for an object the caller owns (a row just read).
 */
export function validateInput(model: Model, input: Record<string, unknown>, opts: { inPlace?: boolean } = {}): Record<string, unknown> {
  const copy = opts.inPlace ? input : structuredClone(input);
  const validate = validatorFor(model);
  if (validate(copy)) return copy;
  const byField = new Map<string, FieldIssue>();
  for (const e of validate.errors ?? []) {
    // oneOf/anyOf report each branch's failure plus their own; keep the one for the field.
    const issue = e.keyword === "oneOf" || e.keyword === "anyOf" ? { field: pointerToPath(e.instancePath, "input"), code: "invalid_type", message: "Does not match any allowed shape." } : issueOf(e);
    if (!byField.has(issue.field) || e.keyword === "oneOf" || e.keyword === "anyOf") byField.set(issue.field, issue);
  }
  throw invalidFields([...byField.values()], "input fields are invalid");
}

/** Paths (within input) of the fields the schema marks as file ids. */
export function fileFields(model: Model): string[] {
  const props = (model.inputSchema.properties ?? {}) as Record<string, { format?: string; items?: { format?: string } }>;
  return Object.entries(props)
    .filter(([, s]) => s.format === "file-id" || s.items?.format === "file-id")
    .map(([name]) => name);
}

export type PricingView = {
  currency: "USD";
  per_image?: string;
  input_per_1m_tokens?: string;
  output_per_1m_tokens?: string;
  cached_input_per_1m_tokens?: string;
  cache_write_per_1m_tokens?: string;
  per_second?: string;
  per_1m_characters?: string;
  per_request?: string;
  per_cache_hit?: string;
};

export function pricingView(p: Pricing): PricingView {
  const view: PricingView = { currency: "USD" };
  if (p.perImageMicros !== undefined) view.per_image = formatUsd(p.perImageMicros);
  if (p.inputPer1mTokensMicros !== undefined) view.input_per_1m_tokens = formatUsd(p.inputPer1mTokensMicros);
  if (p.outputPer1mTokensMicros !== undefined) view.output_per_1m_tokens = formatUsd(p.outputPer1mTokensMicros);
  if (p.cachedInputPer1mTokensMicros !== undefined) view.cached_input_per_1m_tokens = formatUsd(p.cachedInputPer1mTokensMicros);
  if (p.cacheWritePer1mTokensMicros !== undefined) view.cache_write_per_1m_tokens = formatUsd(p.cacheWritePer1mTokensMicros);
  if (p.perSecondMicros !== undefined) view.per_second = formatUsd(p.perSecondMicros);
  if (p.per1mCharactersMicros !== undefined) view.per_1m_characters = formatUsd(p.per1mCharactersMicros);
  if (p.perRequestMicros !== undefined) view.per_request = formatUsd(p.perRequestMicros);
  if (p.perCacheHitMicros !== undefined) view.per_cache_hit = formatUsd(p.perCacheHitMicros);
  return view;
}

export function modelView(m: Model) {
  return {
    id: m.slug,
    object: "model" as const,
    created: Math.floor(m.createdAt / 1000),
    owned_by: m.ownedBy,
    type: "model" as const,
    display_name: m.slug,
    created_at: new Date(m.createdAt).toISOString(),
    task: m.task,
    context_window: m.contextWindow,
    max_output_tokens: m.maxOutputTokens,
    description: m.description,
    input_schema: m.inputSchema,
    pricing: { ...pricingView(m.pricing), ...(m.pricing.batchDiscountPercent !== undefined ? { batch_discount_percent: m.pricing.batchDiscountPercent } : {}) },
  };
}

/**
 * An alias in the model list: its first model's task, schema and limits under the alias's name,
 * `alias_of` naming its models in order. Each call is charged at the price of the model that
 * answers; `pricing` is the first model's.
 */
export function aliasView(target: Target) {
  const first = modelView(target.models[0]!);
  const names = target.models.map((m) => m.slug);
  return {
    ...first,
    id: target.name,
    display_name: target.name,
    owned_by: "modelroute",
    description: `Alias: ${names.join(", then ")}; the first that can answer does, at its own price.`,
    alias_of: names,
  };
}

/** Writes providers, models (with their routes) and aliases in the caller's transaction; an alias with no models is removed. */
export function applyCatalog(conn: Conn, catalog: { providers: CatalogProvider[]; models: CatalogModel[]; aliases?: Record<string, string[]> }, now: number) {
  for (const p of catalog.providers)
    store.upsertProvider(conn, { id: p.id, kind: p.kind, baseUrl: p.baseUrl ?? null, apiKey: p.apiKey ?? null, keyRefs: p.keyRefs ?? {}, config: p.config ?? {}, createdAt: now });
  for (const m of catalog.models) {
    store.replaceModel(
      conn,
      {
        slug: m.slug,
        task: m.task,
        description: m.description,
        ownedBy: m.ownedBy,
        inputSchema: m.inputSchema ?? TASK_INPUT_SCHEMAS[m.task] ?? { type: "object" },
        taskSchema: m.inputSchema === null,
        pricing: m.pricing,
        maxOutputTokens: m.maxOutputTokens ?? null,
        contextWindow: m.contextWindow ?? null,
        queueTtlMs: m.queueTtlMs ?? null,
        cache: m.cache ?? null,
        createdAt: now,
      },
      m.routes.map((r, position) => ({
        id: newId("route"),
        modelSlug: m.slug,
        providerId: r.provider,
        upstreamModel: r.upstreamModel,
        params: r.params ?? {},
        position,
        timeoutMs: r.timeoutMs,
        firstTokenMs: r.firstTokenMs ?? null,
        idleMs: r.idleMs ?? null,
        retries: r.retries ?? null,
        maxConcurrency: r.maxConcurrency ?? null,
        maxQueue: r.maxQueue ?? null,
      })),
    );
  }
  for (const [name, members] of Object.entries(catalog.aliases ?? {})) {
    if (members.length === 0) store.deleteAlias(conn, name);
    else store.upsertAlias(conn, { name, models: members, createdAt: now });
  }
}

/** First-run hook: the embedded demo catalog. */
export const seedDefaultCatalog = (conn: Conn, now: number) =>
  applyCatalog(conn, { providers: DEFAULT_PROVIDERS, models: DEFAULT_MODELS }, now);
