/**
 * `modelroute providers test`: one small request per provider of the catalog that proves the
 * gateway can reach it and that it takes the gateway's key, with the key read exactly as the
 * router reads it (src/providers/keys.ts). Nothing is written; no key is ever printed.
 */
import { existsSync } from "node:fs";
import { databasePath, type Db } from "../db/client";
import * as Catalog from "../modules/catalog/service";
import type { ProviderRow } from "../modules/catalog/store";
import { joinUrl } from "../providers/http";
import { readOnlyCatalog } from "./catalog";
import { configFrom, DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, table, UsageError, type Command, type Values } from "./shared";

const USAGE = `modelroute providers test [--provider ID] [--timeout-ms N] [flags]

Calls each provider of the catalog (or only --provider) once, with the smallest request that
proves the gateway reaches it and that it takes the gateway's key, and prints one row each:
  PROVIDER  KIND  RESULT  LATENCY  DETAIL
RESULT is reachable, auth failed, not found, unreachable, timeout, error or skipped.

  openai     GET {base_url}/models         Authorization: Bearer <key>
  anthropic  GET {base_url}/v1/models      x-api-key: <key>, anthropic-version: 2023-06-01
  gemini     GET {base_url}/models         x-goog-api-key: <key>
  cog        GET {base_url}/health-check
  replicate  GET {base_url}/account        Authorization: Bearer <key>
  mock       built in: reachable without a call

Keys are read from the provider's references as the router reads them (api_keys_env, api_key_env,
api_key_file, then the stored api_key) in this command's environment, so run it with the
server's. A reference that resolves to nothing is "auth failed", naming the variable or file.
Of a pool of keys the first is tried. Keys are never printed; nothing is written. The providers
are called at the same time, so the whole run takes at most about --timeout-ms.

Exit code: 0 when every provider tested is reachable, 1 when one is not, 2 for a usage error.

Examples:
  modelroute providers test
  modelroute providers test --provider openai --timeout-ms 2000
  env $(cat /etc/modelroute/keys.env) modelroute providers test --data-dir /var/lib/modelroute

Flags:
  --provider ID      Test only this provider (an id of the catalog).
  --timeout-ms N     The longest wait for each provider's answer, in ms (default 5000).
${DATA_FLAGS_HELP}`;

const DEFAULT_TIMEOUT_MS = 5000;
const MAX_TIMEOUT_MS = 600_000;
const ANTHROPIC_VERSION = "2023-06-01";
const MESSAGE_LIMIT = 160;
/** The kinds callFor() knows a request for (mock needs none). */
const CHECKED_KINDS = new Set(["openai", "anthropic", "gemini", "cog", "replicate"]);

export type ProbeResult = "reachable" | "auth failed" | "not found" | "unreachable" | "timeout" | "error" | "skipped";
type Probe = { result: ProbeResult; latencyMs: number | null; detail: string };
type Call = { url: string; headers: Record<string, string> };
/** A provider and its keys as the router would get them (or why there are none). */
type Target = { provider: ProviderRow; keys: string[] } | { provider: ProviderRow; keyError: string };

/**
 * The provider's keys exactly as the router gets them (Catalog.keysOf), or why there are none.
 */
function targetOf(db: Db, row: ProviderRow): Target {
  try {
    return { provider: row, keys: Catalog.keysOf(db, row) };
  } catch (error) {
    // The PROVIDER column names the provider.
    return { provider: row, keyError: (error as Error).message.replace(/^provider [^:]+: /, "") };
  }
}

/** The request per adapter kind (one of CHECKED_KINDS). */
function callFor(p: ProviderRow, key: string | null): Call {
  const base = p.baseUrl!;
  const extra = (p.config.headers ?? {}) as Record<string, string>;
  const bearer: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
  switch (p.kind) {
    case "openai":
      return { url: joinUrl(base, "models"), headers: { ...extra, ...bearer } };
    case "anthropic":
      return {
        url: joinUrl(base, "v1/models"),
        headers: { "anthropic-version": String(p.config.anthropic_version ?? ANTHROPIC_VERSION), ...extra, ...(key ? { "x-api-key": key } : {}) },
      };
    case "gemini":
      return { url: joinUrl(base, "models"), headers: { ...extra, ...(key ? { "x-goog-api-key": key } : {}) } };
    case "cog":
      return { url: joinUrl(base, "health-check"), headers: {} }; // the cog adapter sends no key
    case "replicate":
      return { url: joinUrl(base, "account"), headers: bearer };
    default:
      throw new Error(`no check for kind ${p.kind}`);
  }
}

