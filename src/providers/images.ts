/** What an image an upstream returned really is, from its bytes, for storing it as a file. */
import { sniffMediaType } from "../modules/files/sniff";

const EXTENSIONS: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp" };

export function sniffImage(bytes: Uint8Array): { contentType: string; extension: string } {
  const type = sniffMediaType(bytes);
  if (type && EXTENSIONS[type]) return { contentType: type, extension: EXTENSIONS[type]! };
  return { contentType: "application/octet-stream", extension: "bin" };
}
