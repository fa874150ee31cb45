/**
 * Ollama's `/api/generate` request ⇄ a canonical input. For a chat model the prompt is one user
 * message (with its `images`), `system` a system message before it, and `format` and `think` as
 * on `/api/chat`. A text-generation model takes the prompt and the sampling options its schema
 * has. What needs Ollama's own runner is refused naming its field: `suffix` (fill-in-the-middle),
 * `template`, `raw`, `context` (token ids of an earlier answer) and the image-generation fields.
 */
import type { ChatInput } from "../../canonical/chat";
import { invalidField } from "../../errors";
import type { Model } from "../../modules/catalog/service";
import { objectBody, ollamaUnknown } from "../body";
import { inputFor } from "../openai/completions";
import { imagesOf, userContent } from "./chat";
import { addOutputControls, bad, requestOf, samplingOf, SHARED_FIELDS, SHARED_REFUSED, type OllamaRequest } from "./options";

const KNOWN = new Set([...SHARED_FIELDS, "prompt", "suffix", "system", "template", "context", "images"]);
const REFUSED: Record<string, string> = {
  ...SHARED_REFUSED,
  raw: "raw prompts are not supported: every upstream applies its own prompt format.",
  width: "Image generation is not supported on /api/generate.",
  height: "Image generation is not supported on /api/generate.",
  steps: "Image generation is not supported on /api/generate.",
};

/** Fields that pass when empty ("" or []), and are refused with their reason otherwise. */
const REFUSED_UNLESS_EMPTY: Record<string, string> = {
  suffix: "suffix (fill-in-the-middle) is not supported.",
  template: "template is not supported: every upstream applies its own prompt format.",
  context: "context (the token ids of an earlier answer) is not supported; send the conversation to /api/chat instead.",
};

export function parseGenerateBody(body: unknown): OllamaRequest {
  const b = objectBody(body, { known: KNOWN, refused: REFUSED, unknown: ollamaUnknown });
  for (const [field, reason] of Object.entries(REFUSED_UNLESS_EMPTY)) {
    const value = b[field];
    const empty = value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
    if (!empty) throw invalidField(field, "unsupported", reason);
  }
  if (b.prompt !== undefined && b.prompt !== null && typeof b.prompt !== "string") throw bad("prompt", "prompt must be a string");
  if (b.system !== undefined && b.system !== null && typeof b.system !== "string") throw bad("system", "system must be a string");
  return requestOf(b);
}

/** True when there is nothing to generate: Ollama's way to load (or unload) a model. */
export const loadsOnly = (req: OllamaRequest) => !req.body.prompt && !(Array.isArray(req.body.images) && req.body.images.length);

/** Fields only a chat model can honour. */
const CHAT_ONLY = ["system", "images", "format", "think"] as const;

export function generateInputOf(req: OllamaRequest, model: Model, name: string): Record<string, unknown> {
  const b = req.body;
  const sampling = samplingOf(b.options);
  const prompt = (b.prompt ?? "") as string;
  if (model.task !== "chat") {
    for (const field of CHAT_ONLY) {
      const value = b[field];
      if (value !== undefined && value !== null && value !== "" && value !== false && !(Array.isArray(value) && value.length === 0))
        throw invalidField(field, "unsupported", `"${name}" is not a chat model (its task is ${model.task}): ${field} needs one`);
    }
    return inputFor(model, { prompt, options: sampling });
  }
  const input: ChatInput = {
    messages: [...(b.system ? [{ role: "system" as const, content: b.system as string }] : []), { role: "user", content: userContent(prompt, imagesOf(b.images, "images")) }],
    ...sampling,
  };
  return addOutputControls(input, b, model, name) as unknown as Record<string, unknown>;
}
