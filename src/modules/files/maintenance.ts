/**
 * Background upkeep of files, run as scheduler jobs (jobs.ts): deleting expired, deleted and
 * abandoned files (blob, then row), and confirming S3 uploads nobody has looked at yet.
 */
import type { AppContext } from "../../context";
import { fileStore, storeFor } from "./backend";
import { confirmUpload } from "./service";
import * as store from "./store";

/** An upload link that expired this long ago without bytes arriving is abandoned. */
export const PENDING_GRACE_MS = 3_600_000;
const BATCH = 200;

/** Deletes blob and row of every expired, deleted or abandoned file; returns how many went. Idempotent. */
export async function purgeExpired(ctx: AppContext, now: number = ctx.clock.now()): Promise<number> {
  let purged = 0;
  for (;;) {
    const rows = store.purgeCandidates(ctx.db, now, PENDING_GRACE_MS, BATCH);
    for (const row of rows) {
      // Hidden first, so a purge cut short never shows a file whose bytes are gone.
      if (row.deletedAt === null) store.markDeleted(ctx.db, row.id, row.orgId, now);
      const files = storeFor(ctx, row);
      if (files) await files.delete(row.storageKey);
      else ctx.log.warn("files: purged a row whose bytes are on a backend not configured now", { file_id: row.id, backend: row.backend });
      store.removeRow(ctx.db, row.id);
      purged++;
    }
    if (rows.length < BATCH) return purged;
  }
}

export type SweepResult = { confirmed: number; failed: number; stillPending: number };

/** HEADs every pending S3 upload: confirms the ones whose object arrived as declared. No-op on local storage. */
export async function sweepUploads(ctx: AppContext): Promise<SweepResult> {
  const result: SweepResult = { confirmed: 0, failed: 0, stillPending: 0 };
  if (fileStore(ctx).backend !== "s3") return result;
  let after = "";
  for (;;) {
    const rows = store.pendingUploads(ctx.db, "s3", after, BATCH);
    for (const row of rows) {
      const status = (await confirmUpload(ctx, row)).status;
      if (status === "uploaded") result.confirmed++;
      else if (status === "failed") result.failed++;
      else result.stillPending++;
    }
    if (rows.length < BATCH) return result;
    after = rows[rows.length - 1]!.id;
  }
}
