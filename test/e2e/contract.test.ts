/**
 * The cross-cutting wire rules (docs/decisions.md), proven on every operation the server documents.
 * The route table comes from the live /openapi.json, so a route added later is checked without
 * editing this file (and a JSON-body or DELETE route this file cannot exercise fails loudly).
 * Each test collects every violation and compares the list with [], so one run names them all.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver";

type Operation = { method: string; template: string; params: string[]; query: string[]; jsonBody: boolean };
type Reply = { label: string; status: number; headers: Headers; body: any; contentType: string };

const MALFORMED_IDS = ["not-an-id", "x".repeat(300)];
const UNKNOWN_FIELD = "zz_unknown_field";
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const MONEY = /^-?\d+\.\d{3,6}$/;
/** Keys whose value is money wherever they appear (`total` only inside a balance: elsewhere it counts things). */
const MONEY_KEYS = new Set(["cost", "available", "held", "amount", "captured", "released", "spend_limit", "low_balance_threshold",
  "max_cost_per_execution", "per_image", "input_per_1m_tokens", "output_per_1m_tokens", "per_second", "per_1m_characters", "per_request"]);
/**
 * The OpenAI- and Anthropic-compatible surfaces answer in their own dialects' shapes, not the
 * envelope: their contract is the official SDKs', tested in test/dialects/.
 */
const COMPATIBLE_SURFACE = /^\/v1\/(chat\/completions|completions|embeddings|images\/(generations|edits|variations)|audio\/(speech|transcriptions|translations)|moderations|rerank|messages|responses|batches)(\/|$)/;
/** OpenAI's multipart upload shares its path with the native file list (docs/decisions.md "OpenAI files beside the native files API"). */
const COMPATIBLE_OPERATIONS = new Set(["POST /v1/files"]);
/** Signed links and provider callbacks: the URL is the credential, so API-key rules do not apply to them. */
const URL_IS_CREDENTIAL = (op: Operation) => op.template === "/v1/files/{file_id}/content" || op.template === "/v1/providers/callbacks/{token}";
/** Inference keys get 403 here (docs/decisions.md "Created keys default to `inference`"). */
const FULL_ONLY = /^\/v1\/(api-keys|webhooks|guardrails|balance\/settings)(\/|$)/;
/**
 * 2xx bodies whose shape the API reference fixes without an `object` field: the polling guide's
 * result, the API reference's upload answer, the download link's `{url, expires_at}` and the catalog document that
 * `PUT /admin/v1/catalog` takes back.
 */
const BARE_SHAPES = new Set(["GET /v1/executions/{id}/result", "POST /v1/files/upload", "GET /v1/files/{file_id}/url", "GET /admin/v1/catalog"]);
/** Lists whose rows are aggregates, not resources: docs/decisions.md fixes usage rows as `{group, executions, …, cost}`. */
const BARE_ROWS = new Set(["GET /v1/usage"]);

/** A valid body for each JSON route (path ids filled in from the fixtures). */
const validBodies: Record<string, () => unknown> = {
  "POST /v1/api-keys": () => ({ name: "contract" }),
  "PATCH /v1/api-keys/{id}": () => ({ name: "contract renamed" }),
  "POST /v1/guardrails": () => ({ name: "contract" }),
  "PATCH /v1/guardrails/{id}": () => ({ name: "contract renamed" }),
  "POST /v1/guardrails/{id}/assignments/keys": () => ({ key_ids: [fx.ids["api-keys"]] }),
  "POST /v1/guardrails/{id}/assignments/keys/remove": () => ({ key_ids: [fx.ids["api-keys"]] }),
  "POST /admin/v1/orgs": () => ({ name: "contract" }),
  "POST /admin/v1/orgs/{id}/keys": () => ({ name: "contract" }),
  "PUT /admin/v1/catalog": () => fx.catalog,
  "POST /v1/executions": () => ({ model: "demo-model", input: { text: "contract" } }),
  "POST /v1/files/upload": () => ({ filename: "a.txt", content_type: "text/plain", size_bytes: 5 }),
  "POST /v1/webhooks/endpoints": () => ({ url: "https://example.com/contract" }),
  "PATCH /v1/webhooks/endpoints/{id}": () => ({ description: "contract" }),
  "PATCH /v1/balance/settings": () => ({ low_balance_threshold: null }),
  "POST /admin/v1/orgs/{id}/credits": () => ({ amount: "0.01" }),
  "PATCH /admin/v1/orgs/{id}/balance/settings": () => ({ low_balance_threshold: null }),
};

