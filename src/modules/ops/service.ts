/** Readiness checks and the root index. */
import type { AppContext } from "../../context";
import type { OpsModel } from "./model";
import { appliedMigrations, embeddedMigrationCount } from "../../db/client";
import { fileStore } from "../files/backend";

const STORAGE_PROBE_MS = 2000;

/** With files on S3: a HEAD of a key nobody writes answers "not found" when the storage is reachable. */
async function storageReachable(ctx: AppContext): Promise<boolean> {
  try {
    const probe = fileStore(ctx).head("modelroute-readiness-probe");
    const timeout = Bun.sleep(STORAGE_PROBE_MS).then(() => {
      throw new Error(`no answer within ${STORAGE_PROBE_MS} ms`);
    });
    await Promise.race([probe, timeout]);
    return true;
  } catch (error) {
    ctx.log.warn("readiness: file storage not reachable", { error });
    return false;
  }
}

export async function readiness(ctx: AppContext): Promise<OpsModel.readiness> {
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
  if (ctx.config.storage !== "s3") return { ready: writable && migrated, checks: { database_writable: writable, migrations_applied: migrated } };
  const reachable = await storageReachable(ctx);
  return { ready: writable && migrated && reachable, checks: { database_writable: writable, migrations_applied: migrated, file_storage_reachable: reachable } };
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
