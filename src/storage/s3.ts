/**
 * S3 FileStore for any S3-compatible server (AWS, MinIO, Ceph, R2, Swift's s3api). Presigned PUT
 * URLs carry Content-Length and Content-Type among their signed headers, so a body of another
 * size or type is refused by the server itself; the files module confirms each upload with a
 * HeadObject. Checksums are "WHEN_REQUIRED": the SDK's default aws-chunked CRC trailers corrupt
 * objects on s3rver and get 501 from Swift (docs/decisions.md "Files").
 */
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { Logger } from "../log";
import { contentDisposition } from "./disposition";
import { BlobNotFoundError, SizeMismatchError, type ByteRange, type FileStore, type PutResult, type StoredBlob } from "./types";

export type S3StoreOptions = {
  endpoint: string | null;
  region: string;
  bucket: string;
  forcePathStyle: boolean;
  /** null: the SDK's default chain (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** The clock presigned URLs are dated by (the app's clock, so expiries agree with the API's). */
  now: () => number;
  /** Where the SDK's own warnings go (else it writes them to the console). */
  log: Logger;
};

export class S3FileStore implements FileStore {
  readonly backend = "s3" as const;
  readonly client: S3Client;
  private readonly bucket: string;

  constructor(private readonly opts: S3StoreOptions) {
    this.bucket = opts.bucket;
    this.client = new S3Client({
      endpoint: opts.endpoint ?? undefined,
      region: opts.region,
      forcePathStyle: opts.forcePathStyle,
      credentials: opts.credentials ?? undefined,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      logger: {
        trace: () => {},
        debug: () => {},
        info: () => {},
        warn: (...parts: unknown[]) => opts.log.warn("s3 client", { detail: parts.map(String).join(" ") }),
        error: (...parts: unknown[]) => opts.log.error("s3 client", { detail: parts.map(String).join(" ") }),
      },
    });
  }

  async put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts: { sizeBytes: number; contentType: string }): Promise<PutResult> {
    const hasher = new Bun.CryptoHasher("sha256");
    const abort = new AbortController();
    let mismatch: SizeMismatchError | null = null;
    let payload: Uint8Array | Readable;
    if (body instanceof Uint8Array) {
      if (body.byteLength !== opts.sizeBytes) throw new SizeMismatchError(opts.sizeBytes, body.byteLength);
      hasher.update(body);
      payload = body;
    } else {
      // Counted and hashed on the way, and the latest chunk held back until the next one arrives:
      // the server gets the last of its Content-Length bytes only when the total is right, so a
      // short or long body aborts before any server could complete the object.
      let received = 0;
      let held: Uint8Array | null = null;
      const counted = body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            received += chunk.byteLength;
            if (received > opts.sizeBytes) {
              mismatch = new SizeMismatchError(opts.sizeBytes, received);
              abort.abort(mismatch);
              return controller.terminate();
            }
            hasher.update(chunk);
            if (held) controller.enqueue(held);
            held = chunk;
          },
          flush(controller) {
            if (received === opts.sizeBytes) {
              if (held) controller.enqueue(held);
              return;
            }
            mismatch = new SizeMismatchError(opts.sizeBytes, received);
            abort.abort(mismatch);
          },
        }),
      );
      payload = Readable.fromWeb(counted as import("node:stream/web").ReadableStream<Uint8Array>);
    }
    try {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: payload, ContentLength: opts.sizeBytes, ContentType: opts.contentType }),
        { abortSignal: abort.signal },
      );
    } catch (e) {
      if (!mismatch) throw e;
      // Some S3-compatible servers keep what arrived before the connection dropped; leave nothing.
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch((error: unknown) => {
        this.opts.log.warn("s3: could not delete a partial upload", { key, error });
      });
      throw mismatch; // the SDK reports our abort as its own AbortError
    }
    return { sizeBytes: opts.sizeBytes, sha256: hasher.digest("hex") };
  }

  async presignUpload(key: string, opts: { sizeBytes: number; contentType: string; expiresAtMs: number }): Promise<string> {
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentLength: opts.sizeBytes, ContentType: opts.contentType });
    return getSignedUrl(this.client, command, {
      ...this.validity(opts.expiresAtMs),
      // Signed, not hoisted: the server checks the request's own headers against them.
      signableHeaders: new Set(["content-length", "content-type"]),
    });
  }

  async presignDownload(key: string, opts: { filename: string; contentType: string; expiresAtMs: number }): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentType: opts.contentType,
      ResponseContentDisposition: contentDisposition(opts.filename),
    });
    return getSignedUrl(this.client, command, this.validity(opts.expiresAtMs));
  }

  async read(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      if (!object.Body) throw new BlobNotFoundError(key);
      return object.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (e) {
      if (isNotFound(e)) throw new BlobNotFoundError(key);
      throw e;
    }
  }

  async head(key: string): Promise<StoredBlob | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { sizeBytes: head.ContentLength ?? 0, contentType: head.ContentType ?? null };
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (!isNotFound(e)) throw e; // some servers answer 404 where S3 answers 204
    }
  }

  close() {
    this.client.destroy();
  }

  private validity(expiresAtMs: number) {
    const now = this.opts.now();
    return { signingDate: new Date(now), expiresIn: Math.max(1, Math.round((expiresAtMs - now) / 1000)) };
  }
}

function isNotFound(e: unknown): boolean {
  if (e instanceof S3ServiceException) return e.$metadata.httpStatusCode === 404 || e.name === "NotFound" || e.name === "NoSuchKey";
  return false;
}
