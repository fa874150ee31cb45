/**
 * The FileStore of a running app, built on first use from the config (no singleton: two servers
 * in one process each get their own), and the key that signs local links, generated once and
 * kept in the settings table so links survive restarts and work across processes.
 */
import { randomBytes } from "node:crypto";
import { publicUrl, type AppContext } from "../../context";
import { AppError } from "../../errors";
import { createFileStore, type FileStore, type LocalFileStore } from "../../storage";
import { putSettingIfAbsent } from "../settings/store";
import type { FileRow } from "./store";

export const LINK_SIGNING_KEY_SETTING = "files_link_signing_key";

const stores = new WeakMap<AppContext, FileStore>();
const signingKeys = new WeakMap<AppContext, Buffer>();

function linkSigningKey(ctx: AppContext): Buffer {
  let key = signingKeys.get(ctx);
  if (!key) {
    const stored = putSettingIfAbsent(ctx.db, LINK_SIGNING_KEY_SETTING, randomBytes(32).toString("hex"));
    signingKeys.set(ctx, (key = Buffer.from(stored, "hex")));
  }
  return key;
}

/** The path the binary serves local links on; the link's key is the file id. */
export const contentPath = (fileId: string) => `/v1/files/${fileId}/content`;

export function fileStore(ctx: AppContext): FileStore {
  let store = stores.get(ctx);
  if (!store) {
    store = createFileStore(ctx.config, {
      signingKey: () => linkSigningKey(ctx),
      linkUrl: (key) => publicUrl(ctx) + contentPath(key),
      now: () => ctx.clock.now(),
      log: ctx.log,
    });
    stores.set(ctx, store);
  }
  return store;
}

/** The local store, for verifying links the binary serves; links do not exist on S3 (404 there). */
export function localStore(ctx: AppContext): LocalFileStore {
  const store = fileStore(ctx);
  if (store.backend !== "local") throw new AppError("NOT_FOUND", "Files are stored on S3; use the link from GET /v1/files/{id}/url.");
  return store as LocalFileStore;
}

/** The store holding this row's bytes, or null when the row belongs to a backend no longer configured. */
export function storeFor(ctx: AppContext, row: FileRow): FileStore | null {
  const store = fileStore(ctx);
  return store.backend === row.backend ? store : null;
}

export function closeFileStore(ctx: AppContext) {
  stores.get(ctx)?.close();
  stores.delete(ctx);
}
