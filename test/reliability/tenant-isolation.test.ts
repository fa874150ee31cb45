/**
 * Tenant isolation and secrets (docs/reliability.md "Tenant isolation and secrets").
 *
 * Org A (the bootstrap org) makes one of every resource; org B (a full key of its own) then calls
 * every route of /openapi.json that takes an id, on every surface, with A's ids. Each answer must
 * be the surface's own 404, and the same answer as for an id that never existed (no existence
 * oracle); afterwards A's resources read exactly as before and neither balance has moved. A route
 * with a path parameter that is neither probed nor exempt (with a reason) fails the test, so a
 * new route is covered or explained. B's lists, filters and usage never show A's things.
 *
 * Secrets (provider keys from env and inline, API keys, the admin token, webhook secrets) are
 * looked for in the server's logs (a real process at debug level, its stdout and stderr), admin
 * exports, error bodies, /openapi.json and /metrics. Presigned links are tampered with part by
 * part. Webhooks to private addresses are refused on a server with the default settings.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { isPrivateAddress } from "../../src/modules/webhooks/targets";
import { startFakeCog, type FakeCog } from "../helpers/fake-cog";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { initUpload, otherOrg, PNG_1x1, sha256Hex, uploadFile } from "../helpers/files";
import { databaseForDataDir, suiteOnPostgres } from "../helpers/postgres";
import { spawnServer, type ServerProcess } from "../helpers/process";
import { startTestServer, type TestServer } from "../helpers/server";
import { eventually, startReceiver, type Receiver } from "../helpers/webhook-receiver";

setDefaultTimeout(30_000); // each test takes a second or two; a leak that streams should fail, not time out at 5 s

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
/** Provider keys: one read from the environment (api_key_env), one stored inline in the catalog. */
const ENV_KEY = `sk-proj-env${hex(16)}`;
const INLINE_KEY = `sk-proj-inline${hex(16)}`;
const ENV_NAME = "MODELROUTE_ISOLATION_PROVIDER_KEY";
/** Put into A's names and metadata: B must never see it. */
const MARK = `org-a-${hex(6)}`;

/** The text with its last character changed. */
const flip = (s: string) => s.slice(0, -1) + (s.endsWith("0") ? "1" : "0");
const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);
const jsonl = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";

