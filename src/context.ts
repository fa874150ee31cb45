/**
 * Everything a request, a job or a CLI command needs, built once in app.ts / main.ts and passed
 * down: no singletons, so one test process can run two servers side by side.
 */
import type { Database } from "bun:sqlite";
import { publicBaseUrl, type Config } from "./config";
import type { Db, DbHandle } from "./db/client";
import type { Logger } from "./log";
import type { KeyCache } from "./modules/keys/service";
import type { RateLimiter } from "./http/rate-limit";
import type { Metrics } from "./http/metrics";
import type { ExecutionBus } from "./modules/executions/bus";
import type { ProviderRouter } from "./providers/router";
import type { Scheduler } from "./scheduler/worker";
import type { WriteBatcher } from "./db/write-batcher";
import type { ReplicaLink } from "./modules/replicas/service";
import type { DrainState } from "./http/drain";

export type Clock = { now(): number };
export const systemClock: Clock = { now: () => Date.now() };

export type AppContext = {
  /** Distinguishes two servers in one process (Elysia dedupes plugins by name + seed). */
  instanceId: string;
  config: Config;
  handle: DbHandle;
  db: Db;
  /** The connection under `db`: bun:sqlite's Database, or a PgDatabase with its interface (db/client.ts). */
  client: Database;
  log: Logger;
  clock: Clock;
  keyCache: KeyCache;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  scheduler: Scheduler;
  /** Group commit for hot-path writes (executions): one transaction per event-loop turn. */
  writer: WriteBatcher;
  bus: ExecutionBus;
  /** Messages to the other replicas on the same PostgreSQL; null on SQLite and until the server listens. */
  replicas: ReplicaLink | null;
  router: ProviderRouter;
  /** Abort controllers of provider calls running in this process, by execution id (cancel uses them). */
  running: Map<string, AbortController>;
  /** The port the server is listening on, once it is (0 before listen when the config asks for any port). */
  boundPort: number;
  /** Whether answers say `Connection: close` before a graceful stop (http/drain.ts). */
  drain: DrainState;
};

/** The base URL clients reach this server at (no trailing slash). */
export const publicUrl = (ctx: AppContext) => publicBaseUrl(ctx.config, ctx.boundPort);
