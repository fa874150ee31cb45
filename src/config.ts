/**
 * Every setting in one table: its flag, its MODELROUTE_* variable, its config-file key, its
 * default and its check. Precedence: flag > environment > config file > default. A bad value
 * stops startup with one line naming the setting and exit code 2 (README "Configuration").
 */
import { readFileSync } from "node:fs";
import type { LogLevel } from "./log";
import { parseUsd } from "./money";
import { DAY_MS } from "./time";

type Kind =
  | { type: "string"; allowEmpty?: boolean }
  | { type: "int"; min: number; max: number }
  | { type: "bool" }
  | { type: "enum"; values: readonly string[] }
  | { type: "url" }
  | { type: "usd" }
  | { type: "msList"; max: number; maxItems: number };

type Setting = { key: string; flag: string; env: string; kind: Kind; default: unknown; help: string };

const int = (min: number, max: number): Kind => ({ type: "int", min, max });

/** The settings table; README's configuration table is written from it. */
export const SETTINGS = [
  { key: "host", flag: "host", env: "MODELROUTE_HOST", kind: { type: "string" }, default: "127.0.0.1", help: "Address to listen on." },
  { key: "port", flag: "port", env: "MODELROUTE_PORT", kind: int(0, 65535), default: 8080, help: "TCP port (0 picks a free one)." },
  { key: "dataDir", flag: "data-dir", env: "MODELROUTE_DATA_DIR", kind: { type: "string" }, default: "./data", help: "Directory for the database, local files and bootstrap.json." },
  { key: "databaseUrl", flag: "database", env: "MODELROUTE_DATABASE_URL", kind: { type: "string" }, default: null, help: "PostgreSQL URL (postgres://user:pass@host:5432/db) for several replicas on one database (docs/scale-out.md); unset keeps SQLite in the data directory." },
  { key: "jobLeaseMs", flag: "job-lease-ms", env: "MODELROUTE_JOB_LEASE_MS", kind: int(1000, 3_600_000), default: 30_000, help: "PostgreSQL mode: how long a replica's claim on a job lasts unrenewed (renewed every third of it while the job runs); a killed replica's work is taken over after it." },
  { key: "logLevel", flag: "log-level", env: "MODELROUTE_LOG_LEVEL", kind: { type: "enum", values: ["debug", "info", "warn", "error", "silent"] }, default: "info", help: "Lowest level written to the JSON log." },
  { key: "publicUrl", flag: "public-url", env: "MODELROUTE_PUBLIC_URL", kind: { type: "url" }, default: null, help: "Base URL clients reach the server at; used for Location headers and presigned links. Default http://<host>:<port>." },
  { key: "rateLimitRpm", flag: "rate-limit-rpm", env: "MODELROUTE_RATE_LIMIT_RPM", kind: int(0, 10_000_000), default: 600, help: "Requests per minute per API key (fixed 60 s window); 0 turns the limiter off." },
  { key: "streamMaxMs", flag: "stream-max-ms", env: "MODELROUTE_STREAM_MAX_MS", kind: int(1000, DAY_MS), default: 1_800_000, help: "Longest a streamed upstream call may last in all, however steadily it sends (a slow drip ends with an error after this)." },
  { key: "upstreamMaxBytes", flag: "upstream-max-bytes", env: "MODELROUTE_UPSTREAM_MAX_BYTES", kind: int(1024, 1 << 30), default: 64 << 20, help: "Largest answer or stream read from an upstream provider; a bigger one is that provider's failure." },
  { key: "shutdownGraceMs", flag: "shutdown-grace-ms", env: "MODELROUTE_SHUTDOWN_GRACE_MS", kind: int(0, 600_000), default: 10_000, help: "How long SIGTERM waits for in-flight requests and provider calls." },
  { key: "bootstrapCredit", flag: "bootstrap-credit", env: "MODELROUTE_BOOTSTRAP_CREDIT", kind: { type: "usd" }, default: "10.000", help: "Demo credit (USD) given to the default organization on first run." },
  { key: "syncWaitMaxSeconds", flag: "sync-wait-max-seconds", env: "MODELROUTE_SYNC_WAIT_MAX_SECONDS", kind: int(1, 300), default: 300, help: "Longest SYNC / Prefer: wait a request may ask for." },
  { key: "queueTtlMs", flag: "queue-ttl-ms", env: "MODELROUTE_QUEUE_TTL_MS", kind: int(1000, 7 * DAY_MS), default: 3_600_000, help: "A PENDING execution not started within this time ends EXPIRED (models may override)." },
  { key: "executionRetentionDays", flag: "execution-retention-days", env: "MODELROUTE_EXECUTION_RETENTION_DAYS", kind: int(0, 3650), default: 30, help: "Days after completion when execution input and output are purged; 0 keeps them forever." },
  { key: "workerConcurrency", flag: "worker-concurrency", env: "MODELROUTE_WORKER_CONCURRENCY", kind: int(1, 10_000), default: 256, help: "Executions run at once by this process." },
  { key: "storage", flag: "storage", env: "MODELROUTE_STORAGE", kind: { type: "enum", values: ["local", "s3"] }, default: "local", help: "Where file bytes live: local (under <data-dir>/files) or s3 (any S3-compatible server)." },
  { key: "s3Endpoint", flag: "s3-endpoint", env: "MODELROUTE_S3_ENDPOINT", kind: { type: "url" }, default: null, help: "S3 endpoint URL for MinIO, Ceph, R2, Swift…; unset means AWS S3 for the region." },
  { key: "s3Region", flag: "s3-region", env: "MODELROUTE_S3_REGION", kind: { type: "string" }, default: "us-east-1", help: "S3 region (signing region for non-AWS servers)." },
  { key: "s3Bucket", flag: "s3-bucket", env: "MODELROUTE_S3_BUCKET", kind: { type: "string" }, default: null, help: "S3 bucket for files (required with --storage s3; created by the operator)." },
  { key: "s3AccessKeyId", flag: "s3-access-key-id", env: "MODELROUTE_S3_ACCESS_KEY_ID", kind: { type: "string" }, default: null, help: "S3 access key id; unset uses the AWS SDK's default credential chain." },
  { key: "s3SecretAccessKey", flag: "s3-secret-access-key", env: "MODELROUTE_S3_SECRET_ACCESS_KEY", kind: { type: "string" }, default: null, help: "S3 secret access key (with --s3-access-key-id)." },
  { key: "s3ForcePathStyle", flag: "s3-force-path-style", env: "MODELROUTE_S3_FORCE_PATH_STYLE", kind: { type: "bool" }, default: false, help: "Address objects as <endpoint>/<bucket>/<key> (MinIO, Swift, Ceph usually need it)." },
  { key: "fileRetentionDays", flag: "file-retention-days", env: "MODELROUTE_FILE_RETENTION_DAYS", kind: int(0, 3650), default: 30, help: "Days after upload when a file and its bytes are deleted; 0 keeps them forever." },
  { key: "uploadUrlTtlSeconds", flag: "upload-url-ttl-seconds", env: "MODELROUTE_UPLOAD_URL_TTL_SECONDS", kind: int(60, 604_800), default: 3600, help: "How long an upload link from POST /v1/files/upload stays valid." },
  { key: "downloadUrlTtlSeconds", flag: "download-url-ttl-seconds", env: "MODELROUTE_DOWNLOAD_URL_TTL_SECONDS", kind: int(60, 604_800), default: 3600, help: "How long a link from GET /v1/files/{id}/url stays valid (S3 allows at most 7 days)." },
  { key: "webhookTimeoutMs", flag: "webhook-timeout-ms", env: "MODELROUTE_WEBHOOK_TIMEOUT_MS", kind: int(100, 300_000), default: 15_000, help: "How long one webhook attempt may take (connect, answer, body) before it counts as failed." },
  { key: "webhookRetryScheduleMs", flag: "webhook-retry-schedule", env: "MODELROUTE_WEBHOOK_RETRY_SCHEDULE", kind: { type: "msList", max: 7 * DAY_MS, maxItems: 20 }, default: [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000], help: "Delays in ms before each webhook retry, comma-separated (±10 % jitter); its length is the number of retries." },
  { key: "webhookMaxAgeMs", flag: "webhook-max-age-ms", env: "MODELROUTE_WEBHOOK_MAX_AGE_MS", kind: int(1000, 30 * DAY_MS), default: DAY_MS, help: "No webhook attempt is made this long after its event (Retry-After included)." },
  { key: "webhookAllowPrivate", flag: "webhook-allow-private", env: "MODELROUTE_WEBHOOK_ALLOW_PRIVATE", kind: { type: "bool" }, default: false, help: "Allow webhooks to private, loopback and link-local addresses (refused by default)." },
  { key: "batchConcurrency", flag: "batch-concurrency", env: "MODELROUTE_BATCH_CONCURRENCY", kind: int(1, 10_000), default: 16, help: "Batch lines run at once by this process, all batches together; interactive calls keep the rest of the workers." },
  { key: "batchDiscountPercent", flag: "batch-discount-percent", env: "MODELROUTE_BATCH_DISCOUNT_PERCENT", kind: int(0, 100), default: 50, help: "Percent off the model's prices for batch lines (a model's pricing.batch_discount_percent wins)." },
  { key: "webhookConcurrency", flag: "webhook-concurrency", env: "MODELROUTE_WEBHOOK_CONCURRENCY", kind: int(1, 10_000), default: 32, help: "Webhook attempts in flight at once; one receiver gets at most a quarter of them." },
  { key: "cacheMaxKb", flag: "cache-max-kb", env: "MODELROUTE_CACHE_MAX_KB", kind: int(0, 1_000_000_000), default: 262_144, help: "Size bound of the response cache in KiB (least recently used answers evicted past it); 0 turns the cache off." },
] as const satisfies readonly Setting[];