function catalogFor(upstreamUrl: string, cogUrl?: string) {
  const pricing = { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00", per_cache_hit: "0.000003" };
  // An asynchronous upstream: it answers on /v1/providers/callbacks/{token}, the token its only credential.
  const cog = cogUrl ? { provider: { id: "iso-cog", kind: "cog", base_url: cogUrl }, model: { slug: "iso-cog-image", task: "text-to-image", input_schema: { type: "object", required: ["prompt"], properties: { prompt: { type: "string" } } }, pricing: { per_image: "0.010" }, routes: [{ provider: "iso-cog", upstream_model: "sdxl", total_ms: 5000 }] } } : null;
  return {
    providers: [
      { id: "iso-env", kind: "openai", base_url: upstreamUrl, api_key_env: ENV_NAME },
      { id: "iso-inline", kind: "openai", base_url: upstreamUrl, api_key: INLINE_KEY },
      ...(cog ? [cog.provider] : []),
    ],
    models: [
      ...(cog ? [cog.model] : []),
      { slug: "iso-chat", task: "chat", max_output_tokens: 64, pricing, routes: [{ provider: "iso-env", upstream_model: "gpt-4o-mini", retries: 0 }] },
      { slug: "iso-inline-chat", task: "chat", max_output_tokens: 64, pricing, routes: [{ provider: "iso-inline", upstream_model: "gpt-4o-mini", retries: 1 }] },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Surfaces and their 404s

type Surface = "native" | "openai" | "anthropic" | "openrouter" | "gemini" | "ollama" | "aimp";

/** Which surface a path belongs to, written from docs/compatibility.md, not from the server's own table. */
function surfaceOf(path: string): Surface {
  if (/^\/v1\/messages(\/|$)|^\/api\/v1\/messages/.test(path)) return "anthropic";
  if (path.startsWith("/api/v1/")) return "openrouter";
  if (path.startsWith("/v1beta/")) return "gemini";
  if (/^\/v1\/(responses|batches|chat|completions|embeddings|images|audio|moderations|rerank)(\/|$)/.test(path)) return "openai";
  if (/^\/api\/(runs|media|marketplace|billing|knowledge-bases)(\/|$)/.test(path)) return "aimp";
  if (path.startsWith("/api/")) return "ollama";
  return "native";
}

/** Each surface's not-found body, as its SDK parses it; never a 403 or another status. */
const NOT_FOUND: Record<Surface, (body: any, res: Response) => boolean> = {
  // A route's own 404, not the one for a path no route matches.
  native: (b, res) => b?.error?.code === "NOT_FOUND" && typeof b.error.message === "string" && !b.error.message.startsWith("No route matches") && b.error.request_id === res.headers.get("x-request-id"),
  aimp: (b, res) => NOT_FOUND.native(b, res),
  openai: (b) => b?.error?.type === "invalid_request_error" && b.error.code === "not_found" && typeof b.error.message === "string" && "param" in b.error,
  anthropic: (b) => b?.type === "error" && b.error?.type === "not_found_error" && typeof b.error.message === "string",
  openrouter: (b) => b?.error?.code === 404 && typeof b.error.message === "string",
  gemini: (b) => b?.error?.code === 404 && b.error.status === "NOT_FOUND",
  ollama: (b) => typeof b?.error === "string",
};

/** The same id shape with other random bits: the same creation time, so it pages like the original. */
function twin(value: string): string {
  const m = /^([a-z_]+_)([0-9a-f]{8}-[0-9a-f]{4})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.exec(value);
  if (m) return `${m[1]}${m[2]}-7${hex(2).slice(1)}-8${hex(2).slice(1)}-${hex(6)}`;
  return `${value}-${hex(3)}`; // a name (a knowledge-base scope or item)
}

/** Fields that differ between two calls a moment apart, whatever the ids. */
const VOLATILE = new Set(["request_id", "last_used_at"]);

/** An answer with the ids of a probe written as their parameter names, and request ids dropped. */
function normalized(text: string, values: Record<string, string>): string {
  let out = text;
  for (const [name, value] of Object.entries(values).sort((a, b) => b[1].length - a[1].length)) out = out.split(value).join(`<${name}>`);
  try {
    return JSON.stringify(JSON.parse(out), (k, v) => (VOLATILE.has(k) ? undefined : v));
  } catch {
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The servers

let offsetMs = 0; // the in-process server's clock, moved forward only to expire a link
let server: TestServer;
let upstream: FakeOpenAI;
let cog: FakeCog;
let rx: Receiver;
let openapi: { paths: Record<string, Record<string, { security?: unknown[] }>> };
const logLines: string[] = [];
/** Every error body any server answered in this file: none may hold a secret. */
const errorBodies: string[] = [];
/** Every secret made along the way (API keys, webhook secrets) beside the fixed ones. */
const secrets = new Set<string>([ENV_KEY, INLINE_KEY]);

type Org = { orgId: string; key: string };
let A: Org;
let B: Org;

/** A request as `key` on the surface of `path`: X-API-Key on AIMP's, a bearer token elsewhere. */
async function call(key: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, base = server.url) {
  const h: Record<string, string> = { ...headers };
  if (key) {
    if (surfaceOf(path.split("?")[0]!) === "aimp") h["x-api-key"] = key;
    else h.authorization = `Bearer ${key}`;
  }
  if (body !== undefined) h["content-type"] = "application/json";
  // Bounded: a leak that answers with an endless stream (another org's events) fails, not hangs.
  const signal = AbortSignal.timeout(5000);
  const res = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), signal });
  const text = await res.text().catch((e) => `(the body did not end: ${e})`);
  if (res.status >= 400) errorBodies.push(text);
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { res, status: res.status, text, json };
}
const admin = (method: string, path: string, body?: unknown, base = server.url, token = server.adminToken) =>
  call(null, method, path, body, { authorization: `Bearer ${token}` }, base);

beforeAll(async () => {
  process.env[ENV_NAME] = ENV_KEY;
  upstream = await startFakeOpenAI({ apiKeys: [ENV_KEY, INLINE_KEY] });
  rx = startReceiver();
  cog = await startFakeCog();
  server = await startTestServer({
    clock: { now: () => Date.now() + offsetMs },
    logLines,
    // A real receiver on 127.0.0.1 for A's webhooks; the default (refused) is checked on the process below.
    env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true", MODELROUTE_RATE_LIMIT_RPM: "0" },
  });
  expect((await server.applyCatalog(catalogFor(upstream.url, cog.url))).status).toBe(200);
  A = { orgId: server.orgId, key: server.apiKey };
  B = otherOrg(server);
  expect((await admin("POST", `/admin/v1/orgs/${B.orgId}/credits`, { amount: "5.00", note: "isolation test" })).status).toBe(201);
  secrets.add(A.key).add(B.key).add(server.adminToken);
  openapi = (await call(null, "GET", "/openapi.json")).json;
});

afterAll(async () => {
  await call(A.key, "POST", `/v1/executions/${ids.execAsync}/cancel`); // a 60 s mock call: end it now
  await server.stop();
  await upstream.stop();
  await cog.stop();
  rx.stop();
  delete process.env[ENV_NAME];
});

// ---------------------------------------------------------------------------------------------
// Org A's resources

const ids = {} as Record<
  | "execSync" | "execAsync" | "execCog" | "execWebhook" | "execMiss" | "execHit" | "execIndex" | "file" | "file2" | "batchFile" | "batchOutput"
  | "batch" | "msgbatch" | "endpoint" | "testDelivery" | "execDelivery" | "apiKey" | "orKey" | "guardrail" | "response" | "responseOR"
  | "upload" | "scope" | "item" | "bFile" | "bGuardrail" | "bKeyId" | "bExec",
  string
>;
/** Asked by A, then by B word for word (so it holds no MARK): B must not get A's cached answer. */
const CACHED_CHAT = { model: "iso-chat", messages: [{ role: "user", content: `The cached question ${hex(4)}` }], temperature: 0 };
const LAUNCH_CODE = `the launch code ${hex(4)}`;

async function balance(org: Org) {
  return (await call(org.key, "GET", "/v1/balance")).json as { available: string; held: string; total: string };
}
async function settledExecution(key: string, id: string) {
  return eventually(async () => (await call(key, "GET", `/v1/executions/${id}`)).json, (e) => ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"].includes(e?.status), 15_000);
}

test("org A makes one of every resource; org B is charged nothing for them", async () => {
  const bBefore = await balance(B);
  const metadata = { owner: MARK };
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: A.key, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: A.key, maxRetries: 0 });

  const sync = await call(A.key, "POST", "/v1/executions", { model: "demo-model", input: { text: "A, synchronously" }, mode: "SYNC", metadata });
  expect([sync.status, sync.json.status]).toEqual([200, "COMPLETED"]);
  ids.execSync = sync.json.id;
  const slow = await call(A.key, "POST", "/v1/executions", { model: "demo-model", input: { text: "A, slowly", mock_latency_ms: 60_000 }, metadata });
  expect(slow.status).toBe(202);
  ids.execAsync = slow.json.id;

  const cogRun = await call(A.key, "POST", "/v1/executions", { model: "iso-cog-image", input: { prompt: "a fox" }, metadata });
  ids.execCog = cogRun.json.id;
  expect((await settledExecution(A.key, ids.execCog)).status).toBe("COMPLETED");
  const callback = cog.requests.find((r) => r.body?.webhook)?.body.webhook as string;
  expect(callback).toContain("/v1/providers/callbacks/");
  secrets.add(callback.slice(callback.lastIndexOf("/") + 1)); // the callback token: a credential, so never logged

  const endpoint = await call(A.key, "POST", "/v1/webhooks/endpoints", { url: `${rx.url}/endpoint-a`, description: MARK });
  expect(endpoint.status).toBe(201);
  ids.endpoint = endpoint.json.id;
  secrets.add(endpoint.json.secret);
  ids.testDelivery = (await call(A.key, "POST", `/v1/webhooks/endpoints/${ids.endpoint}/test`)).json.id;
  const hooked = await call(A.key, "POST", "/v1/executions", { model: "demo-model", input: { text: "A, with a webhook" }, webhook_url: `${rx.url}/exec-a`, metadata });
  ids.execWebhook = hooked.json.id;
  await rx.waitFor(1, (r) => r.path === "/exec-a");

  ids.file = (await uploadFile(server, new TextEncoder().encode(`A's first file ${MARK}`), "text/plain", `${MARK}-1.txt`)).file_id;
  ids.file2 = (await uploadFile(server, new TextEncoder().encode(`A's second file ${MARK}`), "text/plain", `${MARK}-2.txt`)).file_id;

  const batchFile = await openai.files.create({ file: new File([jsonl([{ custom_id: MARK, method: "POST", url: "/v1/chat/completions", body: { model: "mock-chat", messages: [{ role: "user", content: "batched" }] } }])], `${MARK}.jsonl`), purpose: "batch" });
  ids.batchFile = batchFile.id;
  const batch = await openai.batches.create({ input_file_id: batchFile.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata });
  ids.batch = batch.id;
  const done = await eventually(() => openai.batches.retrieve(batch.id), (b) => b.status === "completed", 15_000);
  expect(done.status).toBe("completed");
  ids.batchOutput = done.output_file_id!;
  const msgbatch = await anthropic.messages.batches.create({ requests: [{ custom_id: MARK, params: { model: "mock-chat", max_tokens: 16, messages: [{ role: "user", content: "batched" }] } }] });
  ids.msgbatch = msgbatch.id;
  await eventually(() => anthropic.messages.batches.retrieve(msgbatch.id), (b) => b.processing_status === "ended", 15_000);

  const key = await call(A.key, "POST", "/v1/api-keys", { name: MARK });
  expect(key.status).toBe(201);
  ids.apiKey = key.json.id;
  secrets.add(key.json.key);
  const orKey = await call(A.key, "POST", "/api/v1/keys", { name: `${MARK}-or` });
  expect(orKey.status).toBe(201);
  ids.orKey = orKey.json.data.hash;
  secrets.add(orKey.json.key);
  const guardrail = await call(A.key, "POST", "/v1/guardrails", { name: MARK, blocked_models: ["mock-image"] });
  expect(guardrail.status).toBe(201);
  ids.guardrail = guardrail.json.id;
  expect((await call(A.key, "POST", `/v1/guardrails/${ids.guardrail}/assignments/keys`, { key_ids: [ids.apiKey] })).status).toBe(200);

  ids.response = (await openai.responses.create({ model: "mock-chat", input: `A remembers ${MARK}`, metadata })).id;
  const orResponse = await call(A.key, "POST", "/api/v1/responses", { model: "mock-chat", input: `A remembers ${MARK} too` });
  expect(orResponse.status).toBe(200);
  ids.responseOR = orResponse.json.id;

  ids.scope = `${MARK}-scope`;
  ids.item = `${MARK}-item`;
  const indexed = await call(A.key, "POST", "/api/runs", { model: "mock-embed", mode: "index", scope: ids.scope, input: { id: ids.item, text: LAUNCH_CODE } });
  expect([indexed.status, indexed.json.status]).toEqual([200, "COMPLETED"]);
  ids.execIndex = indexed.json.id;
  const media = await call(A.key, "POST", "/api/media/upload/init", { filename: `${MARK}.png`, content_type: "image/png", media_type: "image", size_bytes: PNG_1x1.byteLength });
  expect(media.status).toBe(200);
  ids.upload = media.json.upload_id;
  expect((await fetch(media.json.upload_url, { method: "PUT", body: PNG_1x1, headers: { "content-type": "image/png" } })).status).toBe(200);

  // The response cache: A's repeat is a HIT (the cache works), so B's MISS below means something.
  const calls = upstream.requests.length;
  const miss = await call(A.key, "POST", "/v1/chat/completions", CACHED_CHAT);
  const hit = await call(A.key, "POST", "/v1/chat/completions", CACHED_CHAT);
  expect([miss.res.headers.get("x-modelroute-cache"), hit.res.headers.get("x-modelroute-cache"), upstream.requests.length - calls]).toEqual(["MISS", "HIT", 1]);
  expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${ENV_KEY}`); // the env key reached the upstream
  [ids.execMiss, ids.execHit] = [miss.json.id, hit.json.id];

  for (const id of [ids.execSync, ids.execWebhook]) expect((await settledExecution(A.key, id)).status).toBe("COMPLETED");
  const deliveries = await eventually(async () => (await call(A.key, "GET", `/v1/webhooks/deliveries?limit=100`)).json.data, (d: any[]) => d.some((x) => x.status === "succeeded" && x.endpoint_id === null), 10_000);
  ids.execDelivery = deliveries.find((d: any) => d.endpoint_id === null)?.id;
  expect(ids.execDelivery).toMatch(/^whdl_/);
  expect(await balance(B)).toEqual(bBefore);
});

test("org B's own calls: its own cache entry, its own charge, and A's balance does not move", async () => {
  const aBefore = await balance(A);
  const bBefore = await balance(B);
  const calls = upstream.requests.length;
  const chat = await call(B.key, "POST", "/v1/chat/completions", CACHED_CHAT);
  expect([chat.status, chat.res.headers.get("x-modelroute-cache"), upstream.requests.length - calls]).toEqual([200, "MISS", 1]);
  ids.bExec = chat.json.id;
  const bExec = await settledExecution(B.key, ids.bExec);
  expect(bExec.cache).toMatchObject({ status: "MISS" });
  expect(micros(bExec.cost)).toBe(micros((await call(A.key, "GET", `/v1/executions/${ids.execMiss}`)).json.cost)); // the full price, not A's hit price
  // B searching a scope named like A's searches its own, empty one, and pays for it itself.
  const search = await call(B.key, "POST", "/api/runs", { model: "mock-embed", mode: "search", scope: ids.scope, input: { text: LAUNCH_CODE } });
  expect([search.status, search.json.output.results]).toEqual([200, []]);
  const bAfter = await balance(B);
  expect(micros(bBefore.available) - micros(bAfter.available)).toBe(micros(bExec.cost) + micros(search.json.cost));
  expect(await balance(A)).toEqual(aBefore);

  ids.bFile = (await uploadFile(server, PNG_1x1, "image/png", "b.png", B.key)).file_id;
  const g = await call(B.key, "POST", "/v1/guardrails", { name: "b's guardrail" });
  ids.bGuardrail = g.json.id;
  ids.bKeyId = (await call(B.key, "POST", "/v1/api-keys", { name: "b's key" })).json.id;
  // The other direction: A sees none of B's.
  for (const path of [`/v1/executions/${ids.bExec}`, `/v1/files/${ids.bFile}`, `/v1/guardrails/${ids.bGuardrail}`, `/v1/api-keys/${ids.bKeyId}`]) {
    const res = await call(A.key, "GET", path);
    expect([path, res.status, NOT_FOUND.native(res.json, res.res)]).toEqual([path, 404, true]);
  }
});

// ---------------------------------------------------------------------------------------------
// The matrix

type Params = Record<string, string>;
type Probe = { params: Params; body?: unknown; headers?: Record<string, string>; surface?: Surface };
type Entry = { probes: () => Probe[]; keep?: string[] } | { exempt: string };

const each = (name: string, ...values: (keyof typeof ids)[]) => values.map((v) => ({ params: { [name]: ids[v] } }));
const withBody = (body: unknown, probes: Probe[]) => probes.map((p) => ({ ...p, body }));
const CATALOG = "the catalog is shared by every organization: no tenant data behind it";
const OPERATOR = "operator token only: the operator sees every organization by design (API keys are refused with 401, checked below)";
const EXEC_IDS = ["execSync", "execAsync", "execCog", "execWebhook", "execMiss", "execHit", "execIndex", "response", "responseOR"] as const;
const KB = (extra: Params = {}) => [{ params: { model: "mock-embed", scope: ids.scope, ...extra } }];

/** Every route of /openapi.json with a parameter naming a resource: probed with A's ids, or exempt with its reason. */
const ID_ROUTES: Record<string, Entry> = {
  "GET /v1/models/{slug}": { exempt: CATALOG },
  "GET /v1beta/models/{model}": { exempt: CATALOG },
  "POST /v1beta/models/{model}:{action}": { exempt: CATALOG },
  "GET /api/v1/models/{author}/{slug}/endpoints": { exempt: CATALOG },
  "GET /api/marketplace/models/{slug}": { exempt: CATALOG },
  "POST /v1/providers/callbacks/{token}": { exempt: "no API key: the execution's unguessable callback token is the credential (test/e2e/async-providers.test.ts)" },
  "PUT /v1/files/{file_id}/content": { exempt: "no API key: the signed link is the credential; tampered links are the presigned-URL test below" },
  "GET /admin/v1/orgs/{id}": { exempt: OPERATOR },
  "POST /admin/v1/orgs/{id}/suspend": { exempt: OPERATOR },
  "POST /admin/v1/orgs/{id}/unsuspend": { exempt: OPERATOR },
  "GET /admin/v1/orgs/{id}/keys": { exempt: OPERATOR },
  "POST /admin/v1/orgs/{id}/keys": { exempt: OPERATOR },
  "DELETE /admin/v1/orgs/{id}/keys/{keyId}": { exempt: OPERATOR },
  "POST /admin/v1/orgs/{id}/credits": { exempt: OPERATOR },
  "GET /admin/v1/orgs/{id}/balance": { exempt: OPERATOR },
  "GET /admin/v1/orgs/{id}/balance/transactions": { exempt: OPERATOR },
  "PATCH /admin/v1/orgs/{id}/balance/settings": { exempt: OPERATOR },

  "GET /v1/executions/{id}": { probes: () => each("id", ...EXEC_IDS) },
  "GET /v1/executions/{id}/result": { probes: () => each("id", ...EXEC_IDS) },
  "GET /v1/executions/{id}/events": { probes: () => each("id", "execSync", "execAsync") },
  "POST /v1/executions/{id}/cancel": { probes: () => each("id", "execAsync", "execSync") },
  "GET /api/runs/{id}": { probes: () => each("id", "execIndex", "execSync", "execAsync") },
  "GET /api/v1/generation": { probes: () => each("id", "execSync", "execMiss") },

  "GET /v1/files/{file_id}": { probes: () => each("file_id", "file", "batchFile", "batchOutput") },
  "DELETE /v1/files/{file_id}": { probes: () => each("file_id", "file", "batchFile", "batchOutput") },
  "GET /v1/files/{file_id}/download": { probes: () => each("file_id", "file", "batchOutput") },
  "GET /v1/files/{file_id}/url": { probes: () => each("file_id", "file", "batchOutput") },
  // With an API key (OpenAI's files.content); without one it is a signed link, below.
  "GET /v1/files/{file_id}/content": { probes: () => each("file_id", "file", "batchOutput").map((p) => ({ ...p, headers: { accept: "application/binary" } })) },

  "GET /v1/batches/{batch_id}": { probes: () => each("batch_id", "batch") },
  "POST /v1/batches/{batch_id}/cancel": { probes: () => each("batch_id", "batch") },
  "GET /v1/messages/batches/{batch_id}": { probes: () => each("batch_id", "msgbatch") },
  "DELETE /v1/messages/batches/{batch_id}": { probes: () => each("batch_id", "msgbatch") },
  "POST /v1/messages/batches/{batch_id}/cancel": { probes: () => each("batch_id", "msgbatch") },
  "GET /v1/messages/batches/{batch_id}/results": { probes: () => each("batch_id", "msgbatch") },

  "GET /v1/webhooks/endpoints/{id}": { probes: () => each("id", "endpoint") },
  "PATCH /v1/webhooks/endpoints/{id}": { probes: () => withBody({ enabled: false, url: "https://example.com/b" }, each("id", "endpoint")) },
  "DELETE /v1/webhooks/endpoints/{id}": { probes: () => each("id", "endpoint") },
  "POST /v1/webhooks/endpoints/{id}/test": { probes: () => each("id", "endpoint") },
  "POST /v1/webhooks/endpoints/{id}/rotate-secret": { probes: () => each("id", "endpoint") },
  "GET /v1/webhooks/endpoints/{id}/deliveries": { probes: () => each("id", "endpoint") },
  "GET /v1/webhooks/deliveries/{id}": { probes: () => each("id", "testDelivery", "execDelivery") },
  "POST /v1/webhooks/deliveries/{id}/retry": { probes: () => each("id", "testDelivery", "execDelivery") },

  "GET /v1/api-keys/{id}": { probes: () => each("id", "apiKey", "orKey") },
  "PATCH /v1/api-keys/{id}": { probes: () => withBody({ name: "renamed by b", disabled: true }, each("id", "apiKey")) },
  "DELETE /v1/api-keys/{id}": { probes: () => each("id", "apiKey", "orKey") },
  "POST /v1/api-keys/{id}/rotate": { probes: () => each("id", "apiKey") },
  "GET /api/v1/keys/{hash}": { probes: () => each("hash", "orKey", "apiKey") },
  "PATCH /api/v1/keys/{hash}": { probes: () => withBody({ disabled: true }, each("hash", "orKey")) },
  "DELETE /api/v1/keys/{hash}": { probes: () => each("hash", "orKey", "apiKey") },

  "GET /v1/guardrails/{id}": { probes: () => each("id", "guardrail") },
  "PATCH /v1/guardrails/{id}": { probes: () => withBody({ name: "renamed by b" }, each("id", "guardrail")) },
  "DELETE /v1/guardrails/{id}": { probes: () => each("id", "guardrail") },
  "GET /v1/guardrails/{id}/assignments/keys": { probes: () => each("id", "guardrail") },
  "POST /v1/guardrails/{id}/assignments/keys": { probes: () => each("id", "guardrail").map((p) => ({ ...p, body: { key_ids: [ids.bKeyId] } })) },
  "POST /v1/guardrails/{id}/assignments/keys/remove": { probes: () => each("id", "guardrail").map((p) => ({ ...p, body: { key_ids: [ids.apiKey] } })) },

  "GET /v1/responses/{id}": { probes: () => each("id", "response", "responseOR") },
  "DELETE /v1/responses/{id}": { probes: () => each("id", "response", "responseOR") },
  "POST /v1/responses/{id}/cancel": { probes: () => each("id", "response") },
  "GET /v1/responses/{id}/input_items": { probes: () => each("id", "response", "responseOR") },
  "GET /api/v1/responses/{id}": { probes: () => each("id", "responseOR", "response") },
  "DELETE /api/v1/responses/{id}": { probes: () => each("id", "responseOR", "response") },
  "POST /api/v1/responses/{id}/cancel": { probes: () => each("id", "responseOR") },
  "GET /api/v1/responses/{id}/input_items": { probes: () => each("id", "responseOR", "response") },

  "GET /api/knowledge-bases/{model}/{scope}/items": { probes: () => KB(), keep: ["model"] },
  "GET /api/knowledge-bases/{model}/{scope}/items/{item_id}": { probes: () => KB({ item_id: ids.item }), keep: ["model"] },
  "DELETE /api/knowledge-bases/{model}/{scope}/items/{item_id}": { probes: () => KB({ item_id: ids.item }), keep: ["model"] },
  "DELETE /api/knowledge-bases/{model}/{scope}": { probes: () => KB(), keep: ["model"] },
};

/** Routes that name another resource in the body or query: B's answer must be the one for an id that never existed. */
const REFERENCES: { what: string; method: string; path: string; body: () => unknown; refs: () => Params }[] = [
  { what: "an execution reading A's file", method: "POST", path: "/v1/executions", body: () => ({ model: "mock-vision", input: { image: ids.file } }), refs: () => ({ file: ids.file }) },
  { what: "a batch of A's input file", method: "POST", path: "/v1/batches", body: () => ({ input_file_id: ids.batchFile, endpoint: "/v1/chat/completions", completion_window: "24h" }), refs: () => ({ file: ids.batchFile }) },
  { what: "a response continuing A's", method: "POST", path: "/v1/responses", body: () => ({ model: "mock-chat", input: "go on", previous_response_id: ids.response }), refs: () => ({ response: ids.response }) },
  { what: "an OpenRouter response continuing A's", method: "POST", path: "/api/v1/responses", body: () => ({ model: "mock-chat", input: "go on", previous_response_id: ids.responseOR }), refs: () => ({ response: ids.responseOR }) },
  { what: "completing A's media upload", method: "POST", path: "/api/media/upload/complete", body: () => ({ upload_id: ids.upload }), refs: () => ({ upload: ids.upload }) },
  { what: "B's guardrail on A's key", method: "POST", path: "/v1/guardrails/{g}/assignments/keys", body: () => ({ key_ids: [ids.apiKey] }), refs: () => ({ key: ids.apiKey }) },
  { what: "A's key off B's guardrail", method: "POST", path: "/v1/guardrails/{g}/assignments/keys/remove", body: () => ({ key_ids: [ids.apiKey] }), refs: () => ({ key: ids.apiKey }) },
];

/** List routes whose filters or cursors take an id: answered as for an id that never existed. */
const LIST_FILTERS: () => [string, Params][] = () => [
  ["/v1/executions?starting_after={id}", { id: ids.execSync }],
  ["/v1/executions?ending_before={id}", { id: ids.execSync }],
  ["/v1/files?starting_after={id}", { id: ids.file }],
  ["/v1/files?after={id}&purpose=batch", { id: ids.batchFile }],
  ["/v1/api-keys?starting_after={id}", { id: ids.apiKey }],
  ["/v1/guardrails?ending_before={id}", { id: ids.guardrail }],
  ["/v1/guardrails/assignments/keys?starting_after={id}", { id: ids.apiKey }],
  ["/v1/webhooks/endpoints?ending_before={id}", { id: ids.endpoint }],
  ["/v1/webhooks/deliveries?starting_after={id}", { id: ids.testDelivery }],
  ["/v1/batches?after={id}", { id: ids.batch }],
  ["/v1/messages/batches?after_id={id}", { id: ids.msgbatch }],
  ["/v1/messages/batches?before_id={id}", { id: ids.msgbatch }],
  ["/api/knowledge-bases/mock-embed/{scope}/items?starting_after={item}", { scope: ids.scope, item: ids.item }],
  ["/v1/executions?model=iso-chat&status=COMPLETED", {}],
  ["/api/knowledge-bases?model=mock-embed", {}],
];

const fill = (template: string, params: Params) => template.replace(/\{([^}]+)\}/g, (_, name) => encodeURIComponent(params[name]!));
const aIdsIn = (text: string) => [...Object.values(ids).filter((v) => v && v.length > 8 && ![ids.bFile, ids.bGuardrail, ids.bKeyId, ids.bExec].includes(v)), MARK, A.orgId].filter((v) => text.includes(v));

/** What A reads of its own resources: the same before and after B's attempts. */
async function snapshotOfA() {
  const reads = [
    ...EXEC_IDS.map((id) => `/v1/executions/${ids[id]}`),
    `/v1/files/${ids.file}`, `/v1/files/${ids.file}/download`, `/v1/files/${ids.batchFile}`, `/v1/files/${ids.batchOutput}`,
    `/v1/batches/${ids.batch}`, `/v1/messages/batches/${ids.msgbatch}`,
    `/v1/webhooks/endpoints/${ids.endpoint}`, `/v1/webhooks/endpoints/${ids.endpoint}/deliveries`, `/v1/webhooks/deliveries/${ids.testDelivery}`, `/v1/webhooks/deliveries/${ids.execDelivery}`,
    `/v1/api-keys/${ids.apiKey}`, `/api/v1/keys/${ids.orKey}`, `/v1/guardrails/${ids.guardrail}`, `/v1/guardrails/${ids.guardrail}/assignments/keys`,
    `/v1/responses/${ids.response}`, `/v1/responses/${ids.response}/input_items`, `/api/v1/responses/${ids.responseOR}`,
    `/api/runs/${ids.execIndex}`, `/api/knowledge-bases/mock-embed/${ids.scope}/items/${ids.item}`, `/api/knowledge-bases/mock-embed/${ids.scope}/items`,
    "/v1/usage?group_by=model", "/v1/webhooks/signing-secret",
  ];
  const out: Record<string, unknown> = {};
  for (const path of reads) {
    const r = await call(A.key, "GET", path);
    // Usage is as of now (`to`): its figures must not move.
    out[path] = [r.status, path.startsWith("/v1/usage") ? r.json.data : (r.json ?? sha256Hex(new TextEncoder().encode(r.text)))];
  }
  return out;
}

const summary = { routes: 0, verbs: {} as Record<string, number>, paths: new Set<string>(), checks404: 0, twins: 0, exempt: [] as string[], lists: 0, filters: 0, references: 0, sdk: 0, bySurface: {} as Record<string, number> };

test("org B gets the surface's own 404 for every id of A's, on every route that takes one, and changes nothing", async () => {
  // Coverage first: a route with a path parameter that is in neither list fails here, by name.
  const routes = Object.entries(openapi.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  const parametrized = routes.filter((r) => r.includes("{"));
  expect(parametrized.filter((r) => !(r in ID_ROUTES))).toEqual([]);
  expect(Object.keys(ID_ROUTES).filter((r) => !routes.includes(r))).toEqual([]); // no stale entries

  // Let A's deliveries settle, then take what A sees.
  await Bun.sleep(300);
  const received = rx.received.length;
  const aBalance = await balance(A);
  const bBalance = await balance(B);
  const before = await snapshotOfA();
  expect(Object.entries(before).filter(([, [status]]: any) => status !== 200)).toEqual([]); // A reads every one of them

  const failures: string[] = [];
  for (const [route, entry] of Object.entries(ID_ROUTES)) {
    if ("exempt" in entry) {
      summary.exempt.push(route);
      continue;
    }
    const [method, template] = route.split(" ") as [string, string];
    const pathParams = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const probe of entry.probes()) {
      const surface = probe.surface ?? surfaceOf(template);
      const twinParams = Object.fromEntries(Object.entries(probe.params).map(([k, v]) => [k, entry.keep?.includes(k) ? v : twin(v)]));
      const urlOf = (params: Params) => {
        const query = Object.entries(params).filter(([k]) => !pathParams.includes(k));
        return fill(template, params) + (query.length ? `?${new URLSearchParams(query)}` : "");
      };
      const real = await call(B.key, method, urlOf(probe.params), probe.body, probe.headers);
      const never = await call(B.key, method, urlOf(twinParams), probe.body, probe.headers);
      const label = `${method} ${urlOf(probe.params)}`;
      if (real.status !== 404 || !NOT_FOUND[surface](real.json, real.res)) failures.push(`${label}: ${real.status} ${real.text.slice(0, 200)}`);
      if (real.status !== never.status || normalized(real.text, probe.params) !== normalized(never.text, twinParams))
        failures.push(`${label}: answers differently for A's id (${real.status} ${real.text.slice(0, 120)}) than for one that never existed (${never.status} ${never.text.slice(0, 120)})`);
      summary.checks404++;
      summary.twins++;
      summary.bySurface[surface] = (summary.bySurface[surface] ?? 0) + 1;
    }
    summary.routes++;
    summary.verbs[method] = (summary.verbs[method] ?? 0) + 1;
    summary.paths.add(template);
  }

  // Lists: every GET without a path parameter that takes an API key, as B: none of A's things.
  for (const route of routes.filter((r) => r.startsWith("GET ") && !r.includes("{") && !(r in ID_ROUTES))) {
    const path = route.slice(4);
    if (!openapi.paths[path]!.get!.security?.length || (openapi.paths[path]!.get!.security as object[]).every((s) => "operatorToken" in s)) continue;
    const res = await call(B.key, "GET", path);
    if (res.status !== 200) failures.push(`${route} as B: ${res.status} ${res.text.slice(0, 200)}`);
    const leaked = aIdsIn(res.text);
    if (leaked.length) failures.push(`${route} as B shows A's ${leaked.join(", ")}`);
    summary.lists++;
  }
  for (const [template, params] of LIST_FILTERS()) {
    const real = await call(B.key, "GET", fill(template, params));
    const twinParams = Object.fromEntries(Object.entries(params).map(([k, v]) => [k, twin(v)]));
    const never = await call(B.key, "GET", fill(template, twinParams));
    const leaked = aIdsIn(Object.values(params).reduce((text, v) => text.split(v).join(""), real.text)); // B's own query may be echoed
    if (leaked.length) failures.push(`${template} as B shows A's ${leaked.join(", ")}`);
    if (real.status === 403 || real.status !== never.status || normalized(real.text, params) !== normalized(never.text, twinParams))
      failures.push(`${fill(template, params)}: ${real.status} ${real.text.slice(0, 150)} vs. never-existed ${never.status} ${never.text.slice(0, 150)}`);
    summary.filters++;
  }
  // B's usage counts only B's own executions.
  const usage = (await call(B.key, "GET", "/v1/usage?group_by=model")).json;
  expect(usage.data.map((g: { group: string; executions: number }) => [g.group, g.executions]).sort()).toEqual([["iso-chat", 1], ["mock-embed", 1]]);

  for (const ref of REFERENCES) {
    const path = ref.path.replace("{g}", ids.bGuardrail);
    const body = ref.body();
    const values = ref.refs();
    const twinValues = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, twin(v)]));
    let twinBody = JSON.stringify(body);
    for (const [k, v] of Object.entries(values)) twinBody = twinBody.split(v).join(twinValues[k]!);
    const real = await call(B.key, "POST", path, body);
    const never = await call(B.key, "POST", path, JSON.parse(twinBody));
    if (real.status < 400 || real.status === 403 || real.status !== never.status || normalized(real.text, values) !== normalized(never.text, twinValues))
      failures.push(`${ref.what} (${path}): ${real.status} ${real.text.slice(0, 150)} vs. never-existed ${never.status} ${never.text.slice(0, 150)}`);
    summary.references++;
  }
  expect(failures).toEqual([]);

  // Nothing of A's moved: every read is as it was, no money moved, no webhook went out.
  expect(await snapshotOfA()).toEqual(before);
  expect(await balance(A)).toEqual(aBalance);
  expect(await balance(B)).toEqual(bBalance);
  await Bun.sleep(200);
  expect(rx.received.length).toBe(received);
  // A can still finish what B could not: its media upload completes.
  expect((await call(A.key, "POST", "/api/media/upload/complete", { upload_id: ids.upload })).status).toBe(200);
});

