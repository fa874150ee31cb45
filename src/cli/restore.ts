import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { databaseProblems } from "../db/backup";
import { closeDatabase, databasePath, embeddedMigrationCount, migrate, openDatabase } from "../db/client";
import * as Admin from "../modules/admin/service";
import { configFrom, DATA_FLAGS_HELP, dataOptions, CliError, noExtraArgs, ownDataDir, positional, print, UsageError, type Command } from "./shared";

export const restore: Command = {
  summary: "Replace the database with a backup (the server must be stopped).",
  usage: `modelroute restore FILE [flags]

Replaces the data directory's database with FILE, a copy made by "modelroute backup". Refuses
while a server runs on the data directory, and refuses a FILE that is not a sound ModelRoute
database. The database it replaces is kept beside it as modelroute.db.before-restore. Migrations
are applied, so an older backup is brought up to date.

Examples:
  systemctl stop modelroute && modelroute restore /var/backups/modelroute-2026-01-31.db && systemctl start modelroute
  modelroute restore copy.db --data-dir /var/lib/modelroute

Flags:
${DATA_FLAGS_HELP}`,
  options: dataOptions,
  async run(values, positionals) {
    const file = resolve(positional(positionals, 0, "FILE", "restore"));
    noExtraArgs(positionals, 1, "restore");
    if (configFrom(values).databaseUrl) throw new UsageError("restore works on the SQLite database of a data directory; on PostgreSQL use pg_restore (docs/scale-out.md \"Backups\")");
    const { dataDir } = configFrom(values);
    const problems = databaseProblems(file, embeddedMigrationCount("sqlite"));
    if (problems.length > 0) throw new CliError(`refusing to restore: ${problems.join("; ")}`);

    mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // owner-only, as the server makes it
    const lock = ownDataDir(dataDir, "restore");
    try {
      replaceDatabase(file, dataDir);
    } finally {
      lock.release();
    }
    return 0;
  },
};

function replaceDatabase(file: string, dataDir: string) {
  const target = databasePath(dataDir);
  const previous = `${target}.before-restore`;
  if (existsSync(target)) {
    const current = openDatabase(dataDir);
    closeDatabase(current); // folds its WAL in, so the kept copy is whole
    renameSync(target, previous);
  }
  for (const leftover of [`${target}-wal`, `${target}-shm`]) rmSync(leftover, { force: true });
  const staging = `${target}.restoring`;
  copyFileSync(file, staging);
  renameSync(staging, target);

  const handle = openDatabase(dataDir);
  try {
    const applied = migrate(handle);
    Admin.recordAction({ db: handle.db, now: Date.now(), actor: "cli" }, "restore", null, { file, migrations_applied: applied });
  } finally {
    closeDatabase(handle);
  }
  print(`Restored ${file} into ${target}.${existsSync(previous) ? ` The previous database is kept as ${previous}.` : ""}`);
}
