/**
 * API key and operator token formats:
 * `sk_` + 64 lowercase hex + `_` + CRC-32 of those 64 characters (8 lowercase hex) = 76 chars.
 * The checksum lets a typo or a foreign token be refused before any lookup.
 */
import { randomBytes } from "node:crypto";

const KEY_SHAPE = /^sk_([0-9a-f]{64})_([0-9a-f]{8})$/;
const ADMIN_SHAPE = /^mrt_[0-9a-f]{64}$/;

const crc32Hex = (text: string) => Bun.hash.crc32(text).toString(16).padStart(8, "0");

export function generateApiKey(): string {
  const body = randomBytes(32).toString("hex");
  return `sk_${body}_${crc32Hex(body)}`;
}

/**
 * Why `key` cannot be an API key (a wrong shape, a wrong checksum, the operator token), or null
 * when its shape and checksum are right; says nothing about whether it exists.
 */
export function apiKeyProblem(key: string): string | null {
  const match = KEY_SHAPE.exec(key);
  if (match) return crc32Hex(match[1]!) === match[2] ? null : "The API key's checksum is wrong: the key was mistyped or cut; copy it again.";
  if (ADMIN_SHAPE.test(key)) return "This is the operator token, which is for /admin/v1; send an API key (sk_…) here.";
  return "The API key is malformed: expected sk_<64 hex>_<8 hex checksum>.";
}

export const generateAdminToken = () => `mrt_${randomBytes(32).toString("hex")}`;
export const isWellFormedAdminToken = (token: string) => ADMIN_SHAPE.test(token);

export const hashSecret = (secret: string) => new Bun.CryptoHasher("sha256").update(secret).digest("hex");

/** `sk_0123…cdef`: enough to recognise a key in a list, useless to an attacker. */
export const maskApiKey = (key: string) => `${key.slice(0, 7)}…${key.slice(63, 67)}`;
