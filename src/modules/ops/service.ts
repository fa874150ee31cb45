/** Readiness checks and the root index. */
import type { AppContext } from "../../context";
import type { OpsModel } from "./model";
import { appliedMigrations, embeddedMigrationCount } from "../../db/client";
import { fileStore } from "../files/backend";
import { randomUUID } from "node:crypto";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";

const STORAGE_PROBE_MS = 2000;
/** About what a commit of a few executions appends to the WAL: a disk with less than this free is full. */
const WRITE_PROBE_BYTES = 64 * 1024;

/**
 * A write the database's own check cannot see: SQLite takes its write lock without touching the
 * disk, so a full or read-only data directory still passes BEGIN IMMEDIATE. A probe file is
 * written, synced and removed in the data directory and, with local files, where their bytes go.
 */
async function dataDirWritable(ctx: AppContext): Promise<boolean> {
  const dirs = [ctx.config.dataDir];
  if (ctx.config.storage !== "s3") dirs.push(join(ctx.config.dataDir, "files", ".incoming"));
  const bytes = new Uint8Array(WRITE_PROBE_BYTES);
  for (const dir of dirs) {
    const path = join(dir, `.readyz-${randomUUID()}.probe`);
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(path, "wx", 0o600);
      try {
        await handle.write(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      ctx.log.warn("readiness: data directory not writable", { dir, error: (error as Error).message });
      return false;
    } finally {
      await rm(path, { force: true }).catch(() => {});
    }
  }
  return true;
}

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
  const dataDir = await dataDirWritable(ctx);
  const accepting = !ctx.drain.stopping;
  const checks = { accepting_requests: accepting, database_writable: writable, migrations_applied: migrated, data_dir_writable: dataDir };
  const ready = accepting && writable && migrated && dataDir;
  if (ctx.config.storage !== "s3") return { ready, checks };
  const reachable = await storageReachable(ctx);
  return { ready: ready && reachable, checks: { ...checks, file_storage_reachable: reachable } };
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
