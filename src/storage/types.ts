/**
 * The FileStore seam (docs/architecture.md "Files"): where file bytes live. The files module owns the
 * rows; a store only knows opaque keys and bytes. Two backends: local disk and S3.
 */

/** A byte range, both ends inclusive, as in HTTP `Range: bytes=start-end`. */
export type ByteRange = { start: number; end: number };

export type StoredBlob = { sizeBytes: number; contentType: string | null };

export type PutResult = { sizeBytes: number; sha256: string };

/** What a presigned link is for; a local link signed for one cannot be used for the other. */
export type LinkMethod = "PUT" | "GET";

export interface FileStore {
  readonly backend: "local" | "s3";

  /**
   * Writes a whole body that must be exactly `sizeBytes` long and returns its SHA-256. Bytes are
   * hashed as they pass and never held whole in memory. Throws SizeMismatchError (and keeps
   * nothing) when the body is shorter or longer.
   */
  put(key: string, body: ReadableStream<Uint8Array> | Uint8Array, opts: { sizeBytes: number; contentType: string }): Promise<PutResult>;

  /** A URL the client PUTs the bytes to, valid until `expiresAtMs`; size and type are bound to it. */
  presignUpload(key: string, opts: { sizeBytes: number; contentType: string; expiresAtMs: number }): Promise<string>;

  /** A URL anyone holding it may GET the bytes from until `expiresAtMs`. */
  presignDownload(key: string, opts: { filename: string; contentType: string; expiresAtMs: number }): Promise<string>;

  /** Streams the bytes (or the range of them); throws BlobNotFoundError when there is no blob. */
  read(key: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>>;

  /** Size and type of the stored blob, or null when there is none. */
  head(key: string): Promise<StoredBlob | null>;

  /** Removes the blob; removing a missing blob is not an error. */
  delete(key: string): Promise<void>;

  /** Releases sockets and handles (server shutdown). */
  close(): void;
}

export class SizeMismatchError extends Error {
  constructor(
    readonly expectedBytes: number,
    /** Bytes received before giving up: more than expected means the body was too long. */
    readonly receivedBytes: number,
  ) {
    super(
      receivedBytes > expectedBytes
        ? `The body is longer than the ${expectedBytes} bytes declared.`
        : `The body has ${receivedBytes} bytes; ${expectedBytes} were declared.`,
    );
  }
  get tooLong() {
    return this.receivedBytes > this.expectedBytes;
  }
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`No stored bytes for ${key}.`);
  }
}
