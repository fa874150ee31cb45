/**
 * The mock rerank model (docs/tasks.md "rerank"): a document's relevance is the share of the
 * query's distinct words it contains (0 to 1, six decimals); ties keep input order.
 */
import type { RerankOutput } from "../../canonical/media";
import { sleep } from "../../time";
import type { TaskRunner } from "../types";
import { countTokens, failIfAsked, latencyOf, wordsOf } from "./controls";

export const rerank: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const query = String(call.input.query);
  const documents = call.input.documents as string[];
  const asked = new Set(wordsOf(query));
  const scored = documents.map((document, index) => {
    const present = new Set(wordsOf(document));
    const overlap = [...asked].filter((w) => present.has(w)).length;
    return { index, relevance_score: asked.size === 0 ? 0 : Math.round((overlap / asked.size) * 1e6) / 1e6 };
  });
  scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const output: RerankOutput = { results: scored.slice(0, Number(call.input.top_n ?? documents.length)) };
  return { output, usage: { inputTokens: countTokens(query) + documents.reduce((n, d) => n + countTokens(d), 0), outputTokens: 0 } };
};
