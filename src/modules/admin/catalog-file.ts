/**
 * The catalog file the operator applies and exports (`modelroute catalog apply|export`,
 * `GET/PUT /admin/v1/catalog`): providers and models with their routes, snake_case, prices as
 * money strings. Validation names every bad field by its path (`models[2].pricing.per_image:
 * must be a money string …`), so a long YAML file can be fixed in one pass.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import type { Db } from "../../db/client";
import type { Pricing } from "../../db/schema";
import type { FieldIssue } from "../../errors";
import { toFieldIssues } from "../../http/validation";
import { formatUsd, parseUsd } from "../../money";
import { TASK_INPUT_SCHEMAS } from "../../canonical/tasks";
import { seal, unseal } from "../../db/secret-box";
import { adapterKinds } from "../../providers/registry";
import type { CatalogModel, CatalogProvider } from "../catalog/default-catalog";
import * as Catalog from "../catalog/service";

const strict = { additionalProperties: false } as const;
const json = Type.Record(Type.String(), Type.Unknown());
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const PRICE_FIELDS = ["per_image", "input_per_1m_tokens", "output_per_1m_tokens", "cached_input_per_1m_tokens", "cache_write_per_1m_tokens", "per_second", "per_1m_characters", "per_request", "per_cache_hit"] as const;
const PRICE_COLUMNS = {
  per_image: "perImageMicros",
  input_per_1m_tokens: "inputPer1mTokensMicros",
  output_per_1m_tokens: "outputPer1mTokensMicros",
  cached_input_per_1m_tokens: "cachedInputPer1mTokensMicros",
  cache_write_per_1m_tokens: "cacheWritePer1mTokensMicros",
  per_second: "perSecondMicros",
  per_1m_characters: "per1mCharactersMicros",
  per_request: "perRequestMicros",
  per_cache_hit: "perCacheHitMicros",
} as const;
const ENV_NAME = { minLength: 1, maxLength: 256, pattern: "^[A-Za-z_][A-Za-z0-9_]*$" };
const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:/-]*$";
const ms = (description: string, minimum = 100) => Type.Optional(nullable(Type.Integer({ minimum, maximum: 3_600_000, description })));

export const CatalogFileSchema = Type.Object(
  {
    providers: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", description: "Referenced by routes." }),
            kind: Type.String({ description: "Adapter kind: mock, openai, anthropic (docs/catalog.md)." }),
            base_url: Type.Optional(nullable(Type.String({ maxLength: 2048 }))),
            api_key_env: Type.Optional(nullable(Type.String({ ...ENV_NAME, description: "The environment variable holding the API key, read at each call." }))),
            api_keys_env: Type.Optional(nullable(Type.Array(Type.String(ENV_NAME), { minItems: 1, maxItems: 64, description: "A pool of keys, one environment variable each; a refused key is rested and the next used." }))),
            api_key_file: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 4096, description: "A file holding the API key (trailing newline ignored), read at each call." }))),
            webhook_secret_env: Type.Optional(nullable(Type.String({ ...ENV_NAME, description: "The environment variable holding the secret that signs the provider's callbacks." }))),
            api_key: Type.Optional(nullable(Type.String({ maxLength: 4096, description: "An inline key, stored in the database. Left out: the stored key is kept. null: removed. Prefer api_key_env." }))),
            config: Type.Optional(json),
          },
          strict,
        ),
        { maxItems: 1000 },
      ),
    ),
    models: Type.Optional(
      Type.Array(
        Type.Object(
          {
            slug: Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN }),
            task: Type.String({ minLength: 1, maxLength: 64, examples: ["chat"] }),
            description: Type.Optional(Type.String({ maxLength: 4000 })),
            owned_by: Type.Optional(Type.String({ maxLength: 128 })),
            input_schema: Type.Optional(json),
            pricing: Type.Object(
              {
                currency: Type.Optional(Type.Literal("USD")),
                ...Object.fromEntries(PRICE_FIELDS.map((f) => [f, Type.Optional(Type.String())])),
                batch_discount_percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: "Percent off every price for batch lines (docs/batches.md); unset: MODELROUTE_BATCH_DISCOUNT_PERCENT." })),
              },
              { ...strict, description: "Money strings, e.g. per_image: \"0.040\"." },
            ),
            max_output_tokens: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 10_000_000 }))),
            context_window: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 100_000_000, description: "Tokens the model reads at most, prompt and output together." }))),
            queue_ttl_ms: Type.Optional(nullable(Type.Integer({ minimum: 1000, maximum: 7 * 86_400_000 }))),
            cache: Type.Optional(
              nullable(
                Type.Object(
                  {
                    exact: Type.Optional(Type.Union([Type.Literal("deterministic"), Type.Literal("always"), Type.Literal("never")], { description: "deterministic (default): requests with temperature 0 or a seed; always; never." })),
                    ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400, description: "How long an answer is kept (default 3600)." })),
                    semantic: Type.Optional(
                      nullable(
                        Type.Object(
                          {
                            embedding_model: Type.String({ minLength: 1, description: "An embedding model of the catalog that embeds the prompt." }),
                            threshold: Type.Number({ minimum: 0, maximum: 1, description: "The least cosine similarity between two prompts that serves the stored answer." }),
                          },
                          strict,
                        ),
                      ),
                    ),
                  },
                  { ...strict, description: "The gateway's response cache for this model (docs/cache.md)." },
                ),
              ),
            ),
            routes: Type.Array(
              Type.Object(
                {
                  provider: Type.String({ minLength: 1 }),
                  upstream_model: Type.String({ minLength: 1, maxLength: 256 }),
                  total_ms: ms("A call that is not streamed: the longest it may take (default 120000)."),
                  timeout_ms: ms("The former name of total_ms."),
                  first_token_ms: ms("A streamed call: the longest wait for the first content (default 60000)."),
                  idle_ms: ms("A streamed call: the longest wait between two events (default 30000)."),
                  retries: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 10, description: "Attempts on this route after the first, before the next route (default 1)." }))),
                  params: Type.Optional(json),
                  max_concurrency: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 100_000 }))),
                  max_queue: Type.Optional(nullable(Type.Integer({ minimum: 0, maximum: 100_000, description: "Calls that may wait for a slot at max_concurrency (default 64)." }))),
                },
                strict,
              ),
              { minItems: 1, maxItems: 32, description: "Tried in order (failover)." },
            ),
          },
          strict,
        ),
        { maxItems: 10_000 },
      ),
    ),
    aliases: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 128, pattern: NAME_PATTERN }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 16 }), {
        // A record checks only the keys its pattern matches: without this, `{"bad name": "x"}` passed unchecked.
        additionalProperties: false,
        description: "Alias name → its models, tried in order (an empty list removes the alias). A name may not be a model slug.",
      }),
    ),
  },
  { ...strict, description: "A catalog file: providers, models and aliases to create or replace. Those not in the file are left as they are." },
);
export type CatalogFile = Static<typeof CatalogFileSchema>;

const DEFAULT_TOTAL_MS = 120_000;

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, "");
const MONEY_MESSAGE = 'must be a money string (decimal USD with at most 6 decimals, e.g. "0.040")';

/** Every problem in a parsed catalog file; empty when it can be applied to `db`. */
export function catalogIssues(db: Db, value: unknown): FieldIssue[] {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return [{ field: "body", code: "invalid_type", message: "must be an object with providers and/or models" }];
  const structural = toFieldIssues(Value.Errors(CatalogFileSchema, value)).map((i) => ({ ...i, message: lowerFirst(i.message) }));
  if (structural.length > 0) return structural;
  const file = value as CatalogFile;
  const issues: FieldIssue[] = [];
  const kinds = adapterKinds();
  const providerIds = new Set(Catalog.listProviders(db).map((p) => p.id));
  const seenProviders = new Set<string>();
  file.providers?.forEach((p, i) => {
    if (seenProviders.has(p.id)) issues.push({ field: `providers[${i}].id`, code: "invalid_format", message: `"${p.id}" appears twice in this file` });
    seenProviders.add(p.id);
    providerIds.add(p.id);
    if (!kinds.includes(p.kind)) issues.push({ field: `providers[${i}].kind`, code: "unsupported", message: `must be one of: ${kinds.join(", ")}` });
    if (p.base_url != null && !URL.canParse(p.base_url)) issues.push({ field: `providers[${i}].base_url`, code: "invalid_format", message: "must be an absolute URL" });
  });
  // Required here, not imported: Ajv's module setup would add to every cold start.
  const Ajv = (require("ajv") as typeof import("ajv")).default;
  const ajv = new Ajv({ strict: false });
  ajv.addFormat("file-id", true);
  const seenModels = new Set<string>();
  file.models?.forEach((m, i) => {
    const at = `models[${i}]`;
    if (seenModels.has(m.slug)) issues.push({ field: `${at}.slug`, code: "invalid_format", message: `"${m.slug}" appears twice in this file` });
    seenModels.add(m.slug);
    for (const f of PRICE_FIELDS) {
      const price = (m.pricing as Record<string, string | undefined>)[f];
      if (price !== undefined && parseUsd(price) === null) issues.push({ field: `${at}.pricing.${f}`, code: "invalid_format", message: MONEY_MESSAGE });
    }
    if (m.input_schema === undefined) {
      if (!TASK_INPUT_SCHEMAS[m.task]) issues.push({ field: `${at}.input_schema`, code: "required", message: `is required for the task "${m.task}" (standard tasks: ${Object.keys(TASK_INPUT_SCHEMAS).join(", ")})` });
    } else if (m.input_schema.type !== "object") issues.push({ field: `${at}.input_schema.type`, code: "invalid_format", message: 'must be "object"' });
    else {
      try {
        ajv.compile(m.input_schema);
      } catch (e) {
        issues.push({ field: `${at}.input_schema`, code: "invalid_format", message: `is not a valid JSON Schema: ${(e as Error).message}` });
      }
    }
    m.routes.forEach((r, j) => {
      if (!providerIds.has(r.provider))
        issues.push({ field: `${at}.routes[${j}].provider`, code: "not_found", message: `no provider "${r.provider}" in this file or the catalog` });
    });
  });
  issues.push(...cacheIssues(db, file), ...aliasIssues(db, file));
  return issues;
}

