/**
 * The rerank endpoint, in the shape Cohere, Jina and Voyage share ⇄ the canonical rerank task:
 * `documents` as strings or `{text}` objects, `top_n` (Voyage's `top_k` too), and
 * `return_documents` to have each result carry its document (as `{text}`).
 */
import type { RerankOutput } from "../../canonical/media";
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { objectBody } from "../body";

const KNOWN = new Set(["model", "query", "documents", "top_n", "top_k", "return_documents"]);
/** Parameters of some rerank APIs the gateway cannot honour: each document is scored whole, as text. */
const REFUSED = {
  max_chunks_per_doc: "Documents are not chunked: each is scored whole.",
  max_tokens_per_doc: "Documents are not truncated by the gateway: each is scored whole.",
  rank_fields: "Documents are scored as text: send strings or {text} objects.",
};

export type RerankRequest = { model: string; input: Record<string, unknown>; documents: string[]; returnDocuments: boolean };

export function parseRerankRequest(body: unknown): RerankRequest {
  const b = objectBody(body, { known: KNOWN, refused: REFUSED, unknown: (param) => `Unknown parameter: ${param}` });
  if (typeof b.query !== "string" || b.query === "") throw invalidField("query", "required", "query is required.");
  if (!Array.isArray(b.documents) || b.documents.length === 0) throw invalidField("documents", "required", "documents is required: a non-empty list.");
  const documents = b.documents.map((d: unknown, i: number) => {
    if (typeof d === "string") return d;
    if (d && typeof d === "object" && typeof (d as { text?: unknown }).text === "string") return (d as { text: string }).text;
    throw invalidField(`documents[${i}]`, "invalid_type", "Each document is a string or an object with a text field.");
  });
  const topN = b.top_n ?? b.top_k;
  if (b.return_documents !== undefined && typeof b.return_documents !== "boolean") throw invalidField("return_documents", "invalid_type", "return_documents is a boolean.");
  return { model: String(b.model ?? ""), input: { query: b.query, documents, ...(topN !== undefined ? { top_n: topN } : {}) }, documents, returnDocuments: b.return_documents === true };
}

export function rerankResponse(row: ExecutionRow, req: RerankRequest) {
  const output = (row.output ?? { results: [] }) as unknown as RerankOutput;
  const tokens = (row.usage?.inputTokens ?? 0) + (row.usage?.outputTokens ?? 0);
  return {
    id: row.id,
    object: "list" as const,
    model: row.model,
    results: output.results.map((r) => ({ index: r.index, relevance_score: r.relevance_score, ...(req.returnDocuments ? { document: { text: req.documents[r.index] ?? "" } } : {}) })),
    meta: { billed_units: { search_units: 1 } },
    usage: { total_tokens: tokens },
  };
}
