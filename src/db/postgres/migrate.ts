/**
 * Applies the embedded PostgreSQL migrations (drizzle-pg/) once per upgrade, whichever replica
 * starts first: under a session advisory lock, the others wait for it and then find nothing to
 * do. Each migration runs in its own transaction with its row in `modelroute_migrations`.
 */
import { journal, migrationSql } from "./migrations.gen";

/** What the migrator needs of a connection ($1… placeholders). */
export type SqlRunner = { exec(sql: string): void; all(sql: string, params?: unknown[]): Record<string, unknown>[] };

const MIGRATIONS_LOCK = 7_243_190_117_004_000n;

const TABLE = `CREATE TABLE IF NOT EXISTS modelroute_migrations (tag text PRIMARY KEY, hash text NOT NULL, applied_at bigint NOT NULL)`;

export function migratePostgres(runner: SqlRunner): number {
  runner.all("SELECT pg_advisory_lock($1)", [MIGRATIONS_LOCK]);
  try {
    runner.exec(TABLE);
    const applied = new Set(runner.all("SELECT tag FROM modelroute_migrations").map((r) => r.tag as string));
    let ran = 0;
    for (const { tag } of journal.entries) {
      if (applied.has(tag)) continue;
      const text = migrationSql[tag]!;
      const hash = new Bun.CryptoHasher("sha256").update(text).digest("hex");
      runner.exec("BEGIN");
      try {
        for (const statement of text.split("--> statement-breakpoint")) if (statement.trim()) runner.exec(statement);
        runner.all("INSERT INTO modelroute_migrations (tag, hash, applied_at) VALUES ($1, $2, $3)", [tag, hash, Date.now()]);
        runner.exec("COMMIT");
      } catch (error) {
        runner.exec("ROLLBACK");
        throw new Error(`PostgreSQL migration ${tag} failed: ${(error as Error).message}`);
      }
      ran++;
    }
    return ran;
  } finally {
    runner.all("SELECT pg_advisory_unlock($1)", [MIGRATIONS_LOCK]);
  }
}

export function appliedPostgresMigrations(runner: SqlRunner): number {
  const exists = runner.all("SELECT to_regclass('modelroute_migrations') IS NOT NULL AS present")[0]!.present;
  if (!exists) return 0;
  return Number(runner.all("SELECT count(*) AS n FROM modelroute_migrations")[0]!.n);
}