/** Where the key that is tried came from (names only), mirroring providerKeys' order. */
function keySource(p: ProviderRow, key: string | null): string {
  if (key === null) return "no key configured";
  const refs = p.keyRefs;
  for (const name of [...(refs.apiKeysEnv ?? []), ...(refs.apiKeyEnv ? [refs.apiKeyEnv] : [])]) if (process.env[name]?.trim() === key) return `key from env ${name}`;
  // Not from the environment: the file comes before the stored key in the pool.
  return refs.apiKeyFile ? `key from file ${refs.apiKeyFile}` : "stored api_key";
}

/** Environment references of the pool that resolve to nothing while another one does. */
function unsetNames(p: ProviderRow): string[] {
  const refs = p.keyRefs;
  return [...(refs.apiKeysEnv ?? []), ...(refs.apiKeyEnv ? [refs.apiKeyEnv] : [])].filter((name) => !process.env[name]?.trim());
}

/** A URL as it may be printed: no user info, no query (either may hold a secret). */
function shownUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = "";
    url.password = "";
    url.search = "";
    return url.toString();
  } catch {
    return "(invalid URL)";
  }
}

/** The upstream's own error message, when its body has one in a known shape. */
function messageOf(text: string): string {
  let message: unknown;
  try {
    const body = JSON.parse(text);
    message = body?.error?.message ?? body?.detail ?? body?.title ?? body?.message ?? (typeof body?.error === "string" ? body.error : undefined);
  } catch {
    message = undefined;
  }
  const line = (typeof message === "string" ? message : text).replace(/\s+/g, " ").trim();
  return line.length > MESSAGE_LIMIT ? `${line.slice(0, MESSAGE_LIMIT - 1)}…` : line;
}

/** What a 2xx answer says, briefly. */
function okDetail(kind: string, text: string): { result: ProbeResult; detail: string } {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return { result: "reachable", detail: "OK" };
  }
  if ((kind === "openai" || kind === "anthropic") && Array.isArray(body?.data)) return { result: "reachable", detail: `${body.data.length} model(s) listed` };
  if (kind === "gemini" && Array.isArray(body?.models)) return { result: "reachable", detail: `${body.models.length} model(s) listed` };
  if (kind === "replicate" && typeof body?.username === "string") return { result: "reachable", detail: `account ${body.username}` };
  if (kind === "cog" && typeof body?.status === "string") {
    const failed = body.status === "SETUP_FAILED" || body.status === "DEFUNCT";
    return { result: failed ? "error" : "reachable", detail: `status ${body.status}` };
  }
  return { result: "reachable", detail: "OK" };
}

