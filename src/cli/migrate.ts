import { closeDatabase, migrate as applyMigrations, openDatabase } from "../db/client";
import { mkdirSync } from "node:fs";
import { commonOptions, configFrom, ownDataDir, settingOptions, type Command } from "./shared";

export const migrate: Command = {
  summary: "Apply the embedded database migrations and exit.",
  usage: `modelroute migrate [--data-dir DIR] [--database postgres://…]

Applies every migration embedded in this binary that the database has not seen. The server does
this at start too; run it by hand to upgrade ahead of a restart, with the server stopped (it
refuses while a server owns the data directory). On PostgreSQL, replicas may stay up: the
migrations run under an advisory lock, once.

Examples:
  modelroute migrate
  modelroute migrate --data-dir /var/lib/modelroute`,
  options: { ...commonOptions, ...settingOptions },
  async run(values) {
    const config = configFrom(values);
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const lock = ownDataDir(config.dataDir, "migrate"); // a running server has already migrated
    const handle = openDatabase(config.dataDir, config.databaseUrl);
    let applied: number;
    try {
      applied = applyMigrations(handle);
    } finally {
      closeDatabase(handle);
      lock.release();
    }
    process.stdout.write(`${applied} migration(s) applied to ${handle.path}\n`);
    return 0;
  },
};
