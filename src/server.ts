/**
 * Opens the database, applies migrations, bootstraps a first run, listens, and shuts down
 * cleanly: stop accepting, drain in-flight requests up to the grace period, checkpoint the WAL.
 */
import { createApp } from "./app";
import type { Config } from "./config";
import { publicUrl, systemClock, type AppContext, type Clock } from "./context";
import { closeDatabase, migrate, openDatabase } from "./db/client";
import { Metrics } from "./http/metrics";
import { FixedWindowLimiter } from "./http/rate-limit";
import { createLogger, type Logger } from "./log";
import { createKeyCache, flushLastUsed } from "./modules/keys/service";
import * as Catalog from "./modules/catalog/service";
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
  };
  return ctx;
}

export async function startServer(config: Config, opts: { log?: Logger; clock?: Clock } = {}): Promise<Running> {
  const ctx = createContext(config, opts);
  const applied = migrate(ctx.handle);
  if (applied > 0) ctx.log.info("migrations applied", { count: applied });
  const bootstrap = bootstrapIfEmpty(ctx.db, config.dataDir, ctx.clock.now(), [
    (tx, _orgId, now) => Catalog.seedDefaultCatalog(tx, now),
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
  const lastUsedTimer = setInterval(() => flushLastUsed(ctx.db, ctx.keyCache), 5_000);
  lastUsedTimer.unref();

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      const hardStop = setTimeout(() => void app.stop(true), config.shutdownGraceMs);
      hardStop.unref();
      await app.stop();
      clearTimeout(hardStop);
      clearInterval(lastUsedTimer);
      flushLastUsed(ctx.db, ctx.keyCache);
      closeDatabase(ctx.handle);
    })());
  return { ctx, url: publicUrl(ctx), port, bootstrap, stop };
}