test("through the official SDKs, org B's calls on A's ids raise each SDK's not-found error", async () => {
  const err = (p: PromiseLike<unknown>) => Promise.resolve(p).then(() => null, (e: unknown) => e);
  const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: B.key, maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: server.url, apiKey: B.key, maxRetries: 0 });
  const calls: [string, () => PromiseLike<unknown>, unknown][] = [
    ["files.retrieve", () => openai.files.retrieve(ids.batchFile), OpenAI.NotFoundError],
    ["files.content", () => openai.files.content(ids.batchOutput), OpenAI.NotFoundError],
    ["files.delete", () => openai.files.delete(ids.file), OpenAI.NotFoundError],
    ["batches.retrieve", () => openai.batches.retrieve(ids.batch), OpenAI.NotFoundError],
    ["batches.cancel", () => openai.batches.cancel(ids.batch), OpenAI.NotFoundError],
    ["responses.retrieve", () => openai.responses.retrieve(ids.response), OpenAI.NotFoundError],
    ["responses.delete", () => openai.responses.delete(ids.response), OpenAI.NotFoundError],
    ["responses.cancel", () => openai.responses.cancel(ids.response), OpenAI.NotFoundError],
    ["responses.inputItems.list", () => openai.responses.inputItems.list(ids.response), OpenAI.NotFoundError],
    ["messages.batches.retrieve", () => anthropic.messages.batches.retrieve(ids.msgbatch), Anthropic.NotFoundError],
    ["messages.batches.cancel", () => anthropic.messages.batches.cancel(ids.msgbatch), Anthropic.NotFoundError],
    ["messages.batches.delete", () => anthropic.messages.batches.delete(ids.msgbatch), Anthropic.NotFoundError],
    ["messages.batches.results", () => anthropic.messages.batches.results(ids.msgbatch), Anthropic.NotFoundError],
  ];
  for (const [name, start, type] of calls) {
    const e = await err(start());
    expect([name, e instanceof (type as typeof Error), (e as { status?: number })?.status]).toEqual([name, true, 404]);
    summary.sdk++;
  }
  const files: string[] = [];
  for await (const f of openai.files.list()) files.push(f.id);
  expect(files).toEqual([ids.bFile]);
  expect((await openai.batches.list()).data).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// Presigned links

