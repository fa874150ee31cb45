/**
 * Every table of ModelRoute. Times are integer milliseconds since the epoch, money is integer
 * micro-USD, JSON columns hold objects. Each module reaches these tables only through its own
 * store.ts; nothing else queries them.
 */
import { sql } from "drizzle-orm";
import type { Usage } from "../canonical/usage";
import type { RoutePreferences } from "../providers/preferences";
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const json = <T>(name: string) => text(name, { mode: "json" }).$type<T>();

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const orgs = sqliteTable("orgs", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  status: text("status", { enum: ["active", "suspended"] }).notNull().default("active"),
  webhookSecret: text("webhook_secret"),
  webhookPreviousSecret: text("webhook_previous_secret"),
  webhookPreviousExpiresAt: integer("webhook_previous_expires_at"),
  createdAt: integer("created_at").notNull(),
});

export type KeyLimits = {
  requestsPerMinute?: number | null;
  maxConcurrentExecutions?: number | null;
  spendLimitMicros?: number | null;
  spendLimitReset?: "daily" | "weekly" | "monthly" | "none" | null;
};

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    permission: text("permission", { enum: ["full", "inference"] }).notNull(),
    maskedKey: text("masked_key").notNull(),
    limits: json<KeyLimits>("limits").notNull().default({}),
    guardrailId: text("guardrail_id"),
    /** The response cache for this key's calls (docs/cache.md): "default" (the model's rules), "always" or "never". */
    responseCache: text("response_cache", { enum: ["default", "always", "never"] }).notNull().default("default"),
    disabled: integer("disabled", { mode: "boolean" }).notNull().default(false),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
    lastUsedAt: integer("last_used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("api_keys_org").on(t.orgId, t.id)],
);

