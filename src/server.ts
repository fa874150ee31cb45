/**
 * Takes the data directory, opens the database, applies migrations, listens, bootstraps a first
 * run, and shuts down cleanly: stop accepting, drain in-flight requests up to the grace period,
 * checkpoint the WAL, give the data directory back.
 */
import { mkdirSync } from "node:fs";
import { createApp } from "./app";
import type { Config } from "./config";
import { publicUrl, systemClock, type AppContext, type Clock } from "./context";
import { startCheckpointer } from "./db/checkpointer";
import { closeDatabase, migrate, openDatabase, redactedUrl, type DbHandle } from "./db/client";
import { DataDirInUse, lockDataDir, type DataDirLock } from "./db/server-lock";
import { Metrics } from "./http/metrics";
import { drainConnections, newDrainState } from "./http/drain";
import { FixedWindowLimiter, SharedWindowLimiter, type RateLimiter } from "./http/rate-limit";
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
import { ReplicaRefused, startReplicaLink } from "./modules/replicas/service";

/** How long SIGTERM first answers with `Connection: close` while requests come (http/drain.ts). */
export const SHUTDOWN_DRAIN_MS = 500;

export const UPLOAD_BODY_LIMIT_BYTES = 520 * 1024 * 1024; // OpenAI batch files (512 MiB) plus their multipart framing

export type Running = {
  ctx: AppContext;
  url: string;
  port: number;
  bootstrap: Bootstrap | null;
  /**
   * Graceful stop; resolves once the database is closed. `drainMs`: first answer that long with
   * `Connection: close` (http/drain.ts), as the serve command does on SIGTERM.
   */
  stop(opts?: { drainMs?: number }): Promise<void>;
};

export function createContext(config: Config, opts: { log?: Logger; clock?: Clock } = {}): AppContext {
  const handle = openDatabase(config.dataDir, config.databaseUrl);
  const log = opts.log ?? createLogger(config.logLevel);
  const ctx: AppContext = {
    instanceId: crypto.randomUUID(),
    config,
    handle,
    db: handle.db,
    client: handle.client,
    log,
    clock: opts.clock ?? systemClock,
    keyCache: createKeyCache(),
    // Prepared lazily: the table exists once migrations ran.
    rateLimiter: handle.dialect === "postgres" ? lazySharedLimiter(handle.client) : new FixedWindowLimiter(),
    metrics: new Metrics(),
    boundPort: config.port,
    drain: newDrainState(),
    bus: new ExecutionBus(),
    replicas: null,
    router: new ProviderRouter({ streamMaxMs: config.streamMaxMs, answerMaxBytes: config.upstreamMaxBytes }),
    running: new Map(),
    writer: new WriteBatcher(handle.db, handle.client),
    scheduler: undefined as unknown as Scheduler, // set below: it needs the context it lives in
  };
  ctx.scheduler = new Scheduler(ctx);
  registerJobs(ctx);
  return ctx;
}

function lazySharedLimiter(client: DbHandle["client"]): RateLimiter {
  let shared: SharedWindowLimiter | null = null;
  return { take: (id, limit, now) => (shared ??= new SharedWindowLimiter(client)).take(id, limit, now) };
}

/** Validated by loadConfig (a USD amount), so it parses. */
const bootstrapCreditMicros = (config: Config) => parseUsd(config.bootstrapCredit)!;

/** A start that cannot happen for a reason the operator fixes in the settings: one line, exit 2. */
export class StartError extends Error {}

export async function startServer(config: Config, opts: { log?: Logger; clock?: Clock } = {}): Promise<Running> {
  const dataDirLock = takeDataDir(config.dataDir, (opts.clock ?? systemClock).now());
  let ctx: AppContext | undefined;
  let app: ReturnType<typeof createApp> | undefined;
  let bootstrap: Bootstrap | null;
  try {
    ctx = openContext(config, opts);
    const applied = migrate(ctx.handle);
    if (applied > 0) ctx.log.info("migrations applied", { count: applied });
    ctx.replicas = joinReplicas(ctx);
    app = listen(createApp(ctx), config);
    // After listen: a start that fails must not leave a first-run key nobody was shown.
    bootstrap = bootstrapIfEmpty(ctx.db, config.dataDir, ctx.clock.now(), [
      (tx, _orgId, now) => Catalog.seedDefaultCatalog(tx, now),
      (tx, orgId, now) => Ledger.credit(tx, orgId, bootstrapCreditMicros(config), now, { note: "Demo credit of the first run" }),
    ]);
  } catch (e) {
    if (app) await app.stop(true);
    ctx?.replicas?.stop();
    if (ctx) closeDatabase(ctx.handle);
    dataDirLock.release();
    throw e;
  }
  return running(ctx, app, bootstrap, dataDirLock);
}

