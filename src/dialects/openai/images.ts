/**
 * OpenAI image generation ⇄ the canonical text-to-image task. `size` becomes width and height;
 * the images, stored as the organization's files, come back as base64 (`b64_json`, the default)
 * or as presigned download links (`url`).
 */
import { invalidField } from "../../errors";
import { objectBody, openaiUnknown } from "../body";

const KNOWN = new Set(["model", "prompt", "n", "size", "response_format", "quality", "style", "user", "background", "output_format", "output_compression", "moderation"]);

export type ImagesRequest = { model: string; input: Record<string, unknown>; format: "b64_json" | "url" };

export function parseImagesRequest(body: unknown): ImagesRequest {
  const b = objectBody(body, { known: KNOWN, unknown: openaiUnknown });
  if (typeof b.prompt !== "string" || b.prompt === "") throw invalidField("prompt", "required", "prompt is required.");
  const input: Record<string, unknown> = { prompt: b.prompt };
  if (b.n !== undefined) input.num_images = b.n;
  if (b.size !== undefined && b.size !== "auto") {
    const size = /^(\d+)x(\d+)$/.exec(String(b.size));
    if (!size) throw invalidField("size", "invalid_format", 'size must be "WIDTHxHEIGHT", e.g. "1024x1024".');
    input.width = Number(size[1]);
    input.height = Number(size[2]);
  }
  const format = b.response_format ?? "b64_json";
  if (format !== "b64_json" && format !== "url") throw invalidField("response_format", "invalid_format", 'response_format must be "b64_json" or "url".');
  return { model: String(b.model ?? ""), input, format };
}
