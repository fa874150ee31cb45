/** OpenAI embeddings ⇄ the canonical embedding task. */
import { invalidField } from "../../errors";
import { objectBody, openaiUnknown } from "../body";
import type { ExecutionRow } from "../../modules/executions/store";

const KNOWN = new Set(["model", "input", "dimensions", "encoding_format", "user"]);

export type EmbeddingsRequest = { model: string; input: Record<string, unknown>; encoding: "float" | "base64" };

export function parseEmbeddingsRequest(body: unknown): EmbeddingsRequest {
  const b = objectBody(body, { known: KNOWN, unknown: openaiUnknown });
  if (typeof b.model !== "string" || b.model === "") throw invalidField("model", "required", "model is required.");
  const texts = typeof b.input === "string" ? b.input : Array.isArray(b.input) && b.input.every((t: unknown) => typeof t === "string") ? b.input : null;
  if (texts === null) throw invalidField("input", "invalid_type", "input must be a string or an array of strings (token arrays are not supported).");
  const encoding = b.encoding_format ?? "float";
  if (encoding !== "float" && encoding !== "base64") throw invalidField("encoding_format", "invalid_format", 'encoding_format must be "float" or "base64".');
  return { model: b.model, input: { input: texts, ...(b.dimensions !== undefined ? { dimensions: b.dimensions } : {}) }, encoding };
}

/** Little-endian float32, base64: what OpenAI sends for `encoding_format: "base64"`. */
function base64Of(vector: number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString("base64");
}

export function embeddingsResponse(row: ExecutionRow, encoding: "float" | "base64") {
  const vectors = ((row.output ?? {}) as { embeddings?: number[][] }).embeddings ?? [];
  const tokens = row.usage?.inputTokens ?? 0;
  return {
    object: "list" as const,
    data: vectors.map((v, index) => ({ object: "embedding" as const, index, embedding: encoding === "base64" ? base64Of(v) : v })),
    model: row.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
