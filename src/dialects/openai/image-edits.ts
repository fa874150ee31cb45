/**
 * OpenAI image edits and variations (multipart) ⇄ the canonical image-edit and image-variation
 * tasks: `image` (or `image[]`) and `mask` become file ids the route stores, `n` and `size`
 * become `num_images`, `width` and `height`. The answer is the images answer of generations.
 */
import { invalidField } from "../../errors";
import { openaiUnknown } from "../body";
import { fileFields, numberField, textField, type FormFields } from "../multipart";
import { countAndSize, imageFormatOf, type ImageFormat } from "./images";

/** Accepted; the images tasks have no such setting, so they do not reach the model. */
const EDIT_KNOWN = new Set(["image", "mask", "prompt", "model", "n", "size", "response_format", "user", "background", "input_fidelity", "output_compression", "output_format", "quality", "stream", "partial_images"]);
const VARIATION_KNOWN = new Set(["image", "model", "n", "size", "response_format", "user"]);

export type ImageEditRequest = { model: string; images: File[]; mask: File | null; input: Record<string, unknown>; format: ImageFormat };

function checkNames(fields: FormFields, known: Set<string>) {
  for (const name of Object.keys(fields)) if (!known.has(name)) throw invalidField(name, "unknown_field", openaiUnknown(name));
}

function common(fields: FormFields, input: Record<string, unknown>) {
  countAndSize(input, numberField(fields, "n"), textField(fields, "size"));
  return { model: textField(fields, "model") ?? "", format: imageFormatOf(textField(fields, "response_format")) };
}

export function parseImageEditForm(fields: FormFields): ImageEditRequest {
  checkNames(fields, EDIT_KNOWN);
  const images = fileFields(fields, "image");
  if (images.length === 0) throw invalidField("image", "required", "image is required: the image to edit.");
  const [mask, extraMask] = fileFields(fields, "mask");
  if (extraMask) throw invalidField("mask", "invalid_format", "Send one mask.");
  const prompt = textField(fields, "prompt");
  if (!prompt) throw invalidField("prompt", "required", "prompt is required: the edit to make.");
  const stream = textField(fields, "stream");
  if (stream !== undefined && stream !== "false") throw invalidField("stream", "unsupported", "Streamed image edits are not served; leave stream out.");
  const input: Record<string, unknown> = { prompt };
  return { ...common(fields, input), images, mask: mask ?? null, input };
}

export type ImageVariationRequest = { model: string; image: File; input: Record<string, unknown>; format: ImageFormat };

export function parseImageVariationForm(fields: FormFields): ImageVariationRequest {
  checkNames(fields, VARIATION_KNOWN);
  const [image, extra] = fileFields(fields, "image");
  if (!image || extra) throw invalidField("image", "required", "image is required: one image to vary.");
  const input: Record<string, unknown> = {};
  return { ...common(fields, input), image, input };
}

/** The canonical fields of an edit or variation in OpenAI's names, for errors the model's schema raises. */
export const IMAGE_PARAMS: Record<string, string> = { num_images: "n", width: "size", height: "size", images: "image", "images[0]": "image" };