let server: TestServer;
let receiver: Receiver;
let operations: Operation[];
/** Real resources, by the path segment that names their collection (`/v1/files/{file_id}` → files). */
const fx = { ids: {} as Record<string, string>, inferenceKey: "", adminOrgId: "", catalog: undefined as unknown, created: [] as Reply[] };

const keyFor = (op: Operation) => (op.template.startsWith("/admin/v1") ? server.adminToken : server.apiKey);
const nameOf = (op: Operation) => `${op.method} ${op.template}`;

async function call(method: string, path: string, opts: { key?: string | null; body?: unknown } = {}): Promise<Reply> {
  const res = await server.request(method, path, { key: opts.key ?? null, body: opts.body });
  const contentType = res.headers.get("content-type") ?? "";
  let body: unknown = null;
  if (contentType.includes("json")) body = await res.json();
  else await res.body?.cancel(); // streams and downloads: only the status and headers matter here
  return { label: `${method} ${path}`, status: res.status, headers: res.headers, body, contentType };
}

async function created(method: string, path: string, key: string, body?: unknown): Promise<any> {
  const reply = await call(method, path, { key, body });
  if (reply.status >= 300) throw new Error(`${reply.label} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  fx.created.push(reply);
  return reply.body;
}

/** The path with each parameter replaced: `override` for the named one, fixtures for the rest. */
function pathOf(op: Operation, override: Record<string, string> = {}): string {
  return op.template.replace(/\{(\w+)\}/g, (_, param: string, offset: number) => {
    if (param in override) return encodeURIComponent(override[param]!);
    const collection = op.template.slice(0, offset - 1).split("/").pop()!;
    const id = fx.ids[collection];
    if (!id) throw new Error(`no fixture for {${param}} in ${op.template}: add one to beforeAll`);
    return id;
  });
}

function bodyOf(op: Operation): unknown {
  if (!op.jsonBody) return undefined;
  const make = validBodies[nameOf(op)];
  if (!make) throw new Error(`no valid body for ${nameOf(op)}: add one to validBodies`);
  return make();
}

const withQuery = (path: string, query: string) => (query ? `${path}${path.includes("?") ? "&" : "?"}${query}` : path);

function envelopeProblems(r: Reply, status: number, code: string): string[] {
  const problems: string[] = [];
  if (r.status !== status) problems.push(`${r.label}: ${r.status} instead of ${status} (${JSON.stringify(r.body?.error?.code ?? r.body)})`);
  const e = r.body?.error;
  if (!e) return [...problems, `${r.label}: no error envelope`];
  if (e.code !== code) problems.push(`${r.label}: code ${e.code} instead of ${code}`);
  if (Object.keys(r.body).join() !== "error" || Object.keys(e).sort().join() !== "code,details,message,request_id,retryable")
    problems.push(`${r.label}: envelope keys ${JSON.stringify(Object.keys(e))}`);
  if (typeof e.message !== "string" || typeof e.retryable !== "boolean" || !Array.isArray(e.details)) problems.push(`${r.label}: envelope field types`);
  if (!e.request_id?.startsWith("req_") || e.request_id !== r.headers.get("x-request-id"))
    problems.push(`${r.label}: request_id ${e.request_id} vs X-Request-Id ${r.headers.get("x-request-id")}`);
  return problems;
}

function rateLimitProblems(r: Reply): string[] {
  const [limit, remaining, reset] = ["limit", "remaining", "reset"].map((h) => r.headers.get(`x-ratelimit-${h}`));
  const nowS = Date.now() / 1000;
  if (!/^\d+$/.test(limit ?? "") || !/^\d+$/.test(remaining ?? "") || !/^\d+$/.test(reset ?? ""))
    return [`${r.label} (${r.status}): X-RateLimit-* missing or not integers (${limit}, ${remaining}, ${reset})`];
  if (Number(reset) < nowS - 1 || Number(reset) > nowS + 61) return [`${r.label}: X-RateLimit-Reset ${reset} is not the end of a 60 s window`];
  return [];
}

/** Times, money and `object` fields of a 2xx JSON body, at any depth. */
function shapeProblems(r: Reply, op: Operation): string[] {
  const problems: string[] = [];
  const isModels = op.template.startsWith("/v1/models");
  const walk = (value: unknown, path: string, key: string, parent: Record<string, unknown> | null) => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}[${i}]`, key, parent));
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, k, value as Record<string, unknown>);
      return;
    }
    if (value === null) return;
    if (key.endsWith("_at") || key === "from" || key === "to" || (key === "created" && !isModels)) {
      if (typeof value !== "string" || !ISO_UTC.test(value)) problems.push(`${r.label}: ${path} = ${JSON.stringify(value)} is not an ISO-8601 UTC time`);
    } else if (key === "created" && isModels && typeof value !== "number") problems.push(`${r.label}: ${path} should be unix seconds`);
    const money = MONEY_KEYS.has(key) || (key === "total" && parent?.object === "balance");
    if (money && (typeof value !== "string" || !MONEY.test(value))) problems.push(`${r.label}: ${path} = ${JSON.stringify(value)} is not a money string`);
  };
  walk(r.body, "", "", null);
  const items = r.body?.object === "list" ? r.body.data : [r.body];
  if (r.body?.object === "list" && (!Array.isArray(r.body.data) || typeof r.body.has_more !== "boolean")) problems.push(`${r.label}: list without data/has_more`);
  if (!BARE_SHAPES.has(nameOf(op)) && !(r.body?.object === "list" && BARE_ROWS.has(nameOf(op))))
    for (const [i, item] of items.entries())
      if (!item || typeof item.object !== "string") problems.push(`${r.label}: ${r.body?.object === "list" ? `data[${i}]` : "body"} has no \`object\``);
  return problems;
}

