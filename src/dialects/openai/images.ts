/**
 * OpenAI image generation ⇄ the canonical text-to-image task. `size` becomes width and height;
 * the images, stored as the organization's files, come back as base64 (`b64_json`, the default)
 * or as presigned download links (`url`).
 */
import type { AppContext } from "../../context";
import { invalidField } from "../../errors";
import type { ExecutionRow } from "../../modules/executions/store";
import * as Files from "../../modules/files/service";
import { objectBody, openaiUnknown } from "../body";

const KNOWN = new Set(["model", "prompt", "n", "size", "response_format", "quality", "style", "user", "background", "output_format", "output_compression", "moderation"]);

export type ImageFormat = "b64_json" | "url";
export type ImagesRequest = { model: string; input: Record<string, unknown>; format: ImageFormat };

/** `n` and `size` as the canonical `num_images`, `width` and `height` (into `input`). */
export function countAndSize(input: Record<string, unknown>, n: unknown, size: unknown) {
  if (n !== undefined) input.num_images = n;
  if (size !== undefined && size !== "auto") {
    const match = /^(\d+)x(\d+)$/.exec(String(size));
    if (!match) throw invalidField("size", "invalid_format", 'size must be "WIDTHxHEIGHT", e.g. "1024x1024".');
    input.width = Number(match[1]);
    input.height = Number(match[2]);
  }
}

export function imageFormatOf(value: unknown): ImageFormat {
  const format = value ?? "b64_json";
  if (format !== "b64_json" && format !== "url") throw invalidField("response_format", "invalid_format", 'response_format must be "b64_json" or "url".');
  return format;
}

export function parseImagesRequest(body: unknown): ImagesRequest {
  const b = objectBody(body, { known: KNOWN, unknown: openaiUnknown });
  if (typeof b.prompt !== "string" || b.prompt === "") throw invalidField("prompt", "required", "prompt is required.");
  const input: Record<string, unknown> = { prompt: b.prompt };
  countAndSize(input, b.n, b.size);
  return { model: String(b.model ?? ""), input, format: imageFormatOf(b.response_format) };
}

/** OpenAI's images answer for an execution's stored images: base64, or presigned links of the org's files. */
export async function imagesResponse(ctx: AppContext, orgId: string, row: ExecutionRow, format: ImageFormat) {
  const images = ((row.output ?? {}) as { images?: { file_id: string }[] }).images ?? [];
  const data = await Promise.all(
    images.map(async (image) => {
      if (format === "url") return { url: (await Files.downloadUrl(ctx, orgId, image.file_id)).url };
      const download = await Files.download(ctx, orgId, image.file_id, undefined);
      return { b64_json: Buffer.from(await new Response(download.body).arrayBuffer()).toString("base64") };
    }),
  );
  return { created: Math.floor(row.createdAt / 1000), data };
}