/** Each model's task, those of the file over those of the catalog. */
function tasksAfter(db: Db, file: CatalogFile): Map<string, string> {
  const tasks = new Map(Catalog.listModels(db).map((m) => [m.slug, m.task]));
  for (const m of file.models ?? []) tasks.set(m.slug, m.task);
  return tasks;
}

/** A semantic cache names an embedding model that exists (in this file or the catalog). */
function cacheIssues(db: Db, file: CatalogFile): FieldIssue[] {
  const tasks = tasksAfter(db, file);
  return (file.models ?? []).flatMap((m, i): FieldIssue[] => {
    const embedding = m.cache?.semantic?.embedding_model;
    if (embedding === undefined) return [];
    const field = `models[${i}].cache.semantic.embedding_model`;
    if (!tasks.has(embedding)) return [{ field, code: "not_found", message: `no model "${embedding}" in this file or the catalog` }];
    if (tasks.get(embedding) !== "embedding") return [{ field, code: "unsupported", message: `"${embedding}" is a ${tasks.get(embedding)} model; the semantic cache needs an embedding model` }];
    if (!["chat", "text-generation"].includes(m.task)) return [{ field: `models[${i}].cache.semantic`, code: "unsupported", message: `the semantic cache is for chat and text-generation models, not ${m.task}` }];
    return [];
  });
}

