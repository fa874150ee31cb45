/**
 * A minimal PNG codec for the mock image models: an encoder (8-bit RGB or RGBA, no interlace)
 * for deterministic pixels compressed with zlib, real PNG files any viewer opens; and a decoder
 * of the 8-bit, non-interlaced PNGs clients send (grey, RGB, palette, with or without alpha;
 * every row filter) into RGBA pixels, for the mock edits.
 */
import { deflateSync, inflateSync } from "node:zlib";

const SIGNATURE = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** A PNG of width×height whose colours and pattern follow from `seed` (same seed, same bytes). */
export function renderPng(width: number, height: number, seed: number): Uint8Array {
  const rowBytes = width * 3 + 1;
  const raw = new Uint8Array(rowBytes * height);
  const r0 = seed & 0xff, g0 = (seed >>> 8) & 0xff, b0 = (seed >>> 16) & 0xff;
  const stripe = 8 + ((seed >>> 24) % 56);
  for (let y = 0; y < height; y++) {
    const row = y * rowBytes;
    raw[row] = 0; // filter: none
    const gy = Math.floor((y * 255) / Math.max(1, height - 1));
    for (let x = 0; x < width; x++) {
      const gx = Math.floor((x * 255) / Math.max(1, width - 1));
      const band = Math.floor((x + y) / stripe) & 1 ? 40 : 0;
      const p = row + 1 + x * 3;
      raw[p] = (r0 + gx + band) & 0xff;
      raw[p + 1] = (g0 + gy + band) & 0xff;
      raw[p + 2] = (b0 + ((gx + gy) >> 1)) & 0xff;
    }
  }
  return encodeRows(width, height, 3, raw);
}

/** A PNG of tightly packed 8-bit pixels, 3 (RGB) or 4 (RGBA) bytes each, row by row. */
export function encodePng(width: number, height: number, channels: 3 | 4, pixels: Uint8Array): Uint8Array {
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1); // filter byte 0: none
  return encodeRows(width, height, channels, raw);
}

/** Rows already prefixed with their filter byte, compressed into a PNG. */
function encodeRows(width: number, height: number, channels: 3 | 4, raw: Uint8Array): Uint8Array {
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 3 ? 2 : 6; // colour type: RGB or RGBA
  const parts = [SIGNATURE, chunk("IHDR", header), chunk("IDAT", deflateSync(raw, { level: 1 })), chunk("IEND", new Uint8Array(0))];
  const total = parts.reduce((n, p) => n + p.length, 0);
  const png = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    png.set(p, offset);
    offset += p.length;
  }
  return png;
}

export type DecodedImage = { width: number; height: number; /** RGBA, 4 bytes a pixel. */ rgba: Uint8Array };

/** Why a PNG cannot be read here; the message is the caller's to see. */
export class PngError extends Error {}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** The largest image decoded: 4096×4096, as the image tasks accept. */
const MAX_PIXELS = 4096 * 4096;

/** Undoes one row's filter in place (PNG spec §9: none, sub, up, average, Paeth). */
function unfilter(type: number, row: Uint8Array, previous: Uint8Array, bpp: number) {
  for (let i = 0; i < row.length; i++) {
    const left = i >= bpp ? row[i - bpp]! : 0;
    const up = previous[i]!;
    const upLeft = i >= bpp ? previous[i - bpp]! : 0;
    if (type === 1) row[i] = (row[i]! + left) & 0xff;
    else if (type === 2) row[i] = (row[i]! + up) & 0xff;
    else if (type === 3) row[i] = (row[i]! + ((left + up) >> 1)) & 0xff;
    else if (type === 4) {
      const p = left + up - upLeft;
      const pa = Math.abs(p - left), pb = Math.abs(p - up), pc = Math.abs(p - upLeft);
      row[i] = (row[i]! + (pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft)) & 0xff;
    } else if (type !== 0) throw new PngError(`unknown row filter ${type}`);
  }
}

/** Decodes an 8-bit, non-interlaced PNG into RGBA; throws PngError for anything else. */
export function decodePng(bytes: Uint8Array): DecodedImage {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) throw new PngError("not a PNG file");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, colourType = -1;
  let palette: Uint8Array = new Uint8Array(0);
  let transparency: Uint8Array = new Uint8Array(0);
  const data: Uint8Array[] = [];
  for (let offset = 8; offset + 12 <= bytes.length; ) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length < length) throw new PngError("the file is cut short");
    if (type === "IHDR") {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const depth = body[8]!;
      colourType = body[9]!;
      if (depth !== 8 || !(colourType in CHANNELS)) throw new PngError(`bit depth ${depth}, colour type ${colourType}: only 8-bit PNGs are read`);
      if (body[12] !== 0) throw new PngError("interlaced PNGs are not read");
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new PngError(`${width}x${height} is outside 1x1 to 4096x4096`);
    } else if (type === "PLTE") palette = body;
    else if (type === "tRNS") transparency = body;
    else if (type === "IDAT") data.push(body);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  if (colourType < 0 || data.length === 0) throw new PngError("the file has no image data");
  const channels = CHANNELS[colourType]!;
  const stride = width * channels;
  let raw: Uint8Array;
  try {
    raw = inflateSync(Buffer.concat(data), { maxOutputLength: (stride + 1) * height });
  } catch {
    throw new PngError("the image data does not decompress");
  }
  if (raw.length < (stride + 1) * height) throw new PngError("the image data is shorter than its size says");
  const rgba = new Uint8Array(width * height * 4);
  let previous: Uint8Array = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    unfilter(raw[y * (stride + 1)]!, row, previous, channels);
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4, p = x * channels;
      if (colourType === 3) {
        const index = row[p]!;
        rgba.set(palette.subarray(index * 3, index * 3 + 3), o);
        rgba[o + 3] = index < transparency.length ? transparency[index]! : 255;
      } else if (channels <= 2) {
        rgba.fill(row[p]!, o, o + 3);
        rgba[o + 3] = channels === 2 ? row[p + 1]! : 255;
      } else {
        rgba.set(row.subarray(p, p + 3), o);
        rgba[o + 3] = channels === 4 ? row[p + 3]! : 255;
      }
    }
    previous = row;
  }
  return { width, height, rgba };
}
