/**
 * Opens the SQLite database (WAL with the pragmas below) and applies the embedded drizzle
 * migrations. The same path runs under `bun run`, `bun test` and the compiled binary.
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

export type Db = BunSQLiteDatabase<typeof schema>;
export type Tx = SQLiteTransaction<"sync", void, typeof schema, ExtractTablesWithRelations<typeof schema>>;
/** Anything a store function can run a query on: the database or an open transaction. */
export type Conn = Db | Tx;

export type DbHandle = { db: Db; sqlite: Database; path: string };

/** Where a data directory keeps its database (the server, backup and restore agree on it). */
export const databasePath = (dataDir: string) => join(dataDir, "modelroute.db");

export function openDatabase(dataDir: string): DbHandle {
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
  return { db, sqlite, path };
}

/** Applies every embedded migration not applied yet; returns how many ran. */
export function migrate(handle: DbHandle): number {
  const before = appliedMigrations(handle.sqlite);
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
  return appliedMigrations(handle.sqlite) - before;
}

export function appliedMigrations(sqlite: Database): number {
  const table = sqlite.query("SELECT name FROM sqlite_master WHERE type='table' AND name='__drizzle_migrations'").get();
  if (!table) return 0;
  return (sqlite.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number }).n;
}

export const embeddedMigrationCount = journal.entries.length;

/** Flushes the WAL into the main file and closes; leaves no -wal/-shm behind. */
export function closeDatabase(handle: DbHandle) {
  handle.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  handle.sqlite.close();
}