export type Config = {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | null;
  jobLeaseMs: number;
  streamMaxMs: number;
  upstreamMaxBytes: number;
  logLevel: LogLevel;
  publicUrl: string | null;
  rateLimitRpm: number;
  shutdownGraceMs: number;
  bootstrapCredit: string;
  syncWaitMaxSeconds: number;
  queueTtlMs: number;
  executionRetentionDays: number;
  workerConcurrency: number;
  storage: "local" | "s3";
  s3Endpoint: string | null;
  s3Region: string;
  s3Bucket: string | null;
  s3AccessKeyId: string | null;
  s3SecretAccessKey: string | null;
  s3ForcePathStyle: boolean;
  fileRetentionDays: number;
  uploadUrlTtlSeconds: number;
  downloadUrlTtlSeconds: number;
  webhookTimeoutMs: number;
  webhookRetryScheduleMs: number[];
  webhookMaxAgeMs: number;
  webhookAllowPrivate: boolean;
  webhookConcurrency: number;
  batchConcurrency: number;
  batchDiscountPercent: number;
  cacheMaxKb: number;
};

export class ConfigError extends Error {}

export type ConfigSources = {
  flags?: Record<string, string | boolean | undefined>;
  env?: Record<string, string | undefined>;
  file?: string;
};

/** Builds the validated Config; throws ConfigError naming the bad setting. */
export function loadConfig(sources: ConfigSources = {}): Config {
  const flags = sources.flags ?? {};
  const env = sources.env ?? {};
  const file = sources.file ? readConfigFile(sources.file) : {};
  const known = new Set<string>(SETTINGS.map((s) => s.key));
  for (const key of Object.keys(file)) {
    if (!known.has(key) && !known.has(camel(key))) throw new ConfigError(`config file ${sources.file}: unknown setting "${key}"`);
  }
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS as readonly Setting[]) {
    const candidates: [string, unknown][] = [
      [`--${setting.flag}`, flags[setting.flag]],
      [setting.env, env[setting.env]],
      [`${sources.file}: ${setting.key}`, file[setting.key] ?? file[setting.flag] ?? file[snake(setting.key)]],
    ];
    const found = candidates.find(([, v]) => v !== undefined && v !== "");
    out[setting.key] = found ? coerce(setting, found[0], found[1]) : setting.default;
  }
  checkCombinations(out as Config);
  return out as Config;
}