/** A fetch that failed before any answer: refused, DNS, TLS, reset. */
function networkFailure(error: unknown, url: string): Probe {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? "";
  const { host, hostname } = new URL(url);
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return { result: "unreachable", latencyMs: null, detail: `connection refused by ${host}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /DNS|getaddrinfo/i.test(code + (e.message ?? "")))
    return { result: "unreachable", latencyMs: null, detail: `DNS lookup of ${hostname} failed (${code || "no address"})` };
  if (/CERT|TLS|SSL|SIGNATURE/i.test(code)) return { result: "error", latencyMs: null, detail: `TLS: ${code}` };
  return { result: "unreachable", latencyMs: null, detail: `${code ? `${code}: ` : ""}${(e.message ?? String(error)).split("\n")[0]}` };
}

async function probe(target: Target, timeoutMs: number): Promise<Probe> {
  const p = target.provider;
  if (p.kind === "mock") return { result: "reachable", latencyMs: null, detail: "built-in" };
  if (!CHECKED_KINDS.has(p.kind)) return { result: "skipped", latencyMs: null, detail: `no check for kind ${p.kind}` };
  if (!p.baseUrl) return { result: "error", latencyMs: null, detail: "no base_url" };
  if ("keyError" in target) return { result: "auth failed", latencyMs: null, detail: target.keyError };
  const keys = target.keys;
  const key = keys[0] ?? null;
  const call = callFor(p, key);
  const notes = [keySource(p, key), ...(unsetNames(p).length && key ? [`not set: ${unsetNames(p).join(", ")}`] : []), ...(keys.length > 1 ? [`first of ${keys.length} keys`] : [])];
  const withNotes = (detail: string, ...more: string[]) => `${detail} (${[...more, ...notes].join("; ")})`;
  const signal = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  let latencyMs: number | null = null;
  try {
    const response = await fetch(call.url, { method: "GET", headers: call.headers, signal, redirect: "manual" });
    latencyMs = Math.round(performance.now() - started);
    const text = await response.text().catch(() => "");
    const status = response.status;
    if (response.ok) {
      const ok = okDetail(p.kind, text);
      return { ...ok, latencyMs, detail: withNotes(ok.detail) };
    }
    const at = `GET ${shownUrl(call.url)}`;
    if (status >= 300 && status < 400)
      return { result: "error", latencyMs, detail: withNotes(`HTTP ${status}: redirected to ${shownUrl(response.headers.get("location") ?? "")}`, at, "set base_url to the final address") };
    const message = messageOf(text);
    const shown = `HTTP ${status}${message ? `: ${message}` : ""}`;
    if (status === 401 || status === 403) return { result: "auth failed", latencyMs, detail: withNotes(shown) };
    if (status === 404) return { result: "not found", latencyMs, detail: withNotes(shown, at, "check base_url") };
    return { result: "error", latencyMs, detail: withNotes(shown) };
  } catch (error) {
    if (signal.aborted) return { result: "timeout", latencyMs: latencyMs ?? Math.round(performance.now() - started), detail: `no answer within ${timeoutMs} ms` };
    return networkFailure(error, call.url);
  }
}

/** Every key value this provider could use, to scrub from what is printed whatever the upstream echoes. */
function secretsOf(target: Target): string[] {
  const p = target.provider;
  const envValues = [...(p.keyRefs.apiKeysEnv ?? []), ...(p.keyRefs.apiKeyEnv ? [p.keyRefs.apiKeyEnv] : [])].map((n) => process.env[n]?.trim());
  const values = [p.apiKey, ...envValues, ...("keys" in target ? target.keys : [])];
  return values.filter((v): v is string => typeof v === "string" && v.length > 0);
}

const scrub = (text: string, secrets: string[]) => secrets.reduce((t, s) => t.split(s).join("[redacted]"), text);

function timeoutFlag(values: Values): number {
  const raw = values["timeout-ms"];
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_TIMEOUT_MS)
    throw new UsageError(`--timeout-ms must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

export const providers: Command = {
  summary: "Test that each provider of the catalog is reachable and takes its key.",
  usage: USAGE,
  options: { ...dataOptions, provider: { type: "string" }, "timeout-ms": { type: "string" } },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (test)", "providers");
    if (action !== "test") throw new UsageError(`unknown subcommand "providers ${action}"; use test`);
    noExtraArgs(positionals, 1, "providers");
    const timeoutMs = timeoutFlag(values);
    const only = values.provider;
    if (only !== undefined && (typeof only !== "string" || only === "")) throw new UsageError(`--provider needs a provider id; run "modelroute providers --help"`);
    const dataDir = configFrom(values).dataDir;
    if (!existsSync(databasePath(dataDir))) throw new UsageError(`no database in ${dataDir}; start the server there once (or pass --data-dir)`);
    const catalog = readOnlyCatalog(dataDir);
    let targets: Target[];
    try {
      let rows = Catalog.listProviders(catalog.db).sort((a, b) => a.id.localeCompare(b.id));
      if (only !== undefined) {
        const known = rows.map((r) => r.id);
        if (!known.includes(only)) throw new UsageError(`unknown provider "${only}"; the catalog has: ${known.join(", ") || "none"}`);
        rows = rows.filter((r) => r.id === only);
      }
      targets = rows.map((row) => targetOf(catalog.db, row));
    } finally {
      catalog.close();
    }
    if (targets.length === 0) {
      print("The catalog has no providers.");
      return 0;
    }
    const probes = await Promise.all(targets.map((t) => probe(t, timeoutMs)));
    const lines = targets.map((t, i) => {
      const r = probes[i]!;
      return [t.provider.id, t.provider.kind, r.result, r.latencyMs === null ? "-" : `${r.latencyMs} ms`, scrub(r.detail, secretsOf(t))];
    });
    print(table(["PROVIDER", "KIND", "RESULT", "LATENCY", "DETAIL"], lines));
    return probes.every((r) => r.result === "reachable" || r.result === "skipped") ? 0 : 1;
  },
};
