/**
 * RIFF WAV (PCM) files: written by the mock speech model, read for durations by the mock
 * transcriber and by adapters whose upstream reports none. A `LIST`/`INFO` chunk may carry a
 * comment (`ICMT`), the standard place for a note about a recording.
 */

export type WavInfo = {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  /** Bytes of sample data (the `data` chunk). */
  dataBytes: number;
  durationSeconds: number;
  /** The `LIST`/`INFO` `ICMT` text, when there is one. */
  comment: string | null;
};

const ascii = (text: string) => new Uint8Array([...text].map((c) => c.charCodeAt(0)));

/** A RIFF chunk: id, little-endian size, the bytes, a pad byte when the size is odd. */
function chunk(id: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  out.set(ascii(id), 0);
  new DataView(out.buffer).setUint32(4, body.length, true);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** 16-bit little-endian PCM samples as the bytes of a WAV `data` chunk (also raw `pcm`). */
export function pcmBytes(samples: Int16Array): Uint8Array {
  const bytes = new Uint8Array(samples.length * 2);
  const view = new DataView(bytes.buffer);
  samples.forEach((s, i) => view.setInt16(i * 2, s, true));
  return bytes;
}

/** A mono 16-bit PCM WAV file, with `comment` as its `ICMT` note when given. */
export function encodeWav(samples: Int16Array, sampleRate: number, comment?: string): Uint8Array {
  const format = new Uint8Array(16);
  const fv = new DataView(format.buffer);
  fv.setUint16(0, 1, true); // PCM
  fv.setUint16(2, 1, true); // mono
  fv.setUint32(4, sampleRate, true);
  fv.setUint32(8, sampleRate * 2, true); // byte rate
  fv.setUint16(12, 2, true); // block align
  fv.setUint16(14, 16, true); // bits per sample
  const chunks = [chunk("fmt ", format)];
  if (comment !== undefined) {
    const text = new TextEncoder().encode(`${comment}\u0000`);
    chunks.push(chunk("LIST", concat([ascii("INFO"), chunk("ICMT", text)])));
  }
  chunks.push(chunk("data", pcmBytes(samples)));
  return chunk("RIFF", concat([ascii("WAVE"), ...chunks]));
}

const idAt = (bytes: Uint8Array, offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));

/** The format, length and comment of a PCM WAV file; null when the bytes are not one. */
export function parseWav(bytes: Uint8Array): WavInfo | null {
  if (bytes.length < 12 || idAt(bytes, 0) !== "RIFF" || idAt(bytes, 8) !== "WAVE") return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: { channels: number; sampleRate: number; byteRate: number; bitsPerSample: number } | null = null;
  let dataBytes: number | null = null;
  let comment: string | null = null;
  for (let offset = 12; offset + 8 <= bytes.length; ) {
    const id = idAt(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === "fmt " && size >= 16 && body + 16 <= bytes.length)
      format = { channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true), byteRate: view.getUint32(body + 8, true), bitsPerSample: view.getUint16(body + 14, true) };
    else if (id === "data") dataBytes = Math.min(size, bytes.length - body); // a cut file: what is there
    else if (id === "LIST" && idAt(bytes, body) === "INFO") comment = infoComment(bytes, body + 4, Math.min(body + size, bytes.length)) ?? comment;
    offset = body + size + (size & 1);
  }
  if (!format || dataBytes === null || format.byteRate === 0) return null;
  return { ...format, dataBytes, durationSeconds: dataBytes / format.byteRate, comment };
}

function infoComment(bytes: Uint8Array, start: number, end: number): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = start; offset + 8 <= end; ) {
    const size = view.getUint32(offset + 4, true);
    if (idAt(bytes, offset) === "ICMT") return new TextDecoder().decode(bytes.subarray(offset + 8, Math.min(offset + 8 + size, end))).replace(/\u0000+$/, "");
    offset += 8 + size + (size & 1);
  }
  return null;
}
