/**
 * The docs UI bundles, served gzip-compressed. `npm run build` embeds them already compressed
 * (scripts/build.ts: ~5.5 MB of JavaScript and CSS becomes ~1.5 MB of the binary); run from
 * source they are the plain files in node_modules, compressed here on first use. Either way a
 * client that accepts gzip gets the compressed bytes with `Content-Encoding: gzip`, and any other
 * client the plain bytes, decompressed once and kept.
 */

const GZIP_MAGIC = [0x1f, 0x8b];
const isGzip = (bytes: Uint8Array) => bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];

/** Whether an Accept-Encoding header allows gzip: `gzip` or `*` listed without `q=0`. */
export function acceptsGzip(header: string | null): boolean {
  if (!header) return false;
  let gzip: boolean | null = null;
  let any: boolean | null = null;
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (name.trim() === "gzip" || name.trim() === "x-gzip") gzip = allowed;
    else if (name.trim() === "*") any = allowed;
  }
  return gzip ?? any ?? false;
}

/** A route handler serving the file at `path` (an embedded file in the binary, or a path on disk). */
export function compressedAsset(path: string, contentType: string) {
  let gzipped: Promise<Uint8Array<ArrayBuffer>> | null = null;
  let plain: Uint8Array<ArrayBuffer> | null = null;
  const load = async (): Promise<Uint8Array<ArrayBuffer>> => {
    const bytes = await Bun.file(path).bytes();
    return isGzip(bytes) ? bytes : Bun.gzipSync(bytes);
  };
  const headers = { "content-type": contentType, "cache-control": "public, max-age=86400", vary: "accept-encoding" };
  return async ({ request }: { request: Request }) => {
    const body = await (gzipped ??= load().catch((error) => {
      gzipped = null; // not cached: the next request tries again
      throw error;
    }));
    if (acceptsGzip(request.headers.get("accept-encoding"))) return new Response(body, { headers: { ...headers, "content-encoding": "gzip" } });
    plain ??= Bun.gunzipSync(body);
    return new Response(plain, { headers });
  };
}
