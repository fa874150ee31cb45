/**
 * Media types from a file's first bytes (its "magic"), so a model is never handed a file whose
 * declared type lies (docs/decisions.md "Files": FILE_FORMAT_UNSUPPORTED is decided by the real bytes).
 */

/** How many leading bytes `sniffMediaType` needs. */
export const SNIFF_BYTES = 64;

const ascii = (bytes: Uint8Array, offset: number, text: string) =>
  bytes.length >= offset + text.length && [...text].every((c, i) => bytes[offset + i] === c.charCodeAt(0));

const startsWith = (bytes: Uint8Array, signature: number[]) => bytes.length >= signature.length && signature.every((b, i) => bytes[i] === b);

/** The media type the bytes really are, or null when they match no format we recognise. */
export function sniffMediaType(bytes: Uint8Array): string | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "image/gif";
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) return "image/webp";
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WAVE")) return "audio/wav";
  if (ascii(bytes, 0, "%PDF-")) return "application/pdf";
  if (ascii(bytes, 0, "OggS")) return "audio/ogg";
  if (ascii(bytes, 0, "fLaC")) return "audio/flac";
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return "video/webm";
  if (ascii(bytes, 4, "ftyp")) return ascii(bytes, 8, "M4A ") || ascii(bytes, 8, "M4B ") ? "audio/mp4" : "video/mp4";
  // MP3: an ID3v2 tag, or an MPEG audio frame sync (11 set bits) with a valid layer.
  if (ascii(bytes, 0, "ID3")) return "audio/mpeg";
  if (bytes.length >= 2 && bytes[0] === 0xff && (bytes[1]! & 0xe0) === 0xe0 && (bytes[1]! & 0x06) !== 0) return "audio/mpeg";
  return null;
}

/** Aliases clients send for the same format. */
const CANONICAL: Record<string, string> = {
  "image/jpg": "image/jpeg",
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "audio/mp3": "audio/mpeg",
  "audio/x-flac": "audio/flac",
  "audio/x-m4a": "audio/mp4",
  "audio/m4a": "audio/mp4",
};

/** Lowercase, without parameters, aliases folded: `Image/JPG; q=1` → `image/jpeg`. */
export function canonicalMediaType(contentType: string): string {
  const bare = contentType.split(";")[0]!.trim().toLowerCase();
  return CANONICAL[bare] ?? bare;
}

/** True when the sniffer can recognise this type, so bytes that fail to match it are a lie. */
export const isSniffable = (mediaType: string) =>
  ["image/png", "image/jpeg", "image/gif", "image/webp", "audio/wav", "application/pdf", "audio/ogg", "audio/flac", "video/webm", "audio/mp4", "video/mp4", "audio/mpeg"].includes(
    canonicalMediaType(mediaType),
  );

/** `x-accept` entries: exact types or `type/*` wildcards. */
export function accepts(accepted: readonly string[], mediaType: string): boolean {
  const type = canonicalMediaType(mediaType);
  return accepted.some((entry) => {
    const want = canonicalMediaType(entry);
    return want === "*/*" || want === type || (want.endsWith("/*") && type.startsWith(want.slice(0, -1)));
  });
}