/** One row per secret of a key: rotation adds a new one and gives the old one an expiry. */
export const apiKeySecrets = sqliteTable(
  "api_key_secrets",
  {
    hash: text("hash").primaryKey(),
    keyId: text("key_id").notNull().references(() => apiKeys.id),
    expiresAt: integer("expires_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("api_key_secrets_key").on(t.keyId)],
);

export const providers = sqliteTable("providers", {
  id: text("id").primaryKey(),
  kind: text("kind").notNull(),
  baseUrl: text("base_url"),
  apiKey: text("api_key"),
  /** Where the secrets live (environment variables, files): names only, never the secrets. */
  keyRefs: json<ProviderKeyRefs>("key_refs").notNull().default({}),
  config: json<Record<string, unknown>>("config").notNull().default({}),
  createdAt: integer("created_at").notNull(),
});

export type ProviderKeyRefs = { apiKeyEnv?: string; apiKeysEnv?: string[]; apiKeyFile?: string; webhookSecretEnv?: string };

export type Pricing = {
  perImageMicros?: number;
  inputPer1mTokensMicros?: number;
  outputPer1mTokensMicros?: number;
  perSecondMicros?: number;
  /** Characters of text read (speech synthesis), per million. */
  per1mCharactersMicros?: number;
  /** Each completed call, whatever its size (moderation, rerank searches). */
  perRequestMicros?: number;
  /** Input tokens read from a prompt cache; the input rate when unset. */
  cachedInputPer1mTokensMicros?: number;
  /** Input tokens written to a prompt cache; the input rate when unset. */
  cacheWritePer1mTokensMicros?: number;
  /** Percent off every rate for batch lines (docs/batches.md); MODELROUTE_BATCH_DISCOUNT_PERCENT when unset. */
  batchDiscountPercent?: number;
  /** Percent off every rate of this execution (set on batch lines, never in the catalog). */
  discountPercent?: number;
  /** Each answer served from the gateway's response cache (docs/cache.md); 0 when unset. */
  perCacheHitMicros?: number;
};

/** A model's response-cache settings (docs/cache.md); null on the model: the defaults. */
export type ModelCacheSettings = {
  /** Exact cache: "deterministic" (the default: temperature 0 or a seed), "always" or "never". */
  exact?: "deterministic" | "always" | "never";
  /** How long an answer is kept, in seconds (default 3600). */
  ttlSeconds?: number;
  /** Opt-in semantic cache: the embedding model that embeds the prompt and the least cosine similarity that counts as the same prompt. */
  semantic?: { embeddingModel: string; threshold: number } | null;
};

export const models = sqliteTable("models", {
  slug: text("slug").primaryKey(),
  task: text("task").notNull(),
  description: text("description").notNull(),
  ownedBy: text("owned_by").notNull(),
  inputSchema: json<Record<string, unknown>>("input_schema").notNull(),
  /** The catalog gave no schema: the task's canonical one applies (input_schema holds a copy). */
  taskSchema: integer("task_schema", { mode: "boolean" }).notNull().default(false),
  pricing: json<Pricing>("pricing").notNull(),
  maxOutputTokens: integer("max_output_tokens"),
  contextWindow: integer("context_window"),
  queueTtlMs: integer("queue_ttl_ms"),
  cache: json<ModelCacheSettings>("cache"),
  enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
  createdAt: integer("created_at").notNull(),
});

export const routes = sqliteTable(
  "routes",
  {
    id: text("id").primaryKey(),
    modelSlug: text("model_slug").notNull().references(() => models.slug, { onDelete: "cascade" }),
    providerId: text("provider_id").notNull().references(() => providers.id),
    upstreamModel: text("upstream_model").notNull(),
    params: json<Record<string, unknown>>("params").notNull().default({}),
    position: integer("position").notNull(),
    /** Total time of a call that is not streamed. */
    timeoutMs: integer("timeout_ms").notNull(),
    /** Streams: the longest wait for the first content, and between two events. */
    firstTokenMs: integer("first_token_ms"),
    idleMs: integer("idle_ms"),
    /** Attempts on this route after the first, before the next route. */
    retries: integer("retries"),
    maxConcurrency: integer("max_concurrency"),
    /** Calls that may wait for a slot when max_concurrency are in flight. */
    maxQueue: integer("max_queue"),
  },
  (t) => [index("routes_model").on(t.modelSlug, t.position)],
);

/** A name clients may call in place of a model slug: its models, tried in order (docs/catalog.md "Aliases"). */
export const modelAliases = sqliteTable("model_aliases", {
  name: text("name").primaryKey(),
  models: json<string[]>("models").notNull(),
  description: text("description").notNull().default(""),
  createdAt: integer("created_at").notNull(),
});

export type ExecutionUsage = Usage;

export const executions = sqliteTable(
  "executions",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    keyId: text("key_id"),
    model: text("model").notNull(),
    status: text("status", {
      enum: ["PENDING", "PROCESSING", "AWAITING_WEBHOOK", "COMPLETED", "FAILED", "CANCELLED", "EXPIRED"],
    }).notNull(),
    mode: text("mode", { enum: ["ASYNC", "SYNC", "STREAMING"] }).notNull(),
    input: json<Record<string, unknown>>("input"),
    output: json<Record<string, unknown>>("output"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    usage: json<ExecutionUsage>("usage"),
    costMicros: integer("cost_micros"),
    holdMicros: integer("hold_micros").notNull().default(0),
    metadata: json<Record<string, string>>("metadata"),
    webhookUrl: text("webhook_url"),
    routeId: text("route_id"),
    providerJob: json<Record<string, unknown>>("provider_job"),
    /** The unguessable part of the URL an asynchronous upstream calls back on. */
    callbackToken: text("callback_token"),
    /** The caller's preferences among the model's routes (OpenRouter's `provider`); null: all, in order. */
    routing: json<RoutePreferences>("routing"),
    /** The models to try in order when there are several (an alias, OpenRouter's `models`); null: `model` alone. */
    candidates: json<string[]>("candidates"),
    /** The model that answered (one of `candidates`, or `model`); null until one did. */
    servedModel: text("served_model"),
    /** The response cache's part (docs/cache.md): null when the request was not cacheable. */
    cacheStatus: text("cache_status", { enum: ["hit", "semantic_hit", "miss"] }),
    cacheKey: text("cache_key"),
    /** A hit: the execution whose answer it served, and what that one cost above this one. */
    cacheSource: text("cache_source"),
    cacheSavedMicros: integer("cache_saved_micros"),
    deadlineAt: integer("deadline_at"),
    /** Percent off the model's prices for this execution (a batch line's discount); null: full price. */
    discountPercent: integer("discount_percent"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    /** When an asynchronous upstream took it (AWAITING_WEBHOOK); the status history is derived from these times. */
    awaitingAt: integer("awaiting_at"),
    completedAt: integer("completed_at"),
    purgedAt: integer("purged_at"),
  },
  (t) => [
    index("executions_org").on(t.orgId, t.id),
    // Partial indexes: a finished execution (almost all of them) is in none but the purge's, and
    // a new one in none but the open one's, so each write touches fewer pages (docs/decisions.md
    // "Indexes that hold only what their queries look for"). Queries name the WHERE term exactly.
    index("executions_open").on(t.status).where(sql`status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK')`),
    index("executions_to_purge").on(t.completedAt).where(sql`completed_at IS NOT NULL AND purged_at IS NULL`),
    uniqueIndex("executions_callback_token").on(t.callbackToken).where(sql`callback_token IS NOT NULL`),
  ],
);

export const jobs = sqliteTable(
  "jobs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    kind: text("kind").notNull(),
    payload: json<Record<string, unknown>>("payload").notNull(),
    runAt: integer("run_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    maxAttempts: integer("max_attempts").notNull(),
    lockedUntil: integer("locked_until"),
    lastError: text("last_error"),
    uniqueKey: text("unique_key"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("jobs_due").on(t.kind, t.runAt), uniqueIndex("jobs_unique_key").on(t.uniqueKey)],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    orgId: text("org_id").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    statusCode: integer("status_code").notNull(),
    resourceId: text("resource_id"),
    response: text("response").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.method, t.path, t.key] }), index("idempotency_expires").on(t.expiresAt)],
);

