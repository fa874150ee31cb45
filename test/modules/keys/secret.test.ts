import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import * as schema from "../../../src/db/schema";
import { createKeyCache, verifyApiKey } from "../../../src/modules/keys/service";
import { generateApiKey, generateAdminToken, isWellFormedAdminToken, apiKeyProblem, maskApiKey } from "../../../src/modules/keys/secret";

const VECTOR = "sk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef_a77cac63";

const isWellFormedApiKey = (key: string) => apiKeyProblem(key) === null;

test("the documented test vector is well-formed and 76 characters long", () => {
  expect(VECTOR).toHaveLength(76);
  expect(isWellFormedApiKey(VECTOR)).toBe(true);
});

test("a right shape with a wrong checksum is told so; the operator token is told to go to /admin/v1", () => {
  expect(apiKeyProblem(VECTOR.replace("_a77cac63", "_a77cac64"))).toContain("checksum is wrong");
  expect(apiKeyProblem(VECTOR.replace("sk_0", "sk_1"))).toContain("checksum is wrong");
  expect(apiKeyProblem(generateAdminToken())).toContain("operator token");
  expect(apiKeyProblem(VECTOR.slice(0, -1))).toContain("malformed");
});

test("uppercase, a wrong checksum and a wrong length are malformed", () => {
  expect(isWellFormedApiKey(VECTOR.toUpperCase())).toBe(false);
  expect(isWellFormedApiKey(VECTOR.replace("0123456789abcdef_", "0123456789ABCDEF_"))).toBe(false);
  expect(isWellFormedApiKey(VECTOR.replace("_a77cac63", "_A77CAC63"))).toBe(false);
  expect(isWellFormedApiKey(VECTOR.replace("_a77cac63", "_a77cac64"))).toBe(false);
  expect(isWellFormedApiKey(VECTOR.replace("sk_0", "sk_1"))).toBe(false); // body changed, checksum not
  expect(isWellFormedApiKey(VECTOR.slice(0, -1))).toBe(false);
  expect(isWellFormedApiKey(VECTOR + "0")).toBe(false);
  expect(isWellFormedApiKey(VECTOR.replace("sk_", "pk_"))).toBe(false);
  expect(isWellFormedApiKey(` ${VECTOR}`)).toBe(false);
  expect(isWellFormedApiKey("")).toBe(false);
});

test("generated keys are well-formed, distinct and masked as sk_0123…cdef", () => {
  const a = generateApiKey();
  const b = generateApiKey();
  expect(a).toMatch(/^sk_[0-9a-f]{64}_[0-9a-f]{8}$/);
  expect(isWellFormedApiKey(a)).toBe(true);
  expect(a).not.toBe(b);
  expect(maskApiKey(VECTOR)).toBe("sk_0123…cdef");
});

test("operator tokens are mrt_ + 64 lowercase hex", () => {
  const token = generateAdminToken();
  expect(isWellFormedAdminToken(token)).toBe(true);
  expect(isWellFormedAdminToken(token.toUpperCase())).toBe(false);
  expect(isWellFormedAdminToken(token.slice(0, -1))).toBe(false);
  expect(isWellFormedAdminToken(VECTOR)).toBe(false);
});

test("a malformed key is refused before any database lookup", () => {
  // A closed database throws on any query: a refusal that touches it would throw instead of returning.
  const sqlite = new Database(":memory:");
  const db = drizzle({ client: sqlite, schema });
  sqlite.close();
  const deps = { db, keyCache: createKeyCache(), now: () => Date.now() };
  const refusals: [string, string][] = [
    [VECTOR.toUpperCase(), "malformed"],
    ["sk_short", "malformed"],
    [VECTOR.replace("_a77cac63", "_00000000"), "checksum is wrong"],
    ["mrt_" + "0".repeat(64), "operator token"],
  ];
  for (const [key, says] of refusals) expect(verifyApiKey(deps, key)).toEqual({ valid: false, message: expect.stringContaining(says) });
  expect(() => verifyApiKey(deps, VECTOR)).toThrow(); // a well-formed key does reach the database
  expect(deps.keyCache.entries.size).toBe(0);
});
