/**
 * A minimal PNG encoder (8-bit RGB, no interlace) for the mock image model: deterministic
 * pixels from a seed, compressed with zlib. Real PNG files any viewer opens.
 */
import { deflateSync } from "node:zlib";

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
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
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
