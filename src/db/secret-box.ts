/**
 * Secrets the catalog stores inline (a provider's `api_key`) are sealed at rest with AES-256-GCM
 * under `<data-dir>/secret.key`: 32 random bytes, created 0600 on first use, never in the
 * database. A copy of the database alone (a backup, a stolen file) does not give the keys away;
 * back the key file up beside it (docs/operations.md "Backups"). A value stored before sealing
 * existed is read as it is.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PREFIX = "sealed:v1:";
const KEY_FILE = "secret.key";

const dataDirs = new WeakMap<object, string>();
const keys = new Map<string, Buffer>();

/** Called when a database is opened: its sealed values use this data directory's key. */
export function registerDataDir(db: object, dataDir: string) {
  dataDirs.set(db, dataDir);
}

export const secretKeyPath = (dataDir: string) => join(dataDir, KEY_FILE);

function keyFor(db: object, create: boolean): Buffer {
  const dataDir = dataDirs.get(db);
  if (!dataDir) throw new Error("no data directory is registered for this database");
  const cached = keys.get(dataDir);
  if (cached) return cached;
  const path = secretKeyPath(dataDir);
  if (!existsSync(path)) {
    if (!create) throw new Error(`${path} is missing: the stored provider keys cannot be read (restore it from the backup of this data directory)`);
    writeFileSync(path, randomBytes(32).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  }
  const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
  if (key.length !== 32) throw new Error(`${path} does not hold a 32-byte key`);
  keys.set(dataDir, key);
  return key;
}

export function seal(db: object, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(db, true), iv);
  const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}${iv.toString("base64")}:${body.toString("base64")}`;
}

export function unseal(db: object, stored: string): string {
  if (!stored.startsWith(PREFIX)) return stored;
  const [iv, body] = stored.slice(PREFIX.length).split(":");
  const bytes = Buffer.from(body ?? "", "base64");
  const decipher = createDecipheriv("aes-256-gcm", keyFor(db, false), Buffer.from(iv ?? "", "base64"));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
}

export const isSealed = (stored: string) => stored.startsWith(PREFIX);
