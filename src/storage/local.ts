/**
 * Local-disk FileStore: blobs under <data-dir>/files, written to a temp file while hashed and
 * counted, then renamed into place, so a short, long or aborted body leaves nothing behind.
 * Presigned links are HMAC-SHA256-signed, expiring URLs served by the binary itself.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BlobNotFoundError, SizeMismatchError, type ByteRange, type FileStore, type LinkMethod, type PutResult, type StoredBlob } from "./types";

export type LocalStoreOptions = {
  /** Directory holding the blobs (created on demand). */
  root: string;
  /** The HMAC key for links; called on first use (the files module keeps it in the database). */
  signingKey: () => Buffer;
  /** The absolute URL, without query, at which the server answers links for `key`. */
  linkUrl: (key: string) => string;
};

export type LinkVerdict = "valid" | "invalid" | "expired";

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,200}$/;

export class LocalFileStore implements FileStore {
  readonly backend = "local" as const;
  constructor(private readonly opts: LocalStoreOptions) {}

  private pathOf(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
    return join(this.opts.root, key.slice(-2), key); // 256 subdirectories keep directories small
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts: { sizeBytes: number; contentType: string }): Promise<PutResult> {
    const finalPath = this.pathOf(key);
    const tempPath = join(this.opts.root, ".incoming", `${key}.${randomUUID()}.part`);
    await mkdir(dirname(tempPath), { recursive: true });
    await mkdir(dirname(finalPath), { recursive: true });
    const handle = await open(tempPath, "wx", 0o600);
    const hasher = new Bun.CryptoHasher("sha256");
    let received = 0;
    let closed = false;
    let kept = false;
    try {
      for await (const chunk of chunksOf(body)) {
        received += chunk.byteLength;
        if (received > opts.sizeBytes) throw new SizeMismatchError(opts.sizeBytes, received); // stop reading at once
        hasher.update(chunk);
        for (let offset = 0; offset < chunk.byteLength; ) offset += (await handle.write(chunk, offset)).bytesWritten;
      }
      if (received !== opts.sizeBytes) throw new SizeMismatchError(opts.sizeBytes, received);
      await handle.datasync(); // "uploaded" in the database must mean the bytes are on disk
      closed = true;
      await handle.close();
      await rename(tempPath, finalPath);
      kept = true;
      return { sizeBytes: received, sha256: hasher.digest("hex") };
    } finally {
      if (!closed) await handle.close();
      if (!kept) await rm(tempPath, { force: true });
    }
  }

  async presignUpload(key: string, opts: { expiresAtMs: number }): Promise<string> {
    return this.signedLink("PUT", key, opts.expiresAtMs);
  }

  async presignDownload(key: string, opts: { expiresAtMs: number }): Promise<string> {
    return this.signedLink("GET", key, opts.expiresAtMs);
  }

  /** Checks a link's `expires` and `signature` query values; a forged expiry is "invalid", not "expired". */
  verifyLink(method: LinkMethod, key: string, query: { expires?: string; signature?: string }, nowMs: number): LinkVerdict {
    const { expires, signature } = query;
    if (!expires || !signature || !/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return "invalid";
    const expected = Buffer.from(this.signature(method, key, Number(expires)), "hex");
    if (!timingSafeEqual(expected, Buffer.from(signature, "hex"))) return "invalid";
    return Number(expires) * 1000 <= nowMs ? "expired" : "valid";
  }

  async read(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const path = this.pathOf(key);
    if (!(await this.head(key))) throw new BlobNotFoundError(key);
    const file = Bun.file(path);
    return (range ? file.slice(range.start, range.end + 1) : file).stream();
  }

  async head(key: string): Promise<StoredBlob | null> {
    try {
      const info = await stat(this.pathOf(key));
      return { sizeBytes: info.size, contentType: null };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  close() {}

  private signedLink(method: LinkMethod, key: string, expiresAtMs: number): string {
    const expires = Math.floor(expiresAtMs / 1000);
    return `${this.opts.linkUrl(key)}?expires=${expires}&signature=${this.signature(method, key, expires)}`;
  }

  private signature(method: LinkMethod, key: string, expiresS: number): string {
    return createHmac("sha256", this.opts.signingKey()).update(`${method}\n${key}\n${expiresS}`).digest("hex");
  }
}

async function* chunksOf(body: ReadableStream<Uint8Array> | Uint8Array): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) yield body;
  else yield* body as unknown as AsyncIterable<Uint8Array>;
}
