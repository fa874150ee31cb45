/**
 * OpenAI moderations ⇄ the canonical moderation task: a string, a list of strings, or a list of
 * `text` and `image_url` parts (image parts become canonical `image` parts). The answer is
 * OpenAI's `{id, model, results}` with the execution's id.
 */
import type { ModerationOutput } from "../../canonical/media";
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import { objectBody, openaiUnknown } from "../body";

const KNOWN = new Set(["input", "model"]);

export type ModerationRequest = { model: string; input: Record<string, unknown> };

type Part = { type?: unknown; text?: unknown; image_url?: { url?: unknown } };

function partOf(part: Part, i: number) {
  if (part?.type === "text" && typeof part.text === "string") return { type: "text", text: part.text };
  if (part?.type === "image_url" && typeof part.image_url?.url === "string") return { type: "image", url: part.image_url.url };
  throw invalidField(`input[${i}]`, "invalid_type", 'Each part is {"type":"text","text":…} or {"type":"image_url","image_url":{"url":…}}.');
}

export function parseModerationRequest(body: unknown, defaultModel: string | null): ModerationRequest {
  const b = objectBody(body, { known: KNOWN, unknown: openaiUnknown });
  const model = b.model ?? defaultModel;
  if (typeof model !== "string" || model === "") throw invalidField("model", "required", "model is required: no moderation model is in the catalog to default to.");
  const raw = b.input;
  let input: unknown;
  if (typeof raw === "string") input = raw;
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === "string")) input = raw;
  else if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => item && typeof item === "object")) input = raw.map(partOf);
  else throw invalidField("input", "invalid_type", "input must be a string, a list of strings, or a list of text and image_url parts.");
  return { model, input: { input } };
}

export function moderationResponse(row: ExecutionRow) {
  const output = (row.output ?? { results: [] }) as unknown as ModerationOutput;
  return { id: row.id, model: row.model, results: output.results };
}
