/**
 * Validation of an OpenAI batch's input file (docs/batches.md), read as a stream line by line:
 * every line is JSON with a unique `custom_id`, `method: "POST"`, `url` equal to the batch's
 * endpoint and a `body` the endpoint's own parser accepts. Valid lines are written as they are
 * read (in pages, never the whole file in memory); any problem fails the batch with OpenAI's
 * `errors` list and no line runs.
 */
import type { AppContext } from "../../context";
import { endpointOf } from "../../dialects/batch-endpoints";
import { paramOf } from "../../dialects/openai/errors";
import { AppError } from "../../errors";
import * as Files from "../files/service";
import { finalizeIfDone, LINE_JOB, FINALIZE_JOB } from "./lines";
import * as store from "./store";
import type { BatchRow } from "./store";

/** OpenAI's limit of requests in one batch. */
export const MAX_BATCH_LINES = 50_000;
/** One line is one request body: the JSON body limit of the live routes. */
const MAX_LINE_BYTES = 1024 * 1024;
/** Problems reported; the rest are counted in the last one's message. */
const MAX_ERRORS = 100;
const PAGE = 500;

export type LineError = { code: string; message: string; param: string | null; line: number | null };

/** The file's lines as text (without their newline), a line past MAX_LINE_BYTES cut to a marker. */
async function* linesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<string | { tooLong: true }> {
  const decoder = new TextDecoder();
  let pending = "";
  let tooLong = false;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = pending.indexOf("\n")) !== -1) {
      const text = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      yield tooLong ? { tooLong: true } : text;
      tooLong = false;
    }
    if (pending.length > MAX_LINE_BYTES) {
      tooLong = true;
      pending = "";
    }
  }
  pending += decoder.decode();
  if (tooLong) yield { tooLong: true };
  else if (pending.trim() !== "") yield pending;
}

/** Checks one line; returns the stored request, or the problem. */
function checkLine(ctx: AppContext, batch: BatchRow, text: string, lineNo: number, seen: Set<string>) {
  const fail = (code: string, message: string, param: string | null = null): { error: LineError } => ({ error: { code, message, param, line: lineNo } });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail("invalid_json_line", "This line is not parseable as JSON.");
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return fail("invalid_json_line", "This line is not a JSON object.");
  const { custom_id: customId, method, url, body, ...rest } = parsed as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) return fail("invalid_request", `Unrecognized field ${extra}; a line has custom_id, method, url and body.`, extra);
  if (typeof customId !== "string" || customId === "") return fail("missing_required_parameter", "custom_id must be a non-empty string.", "custom_id");
  if (customId.length > 512) return fail("invalid_request", "custom_id is at most 512 characters.", "custom_id");
  if (seen.has(customId)) return fail("duplicate_custom_id", `The custom_id ${customId} is used by an earlier line; each must be unique.`, "custom_id");
  seen.add(customId);
  if (method !== "POST") return fail("invalid_method", 'method must be "POST".', "method");
  if (url !== batch.endpoint) return fail("invalid_url", `url must be ${batch.endpoint}, the batch's endpoint.`, "url");
  try {
    const request = endpointOf(batch.dialect, batch.endpoint).parse(ctx, body);
    return { row: { batchId: batch.id, line: lineNo, customId, model: request.model, input: request as unknown as Record<string, unknown> } };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    const param = paramOf(error.details[0]?.field);
    return fail(error.code === "NOT_FOUND" ? "model_not_found" : "invalid_request", error.message, param ? `body.${param}` : "body");
  }
}

/** Fails the batch with `errors`, keeping no line. */
function failBatch(ctx: AppContext, batch: BatchRow, errors: LineError[]) {
  ctx.db.transaction((tx) => {
    store.deleteLines(tx, batch.id);
    store.moveBatch(tx, batch.id, ["validating"], "failed", { errors, failedAt: ctx.clock.now() });
  });
}

/** The `batch.validate` job. Re-run after a crash, it starts over (the lines written so far are replaced). */
export async function validateBatch(ctx: AppContext, batchId: string) {
  const batch = store.batchById(ctx.db, batchId);
  if (!batch || batch.status !== "validating") return;
  store.deleteLines(ctx.db, batchId);
  let input: Awaited<ReturnType<typeof Files.openFile>>;
  try {
    input = await Files.openFile(ctx, batch.orgId, batch.inputFileId!);
  } catch (error) {
    if (!(error instanceof AppError && error.code === "NOT_FOUND")) throw error;
    return failBatch(ctx, batch, [{ code: "invalid_file", message: `The input file ${batch.inputFileId} no longer exists.`, param: "input_file_id", line: null }]);
  }
  const errors: LineError[] = [];
  let problems = 0;
  const seen = new Set<string>();
  let page: Parameters<typeof store.insertLines>[1] = [];
  let lineNo = 0;
  const flush = () => {
    store.insertLines(ctx.db, page);
    page = [];
  };
  for await (const text of linesOf(input.body)) {
    lineNo++;
    if (typeof text === "string" && text.trim() === "") continue; // blank lines (a trailing newline) are not requests
    if (lineNo > MAX_BATCH_LINES) {
      errors.push({ code: "too_many_requests", message: `A batch holds at most ${MAX_BATCH_LINES} requests.`, param: null, line: lineNo });
      break;
    }
    const checked = typeof text === "string" ? checkLine(ctx, batch, text, lineNo, seen) : { error: { code: "invalid_request", message: `The line is longer than ${MAX_LINE_BYTES} bytes.`, param: null, line: lineNo } };
    if ("error" in checked) {
      if (++problems <= MAX_ERRORS) errors.push(checked.error);
      continue;
    }
    if (problems > 0) continue; // failing anyway: stop writing lines
    page.push(checked.row);
    if (page.length >= PAGE) flush();
  }
  if (problems > MAX_ERRORS) errors.at(-1)!.message += ` (${problems - MAX_ERRORS} more problems not listed)`;
  if (seen.size === 0 && errors.length === 0) errors.push({ code: "empty_file", message: "The input file has no requests.", param: "input_file_id", line: null });
  if (errors.length) return failBatch(ctx, batch, errors);
  flush();
  startLines(ctx, batch.id, seen.size);
}

/**
 * validating → in_progress with `total` lines, and one `batch.line` job per line, in one
 * transaction. A batch cancelled while it was validating ends without running anything.
 */
export function startLines(ctx: AppContext, batchId: string, total: number) {
  const lines = ctx.db.transaction((tx) => {
    const moved = store.moveBatch(tx, batchId, ["validating"], "in_progress", { total, inProgressAt: ctx.clock.now() });
    if (!moved) {
      store.deleteLines(tx, batchId);
      finalizeIfDone(ctx, tx, store.batchById(tx, batchId));
      return 0;
    }
    for (let after = 0; ; ) {
      const rows = store.linesAfter(tx, batchId, after, 1000);
      if (rows.length === 0) break;
      for (const row of rows) ctx.scheduler.enqueue(tx, LINE_JOB, { batchId, line: row.line }, { uniqueKey: `${LINE_JOB}:${batchId}:${row.line}`, maxAttempts: 1000 });
      after = rows.at(-1)!.line;
    }
    return total;
  });
  ctx.scheduler.wake(lines > 0 ? LINE_JOB : FINALIZE_JOB);
}