test("presigned links: every part tampered with, swapped to another file, stripped or expired is refused", async () => {
  const link = new URL((await call(A.key, "GET", `/v1/files/${ids.file}/url`)).json.url);
  const link2 = new URL((await call(A.key, "GET", `/v1/files/${ids.file2}/url`)).json.url);
  const get = (url: URL | string, method = "GET") => fetch(url, { method });
  expect((await get(link)).status).toBe(200); // the genuine link works

  const variant = (edit: (u: URL) => void) => {
    const u = new URL(link.href);
    edit(u);
    return u;
  };
  const sig = link.searchParams.get("signature")!;
  const exp = link.searchParams.get("expires")!;
  const cases: [string, URL][] = [
    ["signature changed", variant((u) => u.searchParams.set("signature", flip(sig)))],
    ["signature of the other file", variant((u) => u.searchParams.set("signature", link2.searchParams.get("signature")!))],
    ["signature cut short", variant((u) => u.searchParams.set("signature", sig.slice(0, 32)))],
    ["signature upper-cased", variant((u) => u.searchParams.set("signature", sig.toUpperCase()))],
    ["signature stripped", variant((u) => u.searchParams.delete("signature"))],
    ["expiry moved later", variant((u) => u.searchParams.set("expires", String(Number(exp) + 3600)))],
    ["expiry stripped", variant((u) => u.searchParams.delete("expires"))],
    ["file id changed", variant((u) => (u.pathname = u.pathname.replace(ids.file, twin(ids.file))))],
    ["swapped to A's other file", variant((u) => (u.pathname = u.pathname.replace(ids.file, ids.file2)))],
    ["swapped to B's file", variant((u) => (u.pathname = u.pathname.replace(ids.file, ids.bFile)))],
  ];
  const refusals: Record<string, unknown> = {};
  for (const [what, url] of cases) {
    const res = await get(url);
    const text = await res.text();
    refusals[what] = [res.status, text.includes(`A's first file`) || text.includes("A's second file") ? "LEAKED BYTES" : "no bytes"];
  }
  for (const [what, [status, bytes]] of Object.entries(refusals) as [string, [number, string]][]) expect([what, status >= 400 && status < 500, bytes]).toEqual([what, true, "no bytes"]);

  // An upload link is not a download link, nor the other way round, nor for another upload.
  const up1 = await initUpload(server, { content_type: "text/plain", size_bytes: 5 });
  const up2 = await initUpload(server, { content_type: "text/plain", size_bytes: 5 });
  const put = (url: string) => fetch(url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } });
  const upUrl = new URL(up1.upload_url);
  const foreign = new URL(up1.upload_url);
  foreign.pathname = foreign.pathname.replace(up1.file_id, up2.file_id);
  const downloadSigned = new URL(up1.upload_url);
  downloadSigned.search = link.search;
  downloadSigned.pathname = downloadSigned.pathname.replace(up1.file_id, ids.file);
  const tamperedUpload = new URL(up1.upload_url);
  tamperedUpload.searchParams.set("signature", flip(upUrl.searchParams.get("signature")!));
  for (const [what, url] of [["upload link for another upload", foreign], ["a download link used to upload", downloadSigned], ["upload signature changed", tamperedUpload]] as const) {
    const res = await put(url.href);
    expect([what, res.status >= 400 && res.status < 500]).toEqual([what, true]);
  }
  expect((await get(up1.upload_url)).status).toBeGreaterThanOrEqual(400); // an upload link does not download
  expect((await put(up1.upload_url)).status).toBe(200); // and the genuine upload link still works
  expect((await call(A.key, "GET", `/v1/files/${ids.file}/download`)).text).toContain("A's first file"); // nothing was overwritten

  // Expired: the same genuine link, once the server's clock passes its expiry.
  offsetMs = (Number(exp) + 5) * 1000 - Date.now();
  try {
    const expired = await get(link);
    expect(expired.status).toBe(403);
    expect((await expired.json()).error.message).toMatch(/expired/i);
  } finally {
    offsetMs = 0;
  }
  expect((await get(link)).status).toBe(200);
  summary.bySurface.presigned = cases.length + 5;
});