/**
 * Aliases: a name that is no model's slug (in the file or the catalog, either way round), models
 * that exist, are not aliases themselves, appear once and share one task.
 */
function aliasIssues(db: Db, file: CatalogFile): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const tasks = tasksAfter(db, file);
  const aliases = new Map(Catalog.listAliases(db).map((a) => [a.name, a.models]));
  for (const [name, members] of Object.entries(file.aliases ?? {})) {
    if (members.length === 0) aliases.delete(name);
    else aliases.set(name, members);
  }
  (file.models ?? []).forEach((m, i) => {
    if (aliases.has(m.slug)) issues.push({ field: `models[${i}].slug`, code: "invalid_format", message: `"${m.slug}" is an alias's name; remove the alias (an empty list) or choose another slug` });
  });
  for (const [name, members] of Object.entries(file.aliases ?? {})) {
    const at = `aliases[${JSON.stringify(name)}]`;
    if (tasks.has(name)) issues.push({ field: at, code: "invalid_format", message: `"${name}" is a model's slug; an alias needs a name of its own` });
    const seen = new Set<string>();
    members.forEach((slug, j) => {
      if (seen.has(slug)) issues.push({ field: `${at}[${j}]`, code: "invalid_format", message: `"${slug}" appears twice in this alias` });
      seen.add(slug);
      if (aliases.has(slug)) issues.push({ field: `${at}[${j}]`, code: "unsupported", message: `"${slug}" is an alias; list its models instead` });
      else if (!tasks.has(slug)) issues.push({ field: `${at}[${j}]`, code: "not_found", message: `no model "${slug}" in this file or the catalog` });
      else if (tasks.get(slug) !== tasks.get(members[0]!) && tasks.has(members[0]!))
        issues.push({ field: `${at}[${j}]`, code: "unsupported", message: `"${slug}" is a ${tasks.get(slug)} model and "${members[0]}" a ${tasks.get(members[0]!)} one; an alias's models share one task` });
    });
  }
  return issues;
}

