/**
 * A provider's API keys, read at each use from where the catalog points: environment variables
 * (`api_keys_env` is a pool, `api_key_env` one key), a file (`api_key_file`, re-read at most once
 * a second, so a rotated key is picked up without a restart), or the stored inline `api_key`.
 * Only the references are in the database; a reference that resolves to nothing is an error
 * that names the reference, never a value.
 */
import { readFileSync } from "node:fs";
import type { ProviderKeyRefs } from "../db/schema";
import { ProviderError } from "./errors";

type ProviderKeySource = { id: string; apiKey: string | null; keyRefs: ProviderKeyRefs };

const FILE_TTL_MS = 1000;
const fileCache = new Map<string, { at: number; value: string }>();

function readKeyFile(path: string, now: number): string {
  const cached = fileCache.get(path);
  if (cached && now - cached.at < FILE_TTL_MS) return cached.value;
  let value: string;
  try {
    value = readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new ProviderError("auth", `api_key_file ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  fileCache.set(path, { at: now, value });
  return value;
}

/** The keys in pool order; empty when the provider is configured without any. */
export function providerKeys(provider: ProviderKeySource, env: Record<string, string | undefined> = process.env, now = Date.now()): string[] {
  const refs = provider.keyRefs;
  const keys: string[] = [];
  const missing: string[] = [];
  for (const name of [...(refs.apiKeysEnv ?? []), ...(refs.apiKeyEnv ? [refs.apiKeyEnv] : [])]) {
    const value = env[name]?.trim();
    if (value) keys.push(value);
    else missing.push(name);
  }
  if (refs.apiKeyFile) {
    const value = readKeyFile(refs.apiKeyFile, now);
    if (value) keys.push(value);
    else missing.push(refs.apiKeyFile);
  }
  if (provider.apiKey) keys.push(provider.apiKey);
  if (keys.length === 0 && missing.length > 0) throw new ProviderError("auth", `provider ${provider.id}: ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set or empty`);
  return keys;
}