/** Settings that are only wrong together; still one line naming the setting to fix. */
function checkCombinations(config: Config) {
  if (config.databaseUrl !== null && !/^postgres(ql)?:\/\//.test(config.databaseUrl))
    throw new ConfigError("MODELROUTE_DATABASE_URL (--database): must be a postgres:// or postgresql:// URL; unset it to keep SQLite in the data directory");
  if (config.storage === "s3" && !config.s3Bucket)
    throw new ConfigError("MODELROUTE_S3_BUCKET (--s3-bucket): required when MODELROUTE_STORAGE=s3");
  if ((config.s3AccessKeyId === null) !== (config.s3SecretAccessKey === null))
    throw new ConfigError(`${config.s3AccessKeyId === null ? "MODELROUTE_S3_ACCESS_KEY_ID (--s3-access-key-id)" : "MODELROUTE_S3_SECRET_ACCESS_KEY (--s3-secret-access-key)"}: set both S3 credentials or neither`);
}

function coerce(setting: Setting, source: string, raw: unknown): unknown {
  const fail = (why: string) => new ConfigError(`${source}: ${why} (got ${JSON.stringify(raw)})`);
  const kind = setting.kind;
  switch (kind.type) {
    case "string":
      if (typeof raw !== "string" && typeof raw !== "number") throw fail("must be a string");
      return String(raw);
    case "int": {
      const text = String(raw).trim();
      if (!/^-?\d+$/.test(text)) throw fail(`must be an integer from ${kind.min} to ${kind.max}`);
      const n = Number(text);
      if (n < kind.min || n > kind.max) throw fail(`must be an integer from ${kind.min} to ${kind.max}`);
      return n;
    }
    case "bool": {
      const text = String(raw).toLowerCase();
      if (["true", "1", "yes", "on"].includes(text)) return true;
      if (["false", "0", "no", "off"].includes(text)) return false;
      throw fail("must be true or false");
    }
    case "enum":
      if (!kind.values.includes(String(raw))) throw fail(`must be one of ${kind.values.join(", ")}`);
      return String(raw);
    case "msList": {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(",");
      const values = items.map((item) => item.trim());
      if (values.length > kind.maxItems || values.some((v) => !/^\d+$/.test(v) || Number(v) > kind.max))
        throw fail(`must be at most ${kind.maxItems} comma-separated delays in ms, each from 0 to ${kind.max}`);
      return values.map(Number);
    }
    case "usd": {
      // Checked at load, not at first run: a typo must stop every start, not only the first.
      const text = String(raw).trim();
      if (parseUsd(text) === null) throw fail("must be a USD amount with at most 6 decimals, like 10.000");
      return text;
    }
    case "url": {
      const text = String(raw);
      if (!URL.canParse(text) || !/^https?:$/.test(new URL(text).protocol)) throw fail("must be an http(s) URL");
      return text.replace(/\/+$/, "");
    }
  }
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(`--config: cannot read ${path}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`--config: ${path} is not valid ${path.endsWith(".json") ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) throw new ConfigError(`--config: ${path} must hold an object of settings`);
  return parsed as Record<string, unknown>;
}

const camel = (s: string) => s.replace(/[-_](\w)/g, (_, c: string) => c.toUpperCase());
const snake = (s: string) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The address clients use to reach this server. */
export const publicBaseUrl = (config: Config, boundPort?: number) =>
  config.publicUrl ?? `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${boundPort ?? config.port}`;