// ---------------------------------------------------------------------------------------------
// Secrets on the in-process server

const leaksIn = (text: string) => [...secrets].filter((s) => text.includes(s)).map((s) => `${s.slice(0, 8)}…`);

test("no secret in error bodies, /openapi.json, /metrics, admin exports or the log lines", async () => {
  // Errors that name a credential: a wrong key, a revoked one, the admin token as an API key and back.
  const revoked = (await call(A.key, "POST", "/v1/api-keys", { name: "to revoke" })).json;
  secrets.add(revoked.key);
  await call(A.key, "DELETE", `/v1/api-keys/${revoked.id}`);
  const unknownKey = `sk_${"ab".repeat(32)}_${Bun.hash.crc32("ab".repeat(32)).toString(16).padStart(8, "0")}`;
  for (const [key, path] of [[revoked.key, "/v1/balance"], [unknownKey, "/v1/balance"], [server.adminToken, "/v1/executions"], [A.key, "/admin/v1/orgs"], [`${A.key}x`, "/v1/messages/batches"], [A.key.slice(0, -1), "/api/v1/key"]] as const) {
    const res = await call(key, "GET", path);
    expect([path, res.status]).toEqual([path, 401]);
    expect(res.text.includes(key)).toBe(false);
  }
  // Upstreams that quote the key they were sent in an error (some do): a 400, an error event in a
  // stream, 500s on every retry, and last a 401 (it rests the key): the client and the execution never see it.
  const ask = { messages: [{ role: "user", content: "echo" }] };
  upstream.next({ status: 400, errorBody: { error: { message: `Invalid request sent with ${ENV_KEY}`, type: "invalid_request_error" } } });
  const refused = await call(A.key, "POST", "/v1/chat/completions", { model: "iso-chat", ...ask });
  expect([refused.status, refused.text]).toEqual([400, expect.stringContaining("[the provider key]")]); // the message is kept, masked
  upstream.next({ errorAfterRole: { message: `stream failed for ${ENV_KEY}` } });
  const streamed = await call(A.key, "POST", "/v1/chat/completions", { model: "iso-chat", ...ask, stream: true });
  expect(streamed.text).toContain("[the provider key]");
  upstream.next({ status: 500, errorBody: { error: { message: `upstream broke holding ${INLINE_KEY}` } } }, { status: 500, errorBody: { error: { message: `still ${INLINE_KEY}` } } });
  const created = await call(A.key, "POST", "/v1/executions", { model: "iso-inline-chat", input: ask, mode: "SYNC" });
  const failed = await settledExecution(A.key, created.json.id);
  expect([failed.status, failed.error.message]).toEqual(["FAILED", "The provider failed: HTTP 500: still [the provider key]"]);
  upstream.next({ status: 401, errorBody: { error: { message: `Incorrect API key provided: ${ENV_KEY}.`, type: "invalid_request_error", code: "invalid_api_key" } } });
  const echoed = await call(A.key, "POST", "/v1/chat/completions", { model: "iso-chat", ...ask });
  expect(echoed.status).toBe(503);

  const texts: Record<string, string> = {
    "/openapi.json": (await call(null, "GET", "/openapi.json")).text,
    "/metrics": (await call(null, "GET", "/metrics")).text,
    "the failed execution": JSON.stringify(failed),
    "the stream": streamed.text,
  };
  for (const path of Object.keys(openapi.paths).filter((p) => p.startsWith("/admin/v1/") && openapi.paths[p]!.get)) {
    for (const org of [A.orgId, B.orgId]) texts[`GET ${fill(path, { id: org })}`] = (await admin("GET", fill(path, { id: org }))).text;
  }
  const withSecrets = (await admin("GET", "/admin/v1/catalog?include_secrets=true")).text;
  expect(withSecrets).toContain(INLINE_KEY); // what the export holds when asked for, so the search above can find it
  expect(withSecrets).not.toContain(ENV_KEY); // a key by reference is never exported, even then
  expect(withSecrets).toContain(ENV_NAME);
  texts["every error body"] = errorBodies.join("\n");
  texts["the log lines"] = logLines.join("");
  expect(logLines.some((l) => l.includes('"msg":"request"'))).toBe(true);
  expect(Object.entries(texts).map(([where, text]) => [where, leaksIn(text)]).filter(([, l]) => l.length)).toEqual([]);
});

