/**
 * Ending a batch once every line has ended: its results written as JSONL files of the org
 * (OpenAI: an output file of the lines that succeeded and an error file of the rest, each line
 * `{id, custom_id, response, error}`; Anthropic: one results file of `{custom_id, result}`), then
 * the final status. And the window's end: a batch still running at `expires_at` stops its
 * remaining lines, which end `expired`.
 */
import type { AppContext } from "../../context";
import * as Files from "../files/service";
import { expireJobKey, stopRemaining } from "./lines";
import * as store from "./store";
import type { BatchRow, LineRow } from "./store";

const PAGE = 500;
/** A results file holds at most MAX_BATCH_LINES lines of at most a few MiB each. */
const MAX_RESULTS_BYTES = 16 * 1024 ** 3;

/** The `id` of an output line: the execution's uuid, or the batch's and the line's number for one that never ran. */
const requestIdOf = (batch: BatchRow, line: LineRow) =>
  `batch_req_${line.executionId ? line.executionId.slice("exec_".length) : `${batch.id.slice(batch.id.indexOf("_") + 1)}-${line.line}`}`;

/** The JSONL lines of one file, read page by page. */
async function* jsonl(ctx: AppContext, batch: BatchRow, keep: (line: LineRow) => boolean, render: (line: LineRow) => unknown): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (let after = 0; ; ) {
    const rows = store.linesAfter(ctx.db, batch.id, after, PAGE);
    if (rows.length === 0) return;
    const text = rows.filter(keep).map((line) => `${JSON.stringify(render(line))}\n`).join("");
    if (text) yield encoder.encode(text);
    after = rows.at(-1)!.line;
  }
}

async function writeFile(ctx: AppContext, batch: BatchRow, name: string, chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const row = await Files.storeStreamed(ctx, { orgId: batch.orgId, filename: `${batch.id}_${name}.jsonl`, contentType: "application/jsonl", purpose: "batch_output" }, chunks, MAX_RESULTS_BYTES);
  return row.id;
}

/** The files of an ended batch: OpenAI's output and error files (each only when it has lines), or Anthropic's results. */
async function writeResults(ctx: AppContext, batch: BatchRow): Promise<Pick<BatchRow, "outputFileId" | "errorFileId">> {
  if (batch.dialect === "anthropic") {
    return { outputFileId: batch.total > 0 ? await writeFile(ctx, batch, "results", jsonl(ctx, batch, () => true, (l) => ({ custom_id: l.customId, result: l.result }))) : null, errorFileId: null };
  }
  const openaiLine = (l: LineRow) => ({ id: requestIdOf(batch, l), custom_id: l.customId, ...l.result });
  return {
    outputFileId: batch.succeeded > 0 ? await writeFile(ctx, batch, "output", jsonl(ctx, batch, (l) => l.outcome === "succeeded", openaiLine)) : null,
    errorFileId: batch.total - batch.succeeded > 0 ? await writeFile(ctx, batch, "error", jsonl(ctx, batch, (l) => l.outcome !== "succeeded", openaiLine)) : null,
  };
}

/** The `batch.finalize` job: once every line has ended, finalizing → the files → completed, cancelled or expired. */
export async function finalizeBatch(ctx: AppContext, batchId: string) {
  let batch = store.batchById(ctx.db, batchId);
  if (!batch || store.isEnded(batch.status)) return;
  if (batch.succeeded + batch.errored + batch.canceled + batch.expired < batch.total) return; // the last line queues it again
  const now = ctx.clock.now();
  if (batch.status === "in_progress") batch = store.moveBatch(ctx.db, batchId, ["in_progress"], "finalizing", { finalizingAt: now }) ?? store.batchById(ctx.db, batchId)!;
  const files = await writeResults(ctx, batch);
  const done = ctx.clock.now();
  const [to, at]: [store.BatchStatus, Partial<BatchRow>] =
    batch.status === "cancelling" ? ["cancelled", { cancelledAt: done }] : batch.expired > 0 ? ["expired", { expiredAt: done }] : ["completed", { completedAt: done }];
  const moved = store.moveBatch(ctx.db, batchId, [batch.status], to, { ...files, ...at });
  if (moved) ctx.scheduler.cancel(ctx.db, expireJobKey(batchId)); // ended before its window did
  else {
    // Someone else ended it while the files were written (a cancel racing the last line): theirs stand.
    for (const id of [files.outputFileId, files.errorFileId]) if (id) await Files.deleteFile(ctx, batch.orgId, id);
  }
}

/** The `batch.expire` job, due at `expires_at`: the lines still to run end `expired`, running ones are cancelled. */
export async function expireBatch(ctx: AppContext, batchId: string) {
  const batch = store.batchById(ctx.db, batchId);
  if (!batch || store.isEnded(batch.status)) return;
  if (batch.status === "validating") {
    store.moveBatch(ctx.db, batchId, ["validating"], "expired", { expiredAt: ctx.clock.now() });
    return;
  }
  await stopRemaining(ctx, batch, "expired");
}
