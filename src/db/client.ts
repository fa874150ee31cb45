/**
 * Opens the database (SQLite in the data directory, WAL with the pragmas below, or PostgreSQL
 * given a URL) and applies the embedded drizzle migrations. The same path runs under `bun run`,
 * `bun test` and the compiled binary. Both give bun:sqlite's interface: the stores are written
 * once (docs/decisions.md "PostgreSQL through a synchronous libpq").
 */
import { Database } from "bun:sqlite";
import { registerDataDir } from "./secret-box";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import type { SQLiteTransaction } from "drizzle-orm/sqlite-core";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as schema from "./schema";
import { journal, migrationSql } from "./migrations.gen";
import { PgDatabase } from "./postgres/database";
import { appliedPostgresMigrations, migratePostgres, type SqlRunner } from "./postgres/migrate";
import { journal as postgresJournal } from "./postgres/migrations.gen";

export type Db = BunSQLiteDatabase<typeof schema>;
export type Tx = SQLiteTransaction<"sync", void, typeof schema, ExtractTablesWithRelations<typeof schema>>;
/** Anything a store function can run a query on: the database or an open transaction. */
export type Conn = Db | Tx;

export type Dialect = "sqlite" | "postgres";

/**
 * `client` is bun:sqlite's Database, or a PgDatabase with the same interface; `path` is the
 * SQLite file, or the PostgreSQL URL without its password.
 */
export type DbHandle = { db: Db; client: Database; path: string; dialect: Dialect };

/** Where a data directory keeps its database (the server, backup and restore agree on it). */
export const databasePath = (dataDir: string) => join(dataDir, "modelroute.db");

export function openDatabase(dataDir: string, databaseUrl: string | null = null): DbHandle {
  if (databaseUrl) return openPostgres(databaseUrl, dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = databasePath(dataDir);
  const sqlite = new Database(path, { create: true, strict: true });
  // The database holds webhook secrets and the key that signs file links: owner only. SQLite
  // gives the -wal and -shm files the main file's mode, so this comes before WAL mode.
  chmodSync(path, 0o600);
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA foreign_keys = ON");
  // Temporary b-trees (IN (SELECT …), json_each, sorts) in memory, not in temp files: measured
  // +20 % executions/s (scripts/bench/executions.ts); they are small and short-lived.
  sqlite.exec("PRAGMA temp_store = MEMORY");
  const db = drizzle({ client: sqlite, schema });
  registerDataDir(db, dataDir);
  return { db, client: sqlite, path, dialect: "sqlite" };
}

function openPostgres(url: string, dataDir: string): DbHandle {
  const client = new PgDatabase(url);
  const db = drizzle({ client: client as unknown as Database, schema });
  registerDataDir(db, dataDir);
  return { db, client: client as unknown as Database, path: redactedUrl(url), dialect: "postgres" };
}

/** A database URL as logs and errors may show it: the password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

/** The PostgreSQL connection under a handle's bun:sqlite-shaped client, or null on SQLite. */
export const postgresOf = (handle: Pick<DbHandle, "client">): PgDatabase | null => (handle.client instanceof PgDatabase ? handle.client : null);

/** Applies every embedded migration not applied yet; returns how many ran. */
export function migrate(handle: DbHandle): number {
  const pg = postgresOf(handle);
  if (pg) return migratePostgres(runnerOf(pg));
  const before = appliedMigrations(handle);
  const migrations = journal.entries.map((entry) => {
    const text = migrationSql[entry.tag]!;
    return {
      sql: text.split("--> statement-breakpoint"),
      bps: entry.breakpoints,
      folderMillis: entry.when,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
    };
  });
  // drizzle's public migrate() reads files from disk; its dialect takes them from memory and
  // writes the same __drizzle_migrations rows (same hashes and timestamps as migrate() would).
  const internal = handle.db as unknown as { dialect: { migrate: Function }; session: unknown };
  internal.dialect.migrate(migrations, internal.session, { migrationsFolder: "" });
  return appliedMigrations(handle) - before;
}

const runnerOf = (pg: PgDatabase): SqlRunner => ({ exec: (text: string) => pg.connection.exec(text), all: (text: string, params: unknown[] = []) => pg.prepare(text).all(...params) });

export function appliedMigrations(handle: Pick<DbHandle, "client">): number {
  const pg = postgresOf(handle);
  if (pg) return appliedPostgresMigrations(runnerOf(pg));
  const sqlite = handle.client;
  const table = sqlite.query("SELECT name FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'").get();
  if (!table) return 0;
  return (sqlite.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
}

/** How many migrations this build carries for a dialect (readiness compares it with what ran). */
export const embeddedMigrationCount = (dialect: Dialect) => (dialect === "postgres" ? postgresJournal.entries.length : journal.entries.length);

/**
 * Flushes the WAL into the main file and closes; leaves no -wal/-shm behind. A checkpoint the disk
 * refuses (full, read-only) still closes, and is returned: the WAL keeps every commit and the
 * next open replays it.
 */
export function closeDatabase(handle: DbHandle): Error | null {
  if (handle.dialect === "postgres") {
    handle.client.close();
    return null;
  }
  let refused: Error | null = null;
  try {
    handle.client.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  } catch (error) {
    refused = error as Error;
  }
  handle.client.close();
  return refused;
}
