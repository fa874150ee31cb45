/**
 * Opens the database, applies migrations, bootstraps a first run, listens, and shuts down
 * cleanly: stop accepting, drain in-flight requests up to the grace period, checkpoint the WAL.
 */
import { createApp } from "./app";
import type { Config } from "./config";
import { publicUrl, systemClock, type AppContext, type Clock } from "./context";
import { closeDatabase, migrate, openDatabase } from "./db/client";
import { claimServerLock } from "./db/server-lock";
import { Metrics } from "./http/metrics";
import { FixedWindowLimiter } from "./http/rate-limit";
import { createLogger, type Logger } from "./log";
import { createKeyCache, flushLastUsed } from "./modules/keys/service";
import { registerJobs } from "./jobs";
import * as Catalog from "./modules/catalog/service";
import { WriteBatcher } from "./db/write-batcher";
import { ExecutionBus } from "./modules/executions/bus";
import * as Ledger from "./modules/ledger/service";
import { parseUsd } from "./money";
import { ProviderRouter } from "./providers/router";
import { Scheduler } from "./scheduler/worker";
import { bootstrapIfEmpty, type Bootstrap } from "./modules/orgs/bootstrap";

export const UPLOAD_BODY_LIMIT_BYTES = 160 * 1024 * 1024;

export type Running = {
  ctx: AppContext;
  url: string;
  port: number;
  bootstrap: Bootstrap | null;
  /** Graceful stop; resolves once the database is closed. */
  stop(): Promise<void>;
};

export function createContext(config: Config, opts: { log?: Logger; clock?: Clock } = {}): AppContext {
  const handle = openDatabase(config.dataDir);
  const log = opts.log ?? createLogger(config.logLevel);
  const ctx: AppContext = {
    instanceId: crypto.randomUUID(),
    config,
    handle,
    db: handle.db,
    sqlite: handle.sqlite,
    log,
    clock: opts.clock ?? systemClock,
    keyCache: createKeyCache(),
    rateLimiter: new FixedWindowLimiter(),
    metrics: new Metrics(),
    boundPort: config.port,
    bus: new ExecutionBus(),
    router: new ProviderRouter(),
    running: new Map(),
    writer: new WriteBatcher(handle.db, handle.sqlite),
    scheduler: undefined as unknown as Scheduler, // set below: it needs the context it lives in
  };
  ctx.scheduler = new Scheduler(ctx);
  registerJobs(ctx);
  return ctx;
}

/** Validated by loadConfig (a USD amount), so it parses. */
const bootstrapCreditMicros = (config: Config) => parseUsd(config.bootstrapCredit)!;

export async function startServer(config: Config, opts: { log?: Logger; clock?: Clock } = {}): Promise<Running> {
  const ctx = createContext(config, opts);
  const applied = migrate(ctx.handle);
  if (applied > 0) ctx.log.info("migrations applied", { count: applied });
  const bootstrap = bootstrapIfEmpty(ctx.db, config.dataDir, ctx.clock.now(), [
    (tx, _orgId, now) => Catalog.seedDefaultCatalog(tx, now),
    (tx, orgId, now) => Ledger.credit(tx, orgId, bootstrapCreditMicros(config), now, { note: "Demo credit of the first run" }),
  ]);
  const app = createApp(ctx);
  app.listen({
    hostname: config.host,
    port: config.port,
    reusePort: false,
    maxRequestBodySize: UPLOAD_BODY_LIMIT_BYTES,
    idleTimeout: 30,
  });
  const server = app.server!;
  const port = server.port!;
  ctx.boundPort = port;
  const serverLock = claimServerLock(config.dataDir, ctx.clock.now()); // `restore` refuses while it exists
  // Background work starts once the server answers: a request in the meantime only queues.
  const starting = setImmediate(() => ctx.scheduler.start());
  const lastUsedTimer = setInterval(() => flushLastUsed(ctx.db, ctx.keyCache), 5_000);
  lastUsedTimer.unref();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      const hardStop = setTimeout(() => void app.stop(true), config.shutdownGraceMs);
      hardStop.unref();
      clearImmediate(starting); // stopped before it began: nothing to start
      ctx.bus.shutdown(); // SYNC waiters answer 202, streams send their final event
      await app.stop();
      clearTimeout(hardStop);
      await ctx.scheduler.stop(config.shutdownGraceMs);
      ctx.writer.flush();
      clearInterval(lastUsedTimer);
      flushLastUsed(ctx.db, ctx.keyCache);
      closeDatabase(ctx.handle);
      serverLock.release();
    })());
  return { ctx, url: publicUrl(ctx), port, bootstrap, stop };
}
