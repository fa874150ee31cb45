/** Builds the configured FileStore (docs/architecture.md "Files"): local disk by default, or S3. */
import { join } from "node:path";
import type { Config } from "../config";
import type { Logger } from "../log";
import { LocalFileStore } from "./local";
import type { FileStore } from "./types";

export type StoreDeps = {
  /** HMAC key for local links, fetched on first use. */
  signingKey: () => Buffer;
  /** Where the server answers local links for a key (absolute URL, no query). */
  linkUrl: (key: string) => string;
  now: () => number;
  log: Logger;
};

export function createFileStore(config: Config, deps: StoreDeps): FileStore {
  if (config.storage === "s3") {
    // Loaded only when chosen: the AWS SDK adds ~10 ms to every start (scripts/bench/startup.ts).
    const { S3FileStore } = require("./s3") as typeof import("./s3");
    return new S3FileStore({
      endpoint: config.s3Endpoint,
      region: config.s3Region,
      bucket: config.s3Bucket ?? "", // loadConfig refuses s3 without a bucket
      forcePathStyle: config.s3ForcePathStyle,
      credentials:
        config.s3AccessKeyId && config.s3SecretAccessKey
          ? { accessKeyId: config.s3AccessKeyId, secretAccessKey: config.s3SecretAccessKey }
          : null,
      now: deps.now,
      log: deps.log,
    });
  }
  return new LocalFileStore({ root: join(config.dataDir, "files"), signingKey: deps.signingKey, linkUrl: deps.linkUrl });
}

export { contentDisposition } from "./disposition";
export { LocalFileStore } from "./local";
export * from "./types";
