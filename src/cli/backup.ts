import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { backupDatabase } from "../db/backup";
import { databasePath, embeddedMigrationCount } from "../db/client";
import * as Admin from "../modules/admin/service";
import { progressBar } from "./progress";
import { configFrom, DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, UsageError, withDatabase, type Command } from "./shared";

export const backup: Command = {
  summary: "Copy the database to a file, online, while the server runs.",
  usage: `modelroute backup FILE [flags]

Writes a consistent copy of the database to FILE while the server keeps serving: one SQLite
read snapshot (VACUUM INTO), so every transaction is in the copy whole or not at all. The copy
is compact, self-contained (no -wal file) and checked before it is moved into place. A progress
bar is drawn on stderr when it is a terminal. Restore it with "modelroute restore FILE".

Examples:
  modelroute backup /var/backups/modelroute-$(date +%F).db
  modelroute backup copy.db --data-dir /var/lib/modelroute --force

Flags:
  --force            Replace FILE if it exists.
${DATA_FLAGS_HELP}`,
  options: { ...dataOptions, force: { type: "boolean" } },
  async run(values, positionals) {
    const file = resolve(positional(positionals, 0, "FILE", "backup"));
    noExtraArgs(positionals, 1, "backup");
    if (configFrom(values).databaseUrl) throw new UsageError("backup works on the SQLite database of a data directory; on PostgreSQL use pg_dump (docs/scale-out.md \"Backups\")");
    if (existsSync(file) && values.force !== true) throw new UsageError(`${file} exists; pass --force to replace it`);
    const source = databasePath(configFrom(values).dataDir);
    const started = performance.now();
    const bar = progressBar("backup");
    let size: number;
    try {
      size = await backupDatabase(source, file, embeddedMigrationCount("sqlite"), bar.update);
    } finally {
      bar.done();
    }
    await withDatabase(values, (deps) => Admin.recordAction(deps, "backup.create", null, { file, size_bytes: size }));
    print(`Backed up ${source} to ${file} (${(size / 1024 / 1024).toFixed(1)} MiB in ${((performance.now() - started) / 1000).toFixed(1)} s).`);
    return 0;
  },
};
