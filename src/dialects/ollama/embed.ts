/**
 * Ollama's embeddings ⇄ the canonical embedding task: `/api/embed` (`input` a string or a list,
 * `dimensions`; `embeddings: [[…]]`) and the older `/api/embeddings` (one `prompt`;
 * `embedding: […]`). `truncate`, `keep_alive` and `options` are about a local runner and are
 * checked, then ignored: an input too long for the model fails upstream instead of being cut.
 */
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { objectBody, ollamaUnknown } from "../body";
import { statsOf } from "./answers";
import { bad, samplingOf, unloads } from "./options";

const EMBED_FIELDS = new Set(["model", "input", "truncate", "keep_alive", "dimensions", "options"]);
const EMBEDDINGS_FIELDS = new Set(["model", "prompt", "keep_alive", "options"]);

export type OllamaEmbed = { name: unknown; input: Record<string, unknown> };

function checkIgnored(b: Record<string, any>) {
  unloads(b.keep_alive);
  samplingOf(b.options);
  if (b.truncate !== undefined && b.truncate !== null && typeof b.truncate !== "boolean") throw bad("truncate", "truncate must be a boolean");
}

export function parseEmbedBody(body: unknown): OllamaEmbed {
  const b = objectBody(body, { known: EMBED_FIELDS, unknown: ollamaUnknown });
  checkIgnored(b);
  const texts = typeof b.input === "string" ? b.input : Array.isArray(b.input) && b.input.every((t: unknown) => typeof t === "string") ? b.input : null;
  if (texts === null) throw invalidField("input", "invalid_type", "input must be a string or a list of strings");
  if (b.dimensions !== undefined && b.dimensions !== null && !Number.isInteger(b.dimensions)) throw bad("dimensions", "dimensions must be an integer");
  return { name: b.model, input: { input: texts, ...(b.dimensions ? { dimensions: b.dimensions } : {}) } };
}

export function parseEmbeddingsBody(body: unknown): OllamaEmbed {
  const b = objectBody(body, { known: EMBEDDINGS_FIELDS, unknown: ollamaUnknown });
  checkIgnored(b);
  if (typeof b.prompt !== "string") throw invalidField("prompt", "invalid_type", "prompt must be a string");
  return { name: b.model, input: { input: b.prompt } };
}

const vectorsOf = (row: ExecutionRow) => ((row.output ?? {}) as { embeddings?: number[][] }).embeddings ?? [];

/** `/api/embed`'s answer; `name` is the model as the client named it. */
export function embedAnswer(name: string, row: ExecutionRow) {
  const { total_duration, load_duration, prompt_eval_count } = statsOf(row);
  return { model: name, embeddings: vectorsOf(row), total_duration, load_duration, prompt_eval_count };
}

/** `/api/embeddings`' answer: the one vector. */
export const embeddingAnswer = (row: ExecutionRow) => ({ embedding: vectorsOf(row)[0] ?? [] });