function takeDataDir(dataDir: string, now: number): DataDirLock {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    return lockDataDir(dataDir, "serve", now);
  } catch (e) {
    if (e instanceof DataDirInUse) throw new StartError(e.message);
    const code = (e as { code?: string }).code;
    if (code === "EROFS") throw new StartError(`the data directory ${dataDir} is on a read-only file system; the server writes there, so mount it read-write`);
    if (code === "ENOSPC") throw new StartError(`the data directory ${dataDir} is on a full disk; free some space first`);
    throw new StartError(`cannot use the data directory ${dataDir}: ${(e as Error).message}`);
  }
}

function openContext(config: Config, opts: { log?: Logger; clock?: Clock }): AppContext {
  try {
    return createContext(config, opts);
  } catch (e) {
    const where = config.databaseUrl ? `at ${redactedUrl(config.databaseUrl)}` : `in ${config.dataDir}`;
    throw new StartError(`cannot open the database ${where}: ${(e as Error).message}`);
  }
}

function joinReplicas(ctx: AppContext) {
  try {
    return startReplicaLink(ctx);
  } catch (e) {
    if (e instanceof ReplicaRefused) throw new StartError(`cannot join the replicas on ${ctx.handle.path}: ${e.message}`);
    throw e;
  }
}

function listen(app: ReturnType<typeof createApp>, config: Config): ReturnType<typeof createApp> {
  try {
    return app.listen({
      hostname: config.host,
      port: config.port,
      reusePort: false, // a second server on the port must fail, not share it
      maxRequestBodySize: UPLOAD_BODY_LIMIT_BYTES,
      idleTimeout: 30,
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    const where = `${config.host}:${config.port}`;
    if (code === "EADDRINUSE") throw new StartError(`cannot listen on ${where}: the port is in use; stop what holds it or choose another --port`);
    throw new StartError(`cannot listen on ${where}: ${(e as Error).message}`);
  }
}

/** Keys' last-used times, written every few seconds; a write the disk refuses is logged and tried at the next. */
function recordLastUsed(ctx: AppContext) {
  try {
    flushLastUsed(ctx.db, ctx.keyCache);
  } catch (error) {
    ctx.log.warn("could not record when API keys were last used; trying again later", { error: (error as Error).message });
  }
}

function running(ctx: AppContext, app: ReturnType<typeof createApp>, bootstrap: Bootstrap | null, dataDirLock: DataDirLock): Running {
  const { config } = ctx;
  const port = app.server!.port!;
  ctx.boundPort = port;
  // Background work starts once the server answers: a request in the meantime only queues.
  const starting = setImmediate(() => ctx.scheduler.start());
  // PostgreSQL checkpoints itself; SQLite's WAL is checkpointed on a thread of its own.
  const checkpointer =
    ctx.handle.dialect === "sqlite"
      ? startCheckpointer(
          ctx.client,
          ctx.handle.path,
          (message) => ctx.log.warn("WAL checkpoints failing; the server's own connection will checkpoint", { error: message }),
          () => ctx.log.info("WAL checkpoints work again"),
        )
      : { stop: async () => {} };
  const lastUsedTimer = setInterval(() => recordLastUsed(ctx), 5_000);
  lastUsedTimer.unref();

  let stopping: Promise<void> | null = null;
  const stop = (opts: { drainMs?: number } = {}) =>
    (stopping ??= (async () => {
      await drainConnections(ctx.drain, Math.min(opts.drainMs ?? 0, config.shutdownGraceMs));
      const hardStop = setTimeout(() => void app.stop(true), config.shutdownGraceMs);
      hardStop.unref();
      clearImmediate(starting); // stopped before it began: nothing to start
      ctx.bus.shutdown(); // SYNC waiters answer 202, streams send their final event
      await app.stop();
      clearTimeout(hardStop);
      await ctx.scheduler.stop(config.shutdownGraceMs);
      ctx.writer.flush();
      ctx.replicas?.stop();
      clearInterval(lastUsedTimer);
      recordLastUsed(ctx);
      await checkpointer.stop();
      const unflushed = closeDatabase(ctx.handle);
      if (unflushed) ctx.log.warn("could not checkpoint the WAL at shutdown; the next start replays it", { error: unflushed.message });
      dataDirLock.release();
    })());
  return { ctx, url: publicUrl(ctx), port, bootstrap, stop };
}