beforeAll(async () => {
  receiver = startReceiver();
  server = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true", MODELROUTE_RATE_LIMIT_RPM: "100000" } });
  const spec = await (await fetch(`${server.url}/openapi.json`)).json();
  operations = Object.entries(spec.paths as Record<string, Record<string, any>>)
    .filter(([template]) => /^\/(v1|admin\/v1)\//.test(template) && !COMPATIBLE_SURFACE.test(template))
    .flatMap(([template, ops]) =>
      Object.entries(ops).map(([method, o]) => ({
        method: method.toUpperCase(),
        template,
        params: [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!),
        query: (o.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name),
        jsonBody: !!o.requestBody?.content?.["application/json"],
      })),
    )
    .filter((op) => !COMPATIBLE_OPERATIONS.has(nameOf(op)));

  const key = server.apiKey;
  const admin = server.adminToken;
  const execution = await created("POST", "/v1/executions", key, { model: "mock-image", input: { prompt: "fox", width: 64, height: 64 }, mode: "SYNC" });
  const inference = await created("POST", "/v1/api-keys", key, { name: "inference", permission: "inference", limits: { spend_limit: "5.00", spend_limit_reset: "daily" } });
  const guardrail = await created("POST", "/v1/guardrails", key, { name: "contract", max_cost_per_execution: "1.00" });
  const endpoint = await created("POST", "/v1/webhooks/endpoints", key, { url: `${receiver.url}/hook` });
  const delivery = await created("POST", `/v1/webhooks/endpoints/${endpoint.id}/test`, key);
  const org = await created("POST", "/admin/v1/orgs", admin, { name: "contract" });
  const orgKey = await created("POST", `/admin/v1/orgs/${org.id}/keys`, admin, { name: "contract" });
  await created("POST", `/admin/v1/orgs/${org.id}/credits`, admin, { amount: "1.00" });
  fx.catalog = (await call("GET", "/admin/v1/catalog", { key: admin })).body;
  fx.inferenceKey = inference.key;
  fx.ids = {
    models: "mock-chat", executions: execution.id, files: execution.output.images[0].file_id, "api-keys": inference.id,
    guardrails: guardrail.id, endpoints: endpoint.id, deliveries: delivery.id, orgs: org.id, keys: orgKey.id,
  };
});
afterAll(async () => {
  await server?.stop();
  receiver?.stop();
});

describe("every /v1 and /admin/v1 operation", () => {
  const apiOps = () => operations.filter((op) => !URL_IS_CREDENTIAL(op));

  test("the route table is non-trivial and every JSON-body route has a valid body here", () => {
    expect(operations.length).toBeGreaterThan(50);
    expect(apiOps().filter((op) => op.jsonBody && !validBodies[nameOf(op)]).map(nameOf)).toEqual([]);
  });

  test("without valid credentials: 401 envelope, before any validation, and no X-RateLimit-* headers", async () => {
    const replies = await Promise.all(
      apiOps().flatMap((op) => {
        const path = withQuery(pathOf(op, Object.fromEntries(op.params.map((p) => [p, MALFORMED_IDS[0]!]))), op.query.includes("limit") ? "limit=101" : "");
        const body = op.jsonBody ? { [UNKNOWN_FIELD]: true } : undefined; // everything else wrong too: 401 must win
        // A checksum one digit off (never the real one: a key ending in 0 gets a 1).
        const wrongKey = op.template.startsWith("/admin/v1") ? server.apiKey : `${server.apiKey.slice(0, -1)}${server.apiKey.endsWith("0") ? "1" : "0"}`;
        return [call(op.method, path, { body }), call(op.method, path, { body, key: wrongKey })];
      }),
    );
    const problems = replies.flatMap((r) => [
      ...envelopeProblems(r, 401, "UNAUTHORIZED"),
      ...(r.headers.has("x-ratelimit-limit") || r.headers.has("x-ratelimit-remaining") ? [`${r.label}: X-RateLimit-* on a 401`] : []),
    ]);
    expect(problems).toEqual([]);
  });

  test("a malformed id in any path parameter is a 404 NOT_FOUND envelope", async () => {
    const replies = await Promise.all(
      apiOps().flatMap((op) =>
        op.params.flatMap((param) => MALFORMED_IDS.map((id) => call(op.method, pathOf(op, { [param]: id }), { key: keyFor(op), body: bodyOf(op) }))),
      ),
    );
    expect(replies.length).toBeGreaterThan(20);
    const problems = replies.flatMap((r) => [...envelopeProblems(r, 404, "NOT_FOUND"), ...(r.label.includes("/admin/v1/") ? [] : rateLimitProblems(r))]);
    expect(problems).toEqual([]);
  });

  test("an inference key gets 403 FORBIDDEN on keys, webhooks, guardrails and settings, and is let through elsewhere", async () => {
    const v1 = apiOps().filter((op) => op.template.startsWith("/v1/"));
    const replies = await Promise.all(
      v1.map(async (op) => {
        // Malformed ids: an allowed route then answers 404, and nothing is changed.
        const path = pathOf(op, Object.fromEntries(op.params.map((p) => [p, MALFORMED_IDS[0]!])));
        return { op, reply: await call(op.method, path, { key: fx.inferenceKey, body: bodyOf(op) }) };
      }),
    );
    expect(replies.filter(({ op }) => FULL_ONLY.test(op.template)).length).toBeGreaterThan(15);
    const problems = replies.flatMap(({ op, reply }) => [
      ...(FULL_ONLY.test(op.template)
        ? envelopeProblems(reply, 403, "FORBIDDEN")
        : reply.status === 401 || reply.status === 403
          ? [`${reply.label}: ${reply.status} for an inference key`]
          : []),
      ...rateLimitProblems(reply),
    ]);
    expect(problems).toEqual([]);
  });

  test("a JSON body with an unknown top-level field is 400 unknown_field naming it", async () => {
    const replies = await Promise.all(
      apiOps()
        .filter((op) => op.jsonBody)
        .map((op) => call(op.method, pathOf(op), { key: keyFor(op), body: { ...(bodyOf(op) as object), [UNKNOWN_FIELD]: true } })),
    );
    const problems = replies.flatMap((r) => {
      const found = r.body?.error?.details?.some((d: any) => d.field === UNKNOWN_FIELD && d.code === "unknown_field");
      return [
        ...envelopeProblems(r, 400, "INPUT_VALIDATION_ERROR"),
        ...(found ? [] : [`${r.label}: details do not name ${UNKNOWN_FIELD} as unknown_field`]),
        ...(r.label.includes("/admin/v1/") ? [] : rateLimitProblems(r)),
      ];
    });
    expect(problems).toEqual([]);
  });

  test("list routes answer {object:list,data,has_more} and refuse limit=101 naming `limit`", async () => {
    const lists = apiOps().filter((op) => op.method === "GET" && op.query.includes("limit"));
    expect(lists.length).toBeGreaterThan(10);
    const replies = await Promise.all(
      lists.map(async (op) => {
        const path = pathOf(op);
        const [page, tooBig] = await Promise.all([call("GET", withQuery(path, "limit=2"), { key: keyFor(op) }), call("GET", withQuery(path, "limit=101"), { key: keyFor(op) })]);
        return { op, page, tooBig };
      }),
    );
    const problems = replies.flatMap(({ op, page, tooBig }) => [
      ...(page.status === 200 && page.body?.object === "list" && Array.isArray(page.body.data) && typeof page.body.has_more === "boolean" && page.body.data.length <= 2
        ? shapeProblems(page, op)
        : [`${page.label}: ${page.status} ${JSON.stringify(page.body).slice(0, 120)}`]),
      ...envelopeProblems(tooBig, 400, "INPUT_VALIDATION_ERROR"),
      ...(tooBig.body?.error?.details?.[0]?.field === "limit" ? [] : [`${tooBig.label}: details do not name limit`]),
      ...(op.template.startsWith("/v1/") ? [...rateLimitProblems(page), ...rateLimitProblems(tooBig)] : []),
    ]);
    expect(problems).toEqual([]);
  });

  test("single resources carry `object`; times are ISO-8601 UTC; money is a decimal string", async () => {
    const reads = await Promise.all(apiOps().filter((op) => op.method === "GET").map(async (op) => ({ op, reply: await call("GET", pathOf(op), { key: keyFor(op) }) })));
    const problems = reads.flatMap(({ op, reply }) => [
      ...(reply.status === 200 ? [] : [`${reply.label}: ${reply.status} with real ids`]),
      ...(reply.contentType.includes("json") ? shapeProblems(reply, op) : []),
      ...(op.template.startsWith("/v1/") ? rateLimitProblems(reply) : []),
    ]);
    // What the fixtures' creates answered is held to the same rules.
    const createOps = new Map(operations.map((op) => [nameOf(op), op]));
    for (const reply of fx.created) {
      const template = reply.label.replace(/(\/(?:orgs|endpoints))\/[^/]+/g, (_, p) => `${p}/{id}`);
      problems.push(...shapeProblems(reply, createOps.get(template) ?? { method: "POST", template, params: [], query: [], jsonBody: true }));
    }
    expect(problems).toEqual([]);
  });

  test("DELETE answers 200 {id, object, deleted:true} and the resource is gone", async () => {
    const key = server.apiKey;
    const fresh: Record<string, () => Promise<{ path: string; object: string; id: string }>> = {
      "/v1/api-keys/{id}": async () => ({ ...(await created("POST", "/v1/api-keys", key, { name: "doomed" })), path: "/v1/api-keys" }),
      "/v1/guardrails/{id}": async () => ({ ...(await created("POST", "/v1/guardrails", key, { name: "doomed" })), path: "/v1/guardrails" }),
      "/v1/webhooks/endpoints/{id}": async () => ({ ...(await created("POST", "/v1/webhooks/endpoints", key, { url: "https://example.com/doomed" })), path: "/v1/webhooks/endpoints" }),
      "/v1/files/{file_id}": async () => {
        const run = await created("POST", "/v1/executions", key, { model: "mock-image", input: { prompt: "doomed", width: 64, height: 64 }, mode: "SYNC" });
        return { id: run.output.images[0].file_id, object: "file", path: "/v1/files" };
      },
      "/admin/v1/orgs/{id}/keys/{keyId}": async () => ({
        ...(await created("POST", `/admin/v1/orgs/${fx.ids.orgs}/keys`, server.adminToken, { name: "doomed" })),
        path: `/admin/v1/orgs/${fx.ids.orgs}/keys`,
      }),
    };
    const deletes = operations.filter((op) => op.method === "DELETE");
    expect(deletes.filter((op) => !fresh[op.template]).map(nameOf)).toEqual([]);
    const problems = (
      await Promise.all(
        deletes.map(async (op) => {
          const target = await fresh[op.template]!();
          const reply = await call("DELETE", `${target.path}/${target.id}`, { key: keyFor(op) });
          const out: string[] = [];
          if (reply.status !== 200 || !Bun.deepEquals(reply.body, { id: target.id, object: target.object, deleted: true }))
            out.push(`${reply.label}: ${reply.status} ${JSON.stringify(reply.body)}`);
          const again = await call("DELETE", `${target.path}/${target.id}`, { key: keyFor(op) });
          if (again.status !== 404 && !(again.status === 200 && again.body?.deleted)) out.push(`${again.label} again: ${again.status}`);
          return out;
        }),
      )
    ).flat();
    expect(problems).toEqual([]);
  });
});

test("signed file links refuse a missing signature with 403 FORBIDDEN and no rate-limit headers", async () => {
  const path = `/v1/files/${fx.ids.files}/content`;
  const replies = await Promise.all([call("GET", path), call("GET", `${path}?expires=1&signature=00`, { key: server.apiKey }), call("PUT", path, { body: "x" })]);
  const problems = replies.flatMap((r) => [
    ...envelopeProblems(r, 403, "FORBIDDEN"),
    ...(r.headers.has("x-ratelimit-limit") ? [`${r.label}: X-RateLimit-* on a signed link`] : []),
  ]);
  expect(problems).toEqual([]);
});

test("with an API key and no link, /content is OpenAI's files.content, as its curl examples send it", async () => {
  const res = await server.request("GET", `/v1/files/${fx.ids.files}/content`, { key: server.apiKey });
  expect(res.status).toBe(200);
  expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
  const foreign = await server.request("GET", `/v1/files/${fx.ids.files}/content`, { key: "sk_live_not_a_key" });
  expect(foreign.status).toBe(401);
});

test("validation messages list an enum's values and read as one sentence", async () => {
  const key = server.apiKey;
  const [mode, prompt] = await Promise.all([
    call("POST", "/v1/executions", { key, body: { model: "demo-model", input: { text: "x" }, mode: "FAST" } }),
    call("POST", "/v1/executions", { key, body: { model: "mock-image", input: { prompt: "a".repeat(4001) } } }),
  ]);
  expect(mode.body.error.details).toEqual([{ field: "mode", code: "invalid_format", message: 'Must be one of: "ASYNC", "SYNC", "STREAMING".' }]);
  expect(prompt.body.error.details).toEqual([{ field: "input.prompt", code: "too_long", message: "Must NOT have more than 4000 characters." }]);
});