/**
 * Requests per key and 60 s window, for replicas on PostgreSQL that must share one count
 * (http/rate-limit.ts SharedWindowLimiter). A single SQLite process counts in memory instead.
 */
export const rateWindows = sqliteTable(
  "rate_windows",
  {
    keyId: text("key_id").notNull(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.windowStart] })],
);

export const balances = sqliteTable("balances", {
  orgId: text("org_id").primaryKey().references(() => orgs.id),
  availableMicros: integer("available_micros").notNull().default(0),
  heldMicros: integer("held_micros").notNull().default(0),
  /** `balance.low` settings live on the row every hold and capture updates: no extra lookup. */
  lowBalanceThresholdMicros: integer("low_balance_threshold_micros"),
  lowBalanceArmed: integer("low_balance_armed", { mode: "boolean" }).notNull().default(true),
});

export const ledgerEntries = sqliteTable(
  "ledger_entries",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    /**
     * Credits and adjustments. A `resolve` is only stored for an execution that no longer exists;
     * every other execution's resolution is derived from its row (store.ts derivedResolutions).
     */
    kind: text("kind", { enum: ["credit", "resolve", "adjustment"] }).notNull(),
    /** Signed effect on `available` over the entry's whole story: a resolution's is minus what it captured. */
    amountMicros: integer("amount_micros").notNull(),
    capturedMicros: integer("captured_micros"),
    releasedMicros: integer("released_micros"),
    executionId: text("execution_id"),
    keyId: text("key_id"),
    /** Entries written before migration 0011 only (the hold entry a resolution resolved). */
    holdId: text("hold_id"),
    note: text("note"),
    idempotencyKey: text("idempotency_key"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    index("ledger_org").on(t.orgId, t.id),
    uniqueIndex("ledger_credit_idempotency").on(t.orgId, t.idempotencyKey).where(sql`idempotency_key IS NOT NULL`),
  ],
);

