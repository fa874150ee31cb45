/** Scheduler jobs of the files module; the app registers them (periodic, idempotent). */
import type { JobHandler, KindOptions } from "../../scheduler/types";
import { purgeExpired, sweepUploads } from "./maintenance";

declare module "../../scheduler/types" {
  interface JobPayloads {
    "files.purge": Record<string, never>;
    "files.sweep-uploads": Record<string, never>;
  }
}

export const purgeFiles: JobHandler<"files.purge"> = async (ctx) => {
  const purged = await purgeExpired(ctx, ctx.clock.now());
  if (purged > 0) ctx.log.info("files: purged", { files: purged });
};

export const sweepFileUploads: JobHandler<"files.sweep-uploads"> = async (ctx) => {
  const result = await sweepUploads(ctx);
  if (result.confirmed + result.failed > 0) ctx.log.info("files: upload sweep", { ...result });
};

/** Suggested registration: purge hourly; sweep S3 uploads every 5 minutes. */
export const FILE_JOB_OPTIONS = {
  "files.purge": { concurrency: 1, leaseMs: 600_000, everyMs: 3_600_000 },
  "files.sweep-uploads": { concurrency: 1, leaseMs: 300_000, everyMs: 300_000 },
} as const satisfies Record<string, KindOptions>;
