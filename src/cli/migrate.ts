import { closeDatabase, migrate as applyMigrations, openDatabase } from "../db/client";
import { commonOptions, configFrom, settingOptions, type Command } from "./shared";

export const migrate: Command = {
  summary: "Apply the embedded database migrations and exit.",
  usage: `modelroute migrate [--data-dir DIR]

Applies every migration embedded in this binary that the database has not seen. The server does
this at start too; run it by hand to upgrade ahead of a restart.

Examples:
  modelroute migrate
  modelroute migrate --data-dir /var/lib/modelroute`,
  options: { ...commonOptions, ...settingOptions },
  async run(values) {
    const config = configFrom(values);
    const handle = openDatabase(config.dataDir);
    const applied = applyMigrations(handle);
    closeDatabase(handle);
    process.stdout.write(`${applied} migration(s) applied to ${handle.path}\n`);
    return 0;
  },
};