// ---------------------------------------------------------------------------------------------
// A real process with the default settings: its logs at debug level, and private webhook targets

describe("a server process with the default settings, logging at debug level", () => {
  let proc: ServerProcess;
  let dataDir: string;
  let output: Promise<[string, string]>;
  let boot: { api_key: string; admin_token: string; org_id: string };
  let loopbackName: string | null = null;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "modelroute-isolation-"));
    if (suiteOnPostgres()) await databaseForDataDir(dataDir);
    proc = await spawnServer(dataDir, { [ENV_NAME]: ENV_KEY, MODELROUTE_RATE_LIMIT_RPM: "0" }, undefined, { logLevel: "debug" });
    // Read both pipes from the start: a full pipe would stall the server's writes.
    output = Promise.all([new Response(proc.proc.stdout as ReadableStream).text(), new Response(proc.proc.stderr as ReadableStream).text()]);
    boot = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
    secrets.add(boot.api_key).add(boot.admin_token);
    expect((await admin("PUT", "/admin/v1/catalog", catalogFor(upstream.url), proc.url, boot.admin_token)).status).toBe(200);
    // A host name (not `localhost`) that this machine resolves to a loopback address.
    for (const name of [hostname(), "ip6-localhost", "ip6-loopback"]) {
      const found = await lookup(name, { all: true }).catch(() => []);
      if (found.length && found.every((a) => isPrivateAddress(a.address))) {
        loopbackName = name;
        break;
      }
    }
  });
  afterAll(() => {
    if (proc.proc.exitCode === null) proc.proc.kill(9);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("webhooks to private, loopback and link-local addresses are refused (MODELROUTE_WEBHOOK_ALLOW_PRIVATE unset)", async () => {
    const port = new URL(rx.url).port;
    const targets = [`http://127.0.0.1:${port}/x`, "http://10.1.2.3/x", "http://169.254.169.254/latest/meta-data/", `http://[::1]:${port}/x`, `http://localhost:${port}/x`];
    if (loopbackName) targets.push(`http://${loopbackName}:${port}/x`);
    else console.warn("SKIPPED: no host name here resolves to a loopback address other than localhost");
    for (const url of targets) {
      const res = await call(boot.api_key, "POST", "/v1/webhooks/endpoints", { url }, {}, proc.url);
      expect([url, res.status, res.json?.error?.details?.[0]?.field]).toEqual([url, 400, "url"]);
    }
    for (const url of targets.filter((u) => !u.includes(loopbackName ?? "\0"))) {
      const res = await call(boot.api_key, "POST", "/v1/executions", { model: "demo-model", input: { text: "hi" }, webhook_url: url }, {}, proc.url);
      expect([url, res.status, res.json?.error?.details?.[0]?.field]).toEqual([url, 400, "webhook_url"]);
    }
    if (!loopbackName) return;
    // A name is resolved when the webhook is sent: the execution is taken, its delivery refused, nothing arrives.
    const before = rx.received.length;
    const exec = await call(boot.api_key, "POST", "/v1/executions", { model: "demo-model", input: { text: "hi" }, webhook_url: `http://${loopbackName}:${port}/by-name` }, {}, proc.url);
    expect(exec.status).toBe(202);
    const delivery = await eventually(async () => {
      const [first] = (await call(boot.api_key, "GET", "/v1/webhooks/deliveries", undefined, {}, proc.url)).json.data;
      return first ? (await call(boot.api_key, "GET", `/v1/webhooks/deliveries/${first.id}`, undefined, {}, proc.url)).json : null;
    }, (d) => d?.attempts?.length > 0, 10_000);
    expect(delivery.attempts[0]).toMatchObject({ status_code: null, error: expect.stringContaining("Refused") });
    expect(rx.received.length).toBe(before);
  });

  test("no secret in its stdout or stderr, its errors, exports, /openapi.json or /metrics", async () => {
    const base = proc.url;
    const key = boot.api_key;
    const chat = (model: string) => call(key, "POST", "/v1/chat/completions", { model, messages: [{ role: "user", content: "hello" }] }, {}, base);
    expect((await chat("iso-chat")).status).toBe(200);
    expect(upstream.requests.at(-1)!.headers.authorization).toBe(`Bearer ${ENV_KEY}`);
    expect((await chat("iso-inline-chat")).status).toBe(200);
    upstream.next({ status: 401, errorBody: { error: { message: `Incorrect API key provided: ${ENV_KEY}.`, type: "invalid_request_error", code: "invalid_api_key" } } });
    expect((await chat("iso-chat")).status).toBeGreaterThanOrEqual(400);
    upstream.next({ status: 500, errorBody: { error: { message: `boom ${INLINE_KEY}` } } }, { status: 503, errorBody: { error: { message: `boom again ${INLINE_KEY}` } } });
    expect((await chat("iso-inline-chat")).status).toBeGreaterThanOrEqual(400);

    // Keys made, rotated and sent every way a surface takes them.
    const made = (await call(key, "POST", "/v1/api-keys", { name: "made" }, {}, base)).json;
    const rotated = (await call(key, "POST", `/v1/api-keys/${made.id}/rotate`, {}, {}, base)).json;
    const org = (await admin("POST", "/admin/v1/orgs", { name: "second" }, base, boot.admin_token)).json;
    const orgKey = (await admin("POST", `/admin/v1/orgs/${org.id}/keys`, { name: "second's" }, base, boot.admin_token)).json;
    const endpoint = (await call(key, "POST", "/v1/webhooks/endpoints", { url: "https://8.8.8.8/hook", events: ["balance.low"] }, {}, base)).json;
    const rotatedSecret = (await call(key, "POST", `/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`, {}, {}, base)).json;
    for (const s of [made.key, rotated.key, orgKey.key, endpoint.secret, rotatedSecret.secret]) {
      expect(typeof s).toBe("string");
      secrets.add(s);
    }
    expect((await fetch(`${base}/v1beta/models?key=${orgKey.key}`)).status).toBe(200);
    expect((await fetch(`${base}/v1beta/models?key=${flip(orgKey.key)}`)).status).toBe(401);
    expect((await fetch(`${base}/api/runs/${org.id}`, { headers: { "x-api-key": orgKey.key } })).status).toBe(404);
    expect((await fetch(`${base}/api/runs`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect((await call(`sk_${"0".repeat(64)}_00000000`, "GET", "/v1/balance", undefined, {}, base)).status).toBe(401);
    expect((await admin("GET", "/admin/v1/orgs", undefined, base, `mrt_${"0".repeat(64)}`)).status).toBe(401);
    expect((await admin("GET", "/admin/v1/orgs", undefined, base, key)).status).toBe(401);
    expect((await call(boot.admin_token, "GET", "/v1/balance", undefined, {}, base)).status).toBe(401);

    const texts: Record<string, string> = { "/openapi.json": (await call(null, "GET", "/openapi.json", undefined, {}, base)).text, "/metrics": (await call(null, "GET", "/metrics", undefined, {}, base)).text };
    const spec = JSON.parse(texts["/openapi.json"]!) as typeof openapi;
    for (const path of Object.keys(spec.paths).filter((p) => p.startsWith("/admin/v1/") && spec.paths[p]!.get))
      texts[`GET ${path}`] = (await admin("GET", fill(path, { id: boot.org_id }), undefined, base, boot.admin_token)).text;
    const catalogFile = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../src/main.ts"), "catalog", "export", "--data-dir", dataDir], {
      env: { ...process.env, ...(suiteOnPostgres() ? { MODELROUTE_DATABASE_URL: readFileSync(join(dataDir, "test-database-url"), "utf8").trim() } : {}) },
    });
    texts["modelroute catalog export"] = catalogFile.stdout.toString();
    expect(texts["modelroute catalog export"]).toContain(ENV_NAME); // the export ran and names the reference

    proc.proc.kill("SIGTERM");
    await proc.exited;
    const [stdout, stderr] = await output;
    // The first run prints the key and the token once on stderr, by design (docs/operations.md);
    // they must be there, in that banner only, and nowhere else.
    const banner = `  API key:        ${boot.api_key}\n  Operator token: ${boot.admin_token}\n`;
    expect(stderr.split(banner).length).toBe(2);
    texts.stdout = stdout;
    texts.stderr = stderr.replace(banner, "");
    texts["every error body"] = errorBodies.join("\n");
    // The capture is real: request lines at debug level, including the upstream failures.
    expect(stdout).toContain('"msg":"request"');
    expect(stdout).toContain('"path":"/v1/chat/completions"');
    expect(Object.entries(texts).map(([where, text]) => [where, leaksIn(text)]).filter(([, l]) => l.length)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Comparisons of secrets

/**
 * Every `==`/`!=` in src/ with an operand named like a secret, hash, signature or token. A secret
 * compared that way leaks, through timing, how much of a guess was right; each of these is listed
 * with why it is not such a comparison. A new one fails here until it is timing-safe or listed.
 */
const NOT_SECRET_COMPARES: Record<string, string> = {
  "src/modules/keys/secret.ts: crc32Hex(match[1]!) === match[2]": "the CRC-32 typo check of the key as presented: computed from the presented key itself, no secret on either side",
  "src/dialects/gemini/models.ts: tokenOf(after) !== query.pageToken": "a list page token, not a credential",
};

test("secrets, hashes and signatures are never compared with == in src/", () => {
  const OPERAND = String.raw`[\w$.?\[\]]+(?:\([^()]*\))?[\w$.?\[\]!]*`;
  const COMPARE = new RegExp(`(${OPERAND})\\s*([!=]==?)\\s*(${OPERAND})`, "g");
  const SECRETISH = /secret|signature|\bsig\b|digest|hmac|token|hash|api_?key|password|crc|expected/i;
  const LITERAL = /^(null|undefined|true|false|-?\d+|\w+\.length|typeof)$/;
  const root = join(import.meta.dir, "../../src");
  const found: string[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(root, { recursive: true }) as string[]) {
    if (!file.endsWith(".ts")) continue;
    for (const line of readFileSync(join(root, file), "utf8").split("\n")) {
      if (/^\s*(\/\/|\*)/.test(line)) continue;
      for (const m of line.replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '""').matchAll(COMPARE)) {
        const [, left, op, right] = m as unknown as [string, string, string, string];
        if ([left, right].some((o) => o === '""' || LITERAL.test(o))) continue;
        if (!SECRETISH.test(left) && !SECRETISH.test(right)) continue;
        const hit = `src/${file}: ${left} ${op} ${right}`;
        if (hit in NOT_SECRET_COMPARES) seen.add(hit);
        else found.push(hit);
      }
    }
  }
  expect(found).toEqual([]);
  expect(Object.keys(NOT_SECRET_COMPARES).filter((k) => !seen.has(k))).toEqual([]); // the list stays true
});

afterAll(() => {
  const verbs = Object.entries(summary.verbs).sort().map(([v, n]) => `${v} ${n}`).join(", ");
  console.log(
    `tenant isolation: ${summary.routes} id routes on ${summary.paths.size} paths (${verbs}) probed as org B, ${summary.exempt.length} exempt; ` +
      `${summary.checks404} 404 checks, each against an id that never existed; ${summary.sdk} SDK not-found errors; ` +
      `${summary.lists} lists, ${summary.filters} filters and cursors, ${summary.references} references in bodies; by surface ${JSON.stringify(summary.bySurface)}`,
  );
});
