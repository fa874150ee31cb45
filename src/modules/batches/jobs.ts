/**
 * Scheduler handlers of batches: validate an OpenAI batch's input file, run one line, finalize
 * an ended batch, and end a batch's window. Each starts from what the tables say now, so a re-run
 * after a crash carries on where the last one stopped.
 */
import type { JobHandler } from "../../scheduler/types";
import { expireBatch, finalizeBatch } from "./finalize";
import { runLine } from "./lines";
import { validateBatch } from "./validate";

declare module "../../scheduler/types" {
  interface JobPayloads {
    "batch.validate": { batchId: string };
    "batch.line": { batchId: string; line: number };
    "batch.finalize": { batchId: string };
    "batch.expire": { batchId: string };
  }
}

export const validateBatchJob: JobHandler<"batch.validate"> = (ctx, job) => validateBatch(ctx, job.payload.batchId);
export const runBatchLine: JobHandler<"batch.line"> = (ctx, job) => runLine(ctx, job.payload.batchId, job.payload.line, job.signal);
export const finalizeBatchJob: JobHandler<"batch.finalize"> = (ctx, job) => finalizeBatch(ctx, job.payload.batchId);
export const expireBatchJob: JobHandler<"batch.expire"> = (ctx, job) => expireBatch(ctx, job.payload.batchId);