/**
 * What each key's executions captured, by the UTC day they were created (day = created_at / 86,400,000):
 * spend limits and key reports sum a window's days without reading an execution. One upsert per
 * resolution that captured anything, in its transaction (docs/decisions.md "Resolutions derived from the execution").
 */
export const keySpend = sqliteTable(
  "key_spend",
  {
    keyId: text("key_id").notNull(),
    day: integer("day").notNull(),
    capturedMicros: integer("captured_micros").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyId, t.day] })],
);

export const files = sqliteTable(
  "files",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    filename: text("filename").notNull(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    sha256: text("sha256"),
    status: text("status", { enum: ["pending", "uploaded", "failed", "expired"] }).notNull(),
    backend: text("backend", { enum: ["local", "s3"] }).notNull(),
    storageKey: text("storage_key").notNull(),
    executionId: text("execution_id"),
    /** OpenAI's purpose (`batch`, `batch_output`, `user_data`, …) of a file made through POST /v1/files or by a batch; null for native files. */
    purpose: text("purpose"),
    createdAt: integer("created_at").notNull(),
    uploadedAt: integer("uploaded_at"),
    expiresAt: integer("expires_at"),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("files_org").on(t.orgId, t.id), index("files_expires").on(t.expiresAt)],
);

export const webhookEndpoints = sqliteTable(
  "webhook_endpoints",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    url: text("url").notNull(),
    events: json<string[] | null>("events"),
    description: text("description"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    disabledReason: text("disabled_reason"),
    secret: text("secret").notNull(),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: integer("previous_secret_expires_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("webhook_endpoints_org").on(t.orgId, t.id)],
);

/** The outbox: written in the transaction that changes what the event describes. */
export const events = sqliteTable(
  "events",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    type: text("type").notNull(),
    data: json<Record<string, unknown>>("data").notNull(),
    executionId: text("execution_id"),
    webhookUrl: text("webhook_url"),
    createdAt: integer("created_at").notNull(),
    dispatchedAt: integer("dispatched_at"),
  },
  (t) => [index("events_undispatched").on(t.dispatchedAt), index("events_org").on(t.orgId, t.id)],
);

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull(),
    eventId: text("event_id").notNull(),
    endpointId: text("endpoint_id"),
    url: text("url").notNull(),
    status: text("status", { enum: ["pending", "succeeded", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastStatusCode: integer("last_status_code"),
    nextAttemptAt: integer("next_attempt_at"),
    deadlineAt: integer("deadline_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("webhook_deliveries_endpoint").on(t.endpointId, t.id), index("webhook_deliveries_org").on(t.orgId, t.id)],
);

export const webhookAttempts = sqliteTable(
  "webhook_attempts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deliveryId: text("delivery_id").notNull(),
    attempt: integer("attempt").notNull(),
    at: integer("at").notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
    nextRetryAt: integer("next_retry_at"),
  },
  (t) => [index("webhook_attempts_delivery").on(t.deliveryId, t.attempt)],
);

export type ContentRule = { kind: "term" | "regex"; pattern: string };

export const guardrails = sqliteTable(
  "guardrails",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    name: text("name").notNull(),
    description: text("description"),
    allowedModels: json<string[] | null>("allowed_models"),
    blockedModels: json<string[] | null>("blocked_models"),
    maxCostMicros: integer("max_cost_micros"),
    contentRules: json<ContentRule[]>("content_rules").notNull().default([]),
    limits: json<KeyLimits>("limits").notNull().default({}),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("guardrails_org").on(t.orgId, t.id)],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    details: json<Record<string, unknown>>("details"),
    createdAt: integer("created_at").notNull(),
  },
);

/**
 * A response of the OpenAI Responses API kept for `GET /v1/responses/{id}` and
 * `previous_response_id`: the execution holds the conversation and the output; this row holds
 * what the Responses object echoes back. No row when the request said `store: false`.
 */
export const storedResponses = sqliteTable(
  "stored_responses",
  {
    executionId: text("execution_id").primaryKey().references(() => executions.id),
    orgId: text("org_id").notNull().references(() => orgs.id),
    previousResponseId: text("previous_response_id"),
    /** The request's `instructions`: the execution's first message, not carried to the next turn. */
    instructions: text("instructions"),
    /** How many of the execution's messages came from `previous_response_id` (left out of its input items). */
    historyMessages: integer("history_messages").notNull().default(0),
    /** The request's parameters as the Responses object echoes them (tools, tool_choice, text, …). */
    echo: json<Record<string, unknown>>("echo").notNull(),
    deletedAt: integer("deleted_at"),
    createdAt: integer("created_at").notNull(),
  },
);

/**
 * What an AIMP-compatible run (`POST /api/runs`) adds to its execution: the mode, the vector
 * scope, the item an `index` run writes, and once settled what it did (the item indexed, or a
 * search's hits). Execute runs have a row too, so `GET /api/runs/{id}` can say what was asked.
 */
export const aimpRuns = sqliteTable(
  "aimp_runs",
  {
    executionId: text("execution_id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    mode: text("mode", { enum: ["execute", "index", "search"] }).notNull(),
    scope: text("scope"),
    /** index: the item id (given or generated at create); search: null. */
    itemId: text("item_id"),
    /** index: the item's metadata and input reference; search: top_k and the filter. */
    request: json<Record<string, unknown>>("request"),
    /** Null until settled: the run's output as `GET /api/runs/{id}` shows it. */
    result: json<Record<string, unknown>>("result"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("aimp_runs_org").on(t.orgId, t.executionId)],
);

/** One vector scope: (organization, model, scope) with its dimensions and a version that changes on every write. */
export const vectorScopes = sqliteTable(
  "vector_scopes",
  {
    orgId: text("org_id").notNull().references(() => orgs.id),
    model: text("model").notNull(),
    scope: text("scope").notNull(),
    dimensions: integer("dimensions").notNull(),
    itemCount: integer("item_count").notNull(),
    /** Changes on every write; an index snapshot on disk is used only when it was saved at this version. */
    version: text("version").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.orgId, t.model, t.scope] })],
);

