/** Readiness checks and the root index. */
import type { AppContext } from "../../context";
import type { OpsModel } from "./model";
import { appliedMigrations, embeddedMigrationCount } from "../../db/client";

export function readiness(ctx: AppContext): OpsModel.readiness {
  let writable = false;
  try {
    // SQLite: BEGIN IMMEDIATE takes the write lock, proving the file is writable without changing
    // it. PostgreSQL: a transaction that would write (a read-only standby or a full disk refuses it).
    if (ctx.handle.dialect === "postgres") ctx.client.exec("BEGIN; SET TRANSACTION READ WRITE; SELECT pg_current_xact_id(); ROLLBACK");
    else {
      ctx.client.exec("BEGIN IMMEDIATE");
      ctx.client.exec("ROLLBACK");
    }
    writable = true;
  } catch (error) {
    ctx.log.warn("readiness: database not writable", { error });
  }
  const migrated = appliedMigrations(ctx.handle) >= embeddedMigrationCount(ctx.handle.dialect);
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
