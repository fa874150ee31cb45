/**
 * The mock image edit and variation models (docs/tasks.md "image-edit", "image-variation"):
 * they decode the PNG they are given and paint a deterministic change, so what comes back is a
 * real edit of the input. An edit inverts each pixel where the mask is fully transparent (the
 * whole image without a mask) and mixes it half and half with a tint drawn from the prompt;
 * pixels elsewhere are kept exactly. Variation i rotates the colour channels i + 1 times and
 * shifts them by an offset drawn from the image's bytes. A `width`/`height` other than the
 * input's resizes the result (nearest neighbour).
 */
import { AppError } from "../../errors";
import { sleep } from "../../time";
import type { Artifact, InputFile, ProviderResult, TaskCall, TaskRunner } from "../types";
import { countTokens, failIfAsked, latencyOf, seedOf } from "./controls";
import { decodePng, encodePng, PngError, type DecodedImage } from "./png";

async function decodeInput(file: InputFile): Promise<DecodedImage> {
  try {
    return decodePng(await file.bytes());
  } catch (error) {
    if (!(error instanceof PngError)) throw error;
    const param = file.field.replace(/^input\./, "").replace(/^images\[\d+\]$/, "image");
    throw new AppError("INPUT_VALIDATION_ERROR", `The mock edits PNG images only: ${file.field} is unreadable (${error.message}).`, [{ field: `input.${param}`, code: "unsupported", message: error.message }]);
  }
}

function resized(image: DecodedImage, width: number, height: number): DecodedImage {
  if (width === image.width && height === image.height) return image;
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const from = (Math.floor((y * image.height) / height) * image.width + Math.floor((x * image.width) / width)) * 4;
      rgba.set(image.rgba.subarray(from, from + 4), (y * width + x) * 4);
    }
  return { width, height, rgba };
}

function result(call: TaskCall, images: DecodedImage[], prompt: string): ProviderResult {
  const width = Number(call.input.width ?? images[0]!.width);
  const height = Number(call.input.height ?? images[0]!.height);
  const artifacts: Artifact[] = images.map((image, i) => {
    const out = resized(image, width, height);
    return { bytes: encodePng(out.width, out.height, 4, out.rgba), contentType: "image/png", filename: `image-${i + 1}.png`, meta: { format: "png", width, height } };
  });
  return {
    output: { images: artifacts.map((_, i) => ({ $artifact: i })) },
    usage: { inputTokens: countTokens(prompt), outputTokens: 0, images: artifacts.length },
    artifacts,
  };
}

export const imageEdit: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const prompt = String(call.input.prompt ?? "");
  const imageFile = call.files.find((f) => f.field.startsWith("input.images"))!;
  const maskFile = call.files.find((f) => f.field === "input.mask");
  const source = await decodeInput(imageFile);
  const mask = maskFile ? await decodeInput(maskFile) : null;
  if (mask && (mask.width !== source.width || mask.height !== source.height))
    throw new AppError("INPUT_VALIDATION_ERROR", `The mask is ${mask.width}x${mask.height} but the image is ${source.width}x${source.height}; they must be the same size.`, [
      { field: "input.mask", code: "invalid_format", message: "The mask must be the size of the image." },
    ]);
  const count = Number(call.input.num_images ?? 1);
  const edits = Array.from({ length: count }, (_, i) => {
    const seed = seedOf(prompt, i);
    const tint = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff];
    const rgba = source.rgba.slice();
    for (let p = 0; p < rgba.length; p += 4) {
      if (mask && mask.rgba[p + 3] !== 0) continue; // opaque in the mask: kept
      for (let c = 0; c < 3; c++) rgba[p + c] = (255 - source.rgba[p + c]! + tint[c]!) >> 1;
      rgba[p + 3] = 255;
    }
    return { width: source.width, height: source.height, rgba };
  });
  return result(call, edits, prompt);
};

export const imageVariation: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const file = call.files[0]!;
  const source = await decodeInput(file);
  const checksum = Number(Bun.hash.crc32(source.rgba));
  const count = Number(call.input.num_images ?? 1);
  const variations = Array.from({ length: count }, (_, i) => {
    const rotation = (i % 3) + 1;
    const shift = seedOf(String(checksum), i) & 0x7f;
    const rgba = source.rgba.slice();
    for (let p = 0; p < rgba.length; p += 4)
      for (let c = 0; c < 3; c++) rgba[p + c] = (source.rgba[p + ((c + rotation) % 3)]! + shift) & 0xff;
    return { width: source.width, height: source.height, rgba };
  });
  return result(call, variations, "");
};