/** An indexed item: its vector (little-endian float32), metadata and a reference to its input. */
export const vectorItems = sqliteTable(
  "vector_items",
  {
    /** The key of the item in the in-memory index. */
    rowId: integer("row_id").primaryKey({ autoIncrement: true }),
    orgId: text("org_id").notNull(),
    model: text("model").notNull(),
    scope: text("scope").notNull(),
    itemId: text("item_id").notNull(),
    vector: blob("vector", { mode: "buffer" }).notNull(),
    metadata: json<Record<string, unknown>>("metadata").notNull(),
    /** What was embedded: `{text}` (cut to 1,000 characters) or `{media_ref}`. */
    inputRef: json<Record<string, unknown>>("input_ref").notNull(),
    /** The index run that wrote it last. */
    runId: text("run_id").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("vector_items_key").on(t.orgId, t.model, t.scope, t.itemId),
    // Covering for a metadata filter: matching items are found without reading their vectors,
    // whose overflow pages a table scan would otherwise walk for every item.
    index("vector_items_scope").on(t.orgId, t.model, t.scope, t.rowId, t.metadata),
  ],
);

/**
 * A batch of requests run in the background at a discount: OpenAI's Batch API (lines read from an
 * uploaded JSONL file) or Anthropic's Message Batches (requests in the create body). Status uses
 * OpenAI's words; the Anthropic surface maps them to its processing_status. Counters move in the
 * transaction that settles each line, so request_counts never need a scan.
 */
