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
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from "node:fs";
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
  refuseUnlessSqlite(path);
  const sqlite = new Database(path, { create: true, strict: true });
  try {
    refuseUnlessOurs(sqlite);
  } catch (error) {
    sqlite.close(); // the last connection: it removes the -wal/-shm files reading may have made
    throw error;
  }
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

/**
 * Refuses, before SQLite touches it, a file that is not an SQLite database or is shorter than its
 * header says (a truncated copy). SQLite itself would open either and fail later, or not at all.
 */
function refuseUnlessSqlite(path: string) {
  if (!existsSync(path) || statSync(path).size === 0) return; // a first run
  const size = statSync(path).size;
  const header = Buffer.alloc(100);
  const fd = openSync(path, "r");
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString("latin1", 0, 16) !== "SQLite format 3\u0000")
    throw new Error("modelroute.db is not an SQLite database (it does not start with SQLite's header); move it away, or restore a backup");
  // The page count in the header is valid when the change counter matches version-valid-for; with
  // a WAL to replay, the file may lawfully be shorter until that replay.
  const wal = `${path}-wal`;
  if (existsSync(wal) && statSync(wal).size > 0) return;
  const pageSize = header.readUInt16BE(16) === 1 ? 65536 : header.readUInt16BE(16);
  const pages = header.readUInt32BE(28);
  const counted = pages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
  if (counted && pages * pageSize > size)
    throw new Error(`modelroute.db is truncated: its header says ${pages * pageSize} bytes, the file holds ${size}; restore a backup`);
}

/**
 * Refuses a database that is another application's (tables, none of ours), or that a newer
 * ModelRoute migrated (more migrations than this build knows): migrating the first would write
 * our tables into it, and this build would misread the second. Read only, before WAL mode (which
 * rewrites a rollback-journal file's header).
 */
function refuseUnlessOurs(sqlite: Database) {
  const tables = (sqlite.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
  if (tables.length === 0) return; // a first run
  if (!tables.includes("__drizzle_migrations"))
    throw new Error(`modelroute.db is not a ModelRoute database: it holds other tables (${tables.slice(0, 5).join(", ")}${tables.length > 5 ? ", …" : ""}); point --data-dir at ModelRoute's own directory`);
  const applied = appliedMigrations({ client: sqlite });
  const known = journal.entries.length;
  if (applied > known)
    throw new Error(`modelroute.db was written by a newer ModelRoute (${applied} migrations; this build knows ${known}): run that version, or restore a backup this one made`);
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
