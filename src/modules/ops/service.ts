/** Readiness checks and the root index. */
import type { AppContext } from "../../context";
import type { OpsModel } from "./model";
import { appliedMigrations, embeddedMigrationCount } from "../../db/client";

export function readiness(ctx: AppContext): OpsModel.readiness {
  let writable = false;
  try {
    // BEGIN IMMEDIATE takes the write lock: proves the file is writable without changing it.
    ctx.sqlite.exec("BEGIN IMMEDIATE");
    ctx.sqlite.exec("ROLLBACK");
    writable = true;
  } catch (error) {
    ctx.log.warn("readiness: database not writable", { error });
  }
  const migrated = appliedMigrations(ctx.sqlite) >= embeddedMigrationCount;
  return { ready: writable && migrated, checks: { database_writable: writable, migrations_applied: migrated } };
}

/** Where the API, its reference and the health checks are, for a client that asks `GET /`. */
export const index = (baseUrl: string, version: string): OpsModel.index => ({
  object: "index",
  name: "ModelRoute",
  version,
  api: `${baseUrl}/v1`,
  docs: `${baseUrl}/docs`,
  openapi: `${baseUrl}/openapi.json`,
  health: `${baseUrl}/healthz`,
  readiness: `${baseUrl}/readyz`,
});