export const batches = sqliteTable(
  "batches",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    /** The key that created it and its limits then: every line runs as that caller. */
    caller: json<Record<string, unknown>>("caller").notNull(),
    dialect: text("dialect", { enum: ["openai", "anthropic"] }).notNull(),
    endpoint: text("endpoint").notNull(),
    inputFileId: text("input_file_id"),
    completionWindow: text("completion_window").notNull(),
    status: text("status", { enum: ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"] }).notNull(),
    /** OpenAI's `errors.data` when validation failed. */
    errors: json<Record<string, unknown>[]>("errors"),
    metadata: json<Record<string, string>>("metadata"),
    outputFileId: text("output_file_id"),
    errorFileId: text("error_file_id"),
    discountPercent: integer("discount_percent").notNull(),
    total: integer("total").notNull().default(0),
    succeeded: integer("succeeded").notNull().default(0),
    errored: integer("errored").notNull().default(0),
    canceled: integer("canceled").notNull().default(0),
    expired: integer("expired").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    inProgressAt: integer("in_progress_at"),
    finalizingAt: integer("finalizing_at"),
    completedAt: integer("completed_at"),
    failedAt: integer("failed_at"),
    expiredAt: integer("expired_at"),
    cancellingAt: integer("cancelling_at"),
    cancelledAt: integer("cancelled_at"),
    deletedAt: integer("deleted_at"),
  },
  (t) => [index("batches_org").on(t.orgId, t.id)],
);

/**
 * One request of a batch. `execution_id` is set in the transaction that creates its execution
 * (so a restart never creates a second one); `outcome` and `result` once it has ended.
 */
export const batchLines = sqliteTable(
  "batch_lines",
  {
    batchId: text("batch_id").notNull(),
    line: integer("line").notNull(),
    customId: text("custom_id").notNull(),
    model: text("model").notNull(),
    /** The canonical execution input the endpoint's dialect made of the line's body. */
    input: json<Record<string, unknown>>("input").notNull(),
    executionId: text("execution_id"),
    outcome: text("outcome", { enum: ["succeeded", "errored", "canceled", "expired"] }),
    statusCode: integer("status_code"),
    /** The response body (or error body) the output or error file carries for this line. */
    result: json<Record<string, unknown>>("result"),
  },
  (t) => [primaryKey({ columns: [t.batchId, t.line] }), index("batch_lines_open").on(t.batchId, t.outcome)],
);

/**
 * The response cache (docs/cache.md): one answer per key (a hash of the organization, the model
 * name asked for and the canonical request), kept until `expires_at` and evicted least recently
 * used first past the configured size. A semantic entry also has a vector in the vectors module.
 */
export const responseCache = sqliteTable(
  "response_cache",
  {
    key: text("key").primaryKey(),
    orgId: text("org_id").notNull().references(() => orgs.id),
    model: text("model").notNull(),
    /** The execution that produced the answer. */
    executionId: text("execution_id").notNull(),
    output: json<Record<string, unknown>>("output").notNull(),
    usage: json<Usage>("usage").notNull(),
    /** What producing it cost: what each hit saves. */
    costMicros: integer("cost_micros").notNull(),
    servedModel: text("served_model").notNull(),
    routeId: text("route_id"),
    /** Where its prompt vector is, for a semantic entry (deleted with it). */
    vectorScope: text("vector_scope"),
    vectorModel: text("vector_model"),
    sizeBytes: integer("size_bytes").notNull(),
    hits: integer("hits").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    lastUsedAt: integer("last_used_at").notNull(),
  },
  (t) => [index("response_cache_lru").on(t.lastUsedAt), index("response_cache_expires").on(t.expiresAt), index("response_cache_org").on(t.orgId)],
);