/** The validated file as applyCatalog() takes it. A provider without `api_key` keeps its stored one. */
export function toCatalog(db: Db, file: CatalogFile): { providers: CatalogProvider[]; models: CatalogModel[]; aliases: Record<string, string[]> } {
  const stored = new Map(Catalog.listProviders(db).map((p) => [p.id, p]));
  const providers = (file.providers ?? []).map((p) => ({
    id: p.id,
    kind: p.kind,
    baseUrl: p.base_url ?? null,
    // Stored sealed (db/secret-box.ts); left out, the stored one is kept as it is.
    apiKey: p.api_key === undefined ? (stored.get(p.id)?.apiKey ?? null) : p.api_key === null ? null : seal(db, p.api_key),
    keyRefs: {
      ...(p.api_key_env ? { apiKeyEnv: p.api_key_env } : {}),
      ...(p.api_keys_env ? { apiKeysEnv: p.api_keys_env } : {}),
      ...(p.api_key_file ? { apiKeyFile: p.api_key_file } : {}),
      ...(p.webhook_secret_env ? { webhookSecretEnv: p.webhook_secret_env } : {}),
    },
    config: p.config ?? {},
  }));
  const models = (file.models ?? []).map((m) => {
    const pricing: Pricing = {};
    for (const f of PRICE_FIELDS) {
      const price = (m.pricing as Record<string, string | undefined>)[f];
      if (price !== undefined) pricing[PRICE_COLUMNS[f]] = parseUsd(price)!;
    }
    if (m.pricing.batch_discount_percent !== undefined) pricing.batchDiscountPercent = m.pricing.batch_discount_percent;
    return {
      slug: m.slug,
      task: m.task,
      description: m.description ?? "",
      ownedBy: m.owned_by ?? "custom",
      inputSchema: m.input_schema ?? null,
      pricing,
      maxOutputTokens: m.max_output_tokens ?? null,
      contextWindow: m.context_window ?? null,
      queueTtlMs: m.queue_ttl_ms ?? null,
      cache: m.cache
        ? {
            ...(m.cache.exact ? { exact: m.cache.exact } : {}),
            ...(m.cache.ttl_seconds ? { ttlSeconds: m.cache.ttl_seconds } : {}),
            ...(m.cache.semantic ? { semantic: { embeddingModel: m.cache.semantic.embedding_model, threshold: m.cache.semantic.threshold } } : {}),
          }
        : null,
      routes: m.routes.map((r) => ({
        provider: r.provider,
        upstreamModel: r.upstream_model,
        timeoutMs: r.total_ms ?? r.timeout_ms ?? DEFAULT_TOTAL_MS,
        firstTokenMs: r.first_token_ms ?? null,
        idleMs: r.idle_ms ?? null,
        retries: r.retries ?? null,
        params: r.params ?? {},
        maxConcurrency: r.max_concurrency ?? null,
        maxQueue: r.max_queue ?? null,
      })),
    };
  });
  return { providers, models, aliases: file.aliases ?? {} };
}

