/**
 * Gemini's `:embedContent` (one content) and `:batchEmbedContents` (a list of requests, which is
 * what `@google/genai` sends for `models.embedContent`) as the canonical embedding task: one
 * execution either way. A content's text parts are joined; `outputDimensionality` is the
 * canonical `dimensions` (one value for the whole batch). `taskType` and `title` are accepted and
 * change nothing (docs/compatibility.md "Gemini").
 */
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { badValue, fieldsOf, listOf } from "./fields";

const REQUEST = new Set(["model", "content", "taskType", "title", "outputDimensionality", "autoTruncate"]);
const BATCH = new Set(["requests"]);
const CONTENT = new Set(["role", "parts"]);
const PART = new Set(["text"]);
/** Google's limit on a batch. */
const MAX_BATCH = 100;

export type EmbedRequest = { input: { input: string | string[]; dimensions?: number }; batch: boolean };

function textOf(content: unknown, at: string): string {
  const c = fieldsOf(content, at, CONTENT);
  const parts = listOf(c.parts, `${at}.parts`);
  if (parts.length === 0) throw invalidField(`${at}.parts`, "required", `* ${at}.parts: content must have parts.`);
  const text = parts.map((p, i) => {
    const part = fieldsOf(p, `${at}.parts[${i}]`, PART);
    if (typeof part.text !== "string") throw invalidField(`${at}.parts[${i}]`, "unsupported", "Only text parts can be embedded.");
    return part.text;
  }).join("\n");
  if (!text) throw invalidField(`${at}.parts`, "required", "The content to embed is empty.");
  return text;
}

function requestOf(raw: unknown, at: string, model: string): { text: string; dimensions?: number } {
  const r = fieldsOf(raw, at, REQUEST);
  // Google refuses a request of a batch that names another model than the URL's.
  if (r.model !== undefined && r.model !== `models/${model}` && r.model !== model)
    throw badValue(`${at}.model`, `the model ${JSON.stringify(r.model)} is not the model of the URL (models/${model}).`);
  const dims = r.outputDimensionality;
  if (dims !== undefined && dims !== null && (!Number.isInteger(dims) || dims < 1)) throw badValue(`${at}.outputDimensionality`, "must be a positive integer.");
  return { text: textOf(r.content, `${at}.content`), ...(typeof dims === "number" ? { dimensions: dims } : {}) };
}

/** One `:embedContent` body, or a `:batchEmbedContents` one, as a canonical embedding input. */
export function parseEmbedRequest(body: unknown, model: string, batch: boolean): EmbedRequest {
  if (!batch) {
    const one = requestOf(body, "", model);
    return { input: { input: one.text, ...(one.dimensions ? { dimensions: one.dimensions } : {}) }, batch };
  }
  const requests = listOf(fieldsOf(body, "", BATCH).requests, "requests");
  if (requests.length === 0) throw invalidField("requests", "required", "* BatchEmbedContentsRequest.requests: at least one request is required.");
  if (requests.length > MAX_BATCH) throw badValue("requests", `at most ${MAX_BATCH} requests are allowed in a batch.`);
  const each = requests.map((r, i) => requestOf(r, `requests[${i}]`, model));
  const dimensions = new Set(each.map((r) => r.dimensions));
  if (dimensions.size > 1) throw invalidField("requests", "unsupported", "Every request of a batch must ask for the same outputDimensionality.");
  const [dims] = dimensions;
  return { input: { input: each.map((r) => r.text), ...(dims ? { dimensions: dims } : {}) }, batch };
}

export function embedResponseOf(row: ExecutionRow, batch: boolean) {
  const vectors = ((row.output ?? {}) as { embeddings?: number[][] }).embeddings ?? [];
  return batch ? { embeddings: vectors.map((values) => ({ values })) } : { embedding: { values: vectors[0] ?? [] } };
}