/** The catalog as a file; provider API keys only when asked for. */
export function exportCatalog(db: Db, opts: { includeSecrets?: boolean } = {}): CatalogFile {
  const providers = Catalog.listProviders(db)
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((p) => ({
      id: p.id,
      kind: p.kind,
      base_url: p.baseUrl,
      ...(p.keyRefs.apiKeyEnv ? { api_key_env: p.keyRefs.apiKeyEnv } : {}),
      ...(p.keyRefs.apiKeysEnv ? { api_keys_env: p.keyRefs.apiKeysEnv } : {}),
      ...(p.keyRefs.apiKeyFile ? { api_key_file: p.keyRefs.apiKeyFile } : {}),
      ...(p.keyRefs.webhookSecretEnv ? { webhook_secret_env: p.keyRefs.webhookSecretEnv } : {}),
      ...(opts.includeSecrets && { api_key: p.apiKey === null ? null : unseal(db, p.apiKey) }),
      config: p.config,
    }));
  const models = Catalog.listModels(db).map((m) => {
    const pricing: Record<string, string | number> = { currency: "USD" };
    for (const f of PRICE_FIELDS) {
      const micros = m.pricing[PRICE_COLUMNS[f]];
      if (micros !== undefined) pricing[f] = formatUsd(micros);
    }
    if (m.pricing.batchDiscountPercent !== undefined) pricing.batch_discount_percent = m.pricing.batchDiscountPercent;
    return {
      slug: m.slug,
      task: m.task,
      description: m.description,
      owned_by: m.ownedBy,
      ...(m.taskSchema ? {} : { input_schema: m.inputSchema }),
      pricing,
      max_output_tokens: m.maxOutputTokens,
      context_window: m.contextWindow,
      queue_ttl_ms: m.queueTtlMs,
      ...(m.cache && {
        cache: {
          ...(m.cache.exact && { exact: m.cache.exact }),
          ...(m.cache.ttlSeconds && { ttl_seconds: m.cache.ttlSeconds }),
          ...(m.cache.semantic && { semantic: { embedding_model: m.cache.semantic.embeddingModel, threshold: m.cache.semantic.threshold } }),
        },
      }),
      routes: m.routes.map((r) => ({
        provider: r.providerId,
        upstream_model: r.upstreamModel,
        total_ms: r.timeoutMs,
        first_token_ms: r.firstTokenMs,
        idle_ms: r.idleMs,
        retries: r.retries,
        params: r.params,
        max_concurrency: r.maxConcurrency,
        max_queue: r.maxQueue,
      })),
    };
  });
  const aliases = Object.fromEntries(Catalog.listAliases(db).map((a) => [a.name, a.models]));
  return { providers, models, ...(Object.keys(aliases).length ? { aliases } : {}) };
}
