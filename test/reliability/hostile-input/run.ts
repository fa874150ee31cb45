/**
 * The fuzz run against a real server process: setup (resources the valid requests name), the
 * requests (a pool of concurrent senders, fetch or a raw socket), the judgement of each answer,
 * a health probe on its own thread and RSS samples, and the summary per surface.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodePng } from "../../../src/providers/mock/png";
import { encodeWav } from "../../../src/providers/wav";
import { databaseForDataDir, suiteOnPostgres } from "../../helpers/postgres";
import { spawnServer, type ServerProcess } from "../../helpers/process";
import { rawRequest } from "../../helpers/raw-http";
import { generate, type FuzzContext, type FuzzRequest } from "./generate";
import { rngFor } from "./prng";
import { rawCase, type RawCase } from "./raw-cases";
import { isUnmatched, leakIn, shapeProblem } from "./shapes";
import { operationsOf, type OpenApi, type Operation, type Shape } from "./spec";

export type Fuzzed = {
  server: ServerProcess;
  dataDir: string;
  ctx: FuzzContext;
  ops: Operation[];
  /** Lines the server wrote to stdout and stderr. */
  output: string[];
  stop(): Promise<void>;
};

/** Every line the process writes, read as it comes: an unread pipe would fill and stall the server. */
function drain(stream: ReadableStream<Uint8Array>, into: string[]) {
  void (async () => {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop()!;
      for (const line of lines) if (into.length < 5_000) into.push(line.slice(0, 2_000));
    }
  })();
}

async function call(url: string, method: string, path: string, token: string, body?: unknown, header = "authorization") {
  const headers: Record<string, string> = { [header]: header === "authorization" ? `Bearer ${token}` : token };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`setup: ${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, any>;
}

/** A server process on a fresh data dir (on PostgreSQL in a PostgreSQL run), prepared for the run. */
export async function startFuzzed(): Promise<Fuzzed> {
  const dataDir = mkdtempSync(join(tmpdir(), "modelroute-fuzz-"));
  if (suiteOnPostgres()) await databaseForDataDir(dataDir);
  const server = await spawnServer(dataDir, { MODELROUTE_RATE_LIMIT_RPM: "0" });
  const output: string[] = [];
  drain(server.proc.stdout as ReadableStream<Uint8Array>, output);
  drain(server.proc.stderr as ReadableStream<Uint8Array>, output);
  const { ctx, ops } = await prepare(server.url, JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")));
  return {
    server, dataDir, ctx, ops, output,
    async stop() {
      server.proc.kill("SIGTERM");
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The operations of the server's /openapi.json, and what setup made for the valid requests. */
export async function prepare(url: string, bootstrap: { api_key: string; admin_token: string; org_id: string }): Promise<{ ctx: FuzzContext; ops: Operation[] }> {
  const { api_key: apiKey, admin_token: adminToken, org_id: orgId } = bootstrap;
  const ops = operationsOf((await (await fetch(`${url}/openapi.json`)).json()) as OpenApi);

  // Credit enough that valid executions never run out; a second org, and keys, guardrails,
  // endpoints, files, responses and batches in pairs: one for the operations that read and change
  // them, one for those that delete or rotate them.
  await call(url, "POST", `/admin/v1/orgs/${orgId}/credits`, adminToken, { amount: "100000.00" });
  const victimOrg = await call(url, "POST", "/admin/v1/orgs", adminToken, { name: "fuzz-victim" });
  const victimOrgKey = await call(url, "POST", `/admin/v1/orgs/${victimOrg.id}/keys`, adminToken, { name: "victim" });
  const both = async (make: (n: number) => Promise<Record<string, any>>) => [await make(1), await make(2)] as const;
  const [key, keyGone] = await both((n) => call(url, "POST", "/v1/api-keys", apiKey, { name: `fuzz-key-${n}` }));
  const [guardrail, guardrailGone] = await both((n) => call(url, "POST", "/v1/guardrails", apiKey, { name: `fuzz-guardrail-${n}` }));
  const [endpoint, endpointGone] = await both(() => call(url, "POST", "/v1/webhooks/endpoints", apiKey, { url: "https://example.invalid/hook" }));
  const [response, responseGone] = await both(() => call(url, "POST", "/v1/responses", apiKey, { model: "mock-chat", input: "hi" }));
  const [file, fileGone] = await both(async () => {
    const upload = await call(url, "POST", "/v1/files/upload", apiKey, { filename: "a.txt", content_type: "text/plain", size_bytes: 5 });
    await fetch(upload.upload_url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } });
    return upload;
  });
  const messagesBatch = { requests: [{ custom_id: "r1", params: { model: "mock-chat", max_tokens: 16, messages: [{ role: "user", content: "hi" }] } }] };
  const [msgBatch, msgBatchGone] = await both(() => call(url, "POST", "/v1/messages/batches", apiKey, messagesBatch));
  const form = new FormData();
  form.set("purpose", "batch");
  const line = { custom_id: "r1", method: "POST", url: "/v1/chat/completions", body: { model: "mock-chat", messages: [{ role: "user", content: "hi" }] } };
  form.set("file", new File([`${JSON.stringify(line)}\n`], "batch.jsonl", { type: "application/jsonl" }));
  const batchFile = (await (await fetch(`${url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${apiKey}` }, body: form })).json()) as { id: string };
  const batch = await call(url, "POST", "/v1/batches", apiKey, { input_file_id: batchFile.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
  const execution = await call(url, "POST", "/v1/executions", apiKey, { model: "mock-chat", input: { messages: [{ role: "user", content: "hi" }] }, mode: "SYNC" });
  const aimp = (body: unknown) => call(url, "POST", "/api/runs", apiKey, body, "x-api-key");
  const run = await aimp({ model: "demo-model", input: { text: "Hello" } });
  await aimp({ model: "mock-embed", mode: "index", scope: "playground", input: { text: "a fox", id: "item-1" } });
  await aimp({ model: "mock-embed", mode: "index", scope: "playground", input: { text: "a hen", id: "item-2" } });
  await aimp({ model: "mock-embed", mode: "index", scope: "scratch", input: { text: "a cat", id: "item-1" } });
  const hashes = (await call(url, "GET", "/api/v1/keys", apiKey)).data as { name: string; hash: string }[];
  const hashOf = (name: string) => hashes.find((k) => k.name === name)?.hash ?? "nohash";
  const owner = String((await call(url, "GET", "/v1/models/mock-chat", apiKey)).owned_by ?? "modelroute");

  const ids: Record<string, string> = {
    "#id": "fuzz-id",
    "#keyId": victimOrgKey.id,
    "#file_id": file.file_id,
    "DELETE /v1/files/{file_id}#file_id": fileGone.file_id,
    "#hash": hashOf("fuzz-key-1"),
    "DELETE /api/v1/keys/{hash}#hash": hashOf("fuzz-key-2"),
    "#author": owner,
    "#slug": "mock-chat",
    "/api/marketplace/models/{slug}#slug": "demo-model",
    "#model": "mock-chat",
    "#scope": "playground",
    "DELETE /api/knowledge-bases/{model}/{scope}#scope": "scratch",
    "#item_id": "item-1",
    "DELETE /api/knowledge-bases/{model}/{scope}/items/{item_id}#item_id": "item-2",
    "#action": "generateContent",
    "#batch_id": batch.id,
    "/v1/api-keys/{id}/rotate#id": keyGone.id,
  };
  const byPrefix: [string, string, string, string?][] = [
    ["/v1/api-keys/{id}", "id", key.id, keyGone.id],
    ["/v1/guardrails/{id}", "id", guardrail.id, guardrailGone.id],
    ["/v1/webhooks/endpoints/{id}", "id", endpoint.id, endpointGone.id],
    ["/v1/responses/{id}", "id", response.id, responseGone.id],
    ["/api/v1/responses/{id}", "id", response.id, responseGone.id],
    ["/v1/messages/batches/{batch_id}", "batch_id", msgBatch.id, msgBatchGone.id],
    ["/v1/executions/{id}", "id", execution.id],
    ["/api/runs/{id}", "id", run.id],
    ["/admin/v1/orgs/{id}", "id", victimOrg.id],
    ["/api/knowledge-bases/{model}", "model", "mock-embed"],
  ];
  for (const op of ops)
    for (const [prefix, name, keep, gone] of byPrefix) {
      if (!op.path.startsWith(prefix)) continue;
      const destroys = gone !== undefined && op.method === "DELETE" && op.path === prefix;
      ids[`${destroys ? "DELETE " : ""}${op.path}#${name}`] ??= destroys ? gone : keep;
    }
  const query: Record<string, [string, string][]> = { "GET /api/v1/generation": [["id", execution.id]] };
  const replace = {
    "key_01a22bba-60e0-7d2e-9f3b-2a6c4e8b1d07": key.id, // the guardrail assignments' example
    "file_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d00": batchFile.id, // the batches' example
  };
  const png = encodePng(2, 2, 4, new Uint8Array(16).fill(200));
  const wav = encodeWav(new Int16Array(800), 8000);
  return { ctx: { apiKey, adminToken, ids, query, replace, png, wav }, ops };
}

// ---------------------------------------------------------------------------------------------

export type Answer = { status: number; contentType: string; text: string; error?: string };

const REQUEST_TIMEOUT_MS = 20_000;

async function sendFetch(url: string, req: FuzzRequest): Promise<Answer> {
  try {
    const res = await fetch(url + req.target, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
      decompress: false,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    } as RequestInit);
    const text = new TextDecoder().decode(await res.arrayBuffer());
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", text };
  } catch (error) {
    return { status: 0, contentType: "", text: "", error: String(error) };
  }
}

function rawBytes(port: number, req: FuzzRequest): Uint8Array {
  const lines = [`${req.method} ${req.target} HTTP/${req.httpVersion}`];
  if (!req.noHost && !req.headers.some(([n]) => n.toLowerCase() === "host")) lines.push(`Host: 127.0.0.1:${port}`);
  for (const [n, v] of req.headers) lines.push(`${n}: ${v}`);
  const framed = req.headers.some(([n]) => ["content-length", "transfer-encoding"].includes(n.toLowerCase()));
  let body: Uint8Array = req.body ?? new Uint8Array(0);
  if (!framed && req.body && req.chunked) {
    lines.push("Transfer-Encoding: chunked");
    const chunks: Uint8Array[] = [];
    for (let at = 0; at < body.byteLength; at += 65_536) {
      const piece = body.subarray(at, at + 65_536);
      chunks.push(Buffer.from(`${piece.byteLength.toString(16)}\r\n`), piece, Buffer.from("\r\n"));
    }
    chunks.push(Buffer.from("0\r\n\r\n"));
    body = Buffer.concat(chunks);
  } else if (!framed && (req.body || ["POST", "PUT", "PATCH"].includes(req.method))) lines.push(`Content-Length: ${body.byteLength}`);
  lines.push("Connection: close");
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), body]);
}

async function sendRaw(port: number, bytes: Uint8Array, timeoutMs: number): Promise<Answer> {
  try {
    const res = await rawRequest(port, bytes, timeoutMs);
    if (res.status === 0) return { status: 0, contentType: "", text: "", error: res.closed ? "closed without an answer" : `no answer in ${timeoutMs} ms` };
    return { status: res.status, contentType: /^content-type:\s*(.*)$/im.exec(res.head)?.[1] ?? "", text: res.body };
  } catch (error) {
    return { status: 0, contentType: "", text: "", error: String(error) };
  }
}

// ---------------------------------------------------------------------------------------------

/** Why an answer to a generated request is wrong, or null. */
function judge(req: FuzzRequest, answer: Answer, dataDir: string): string | null {
  if (answer.error) return `no answer: ${answer.error}`;
  const leak = leakIn(answer.text, dataDir);
  if (leak) return `the body leaks ${leak}`;
  const { status } = answer;
  // OpenRouter's provider preferences that no route meets are a 503 by design (docs/compatibility.md
  // "Nothing qualifies"), 529 in Anthropic's shape on its Messages.
  if ((status === 503 || status === 529) && req.op.surface === "openrouter" && answer.text.includes("meet the request's provider preferences")) return null;
  // A request line Bun cannot read (a NUL or a space in the target) is a 505 it sends itself.
  if (status === 505 && answer.text === "" && !/^[\x21-\x7e]*$/.test(req.target)) return null;
  if (status >= 500) return `status ${status}`;
  if (status < 300) return null;
  if (status < 400) return req.op.path === "/" ? null : `status ${status}`;
  if (answer.text === "") {
    // Bun's parser answers these itself, without a body (docs/operations.md "Answers without a
    // body"); HEAD has none either.
    if (req.method === "HEAD" || status === 431 || (status === 400 && req.transport === "raw")) return null;
    return `a ${status} without a body`;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `a ${status} whose body is not JSON: ${JSON.stringify(answer.text.slice(0, 120))}`;
  }
  if (isUnmatched(status, body)) return null;
  // Another method on a files path is not OpenAI's upload: either shape (docs/decisions.md).
  const shapes: Shape[] = req.method !== req.op.method && req.op.path.startsWith("/v1/files") ? ["envelope", "openai"] : req.op.shapes;
  const problems = shapes.map((shape) => shapeProblem(shape, status, body));
  if (problems.includes(null)) return null;
  return `a ${status} not in the ${shapes.join(" or ")} shape (${problems[0]}): ${answer.text.slice(0, 200)}`;
}

/** Why an answer to raw garbage is wrong, or null: Bun's bare answer, the envelope, or waiting for more bytes. */
function judgeRaw(c: RawCase, answer: Answer, dataDir: string): string | null {
  if (answer.error) return answer.error.startsWith("no answer in") || answer.error.startsWith("closed") || /ECONNRESET|EPIPE/.test(answer.error) ? null : answer.error;
  const leak = leakIn(answer.text, dataDir);
  if (leak) return `the body leaks ${leak}`;
  // Bun reads what follows the target as the version: a garbled request line is its bare 505.
  if (answer.status === 505 && answer.text === "") return null;
  if (answer.status >= 500) return `status ${answer.status}`;
  if (answer.text === "" || answer.status < 400) return null;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return `a ${answer.status} whose body is not JSON`;
  }
  const shapes: Shape[] = ["envelope", "openai", "anthropic", "gemini", "ollama", "openrouter"];
  return shapes.some((s) => shapeProblem(s, answer.status, body) === null) ? null : `a ${answer.status} in no known error shape`;
}

// ---------------------------------------------------------------------------------------------

export type Outcome = { index: number; surface: string; kind: string; status: number | string; valid: boolean; problem: string | null; describe: string; ms: number; at: number };

export type RunReport = {
  seed: number;
  outcomes: Outcome[];
  elapsedMs: number;
  probe: { count: number; p50: number; p99: number; max: number; failures: string[]; samples: { ms: number; at: number }[] };
  /** The server's RSS: cold, once warmed up (after the first `warmup` answers), after the run and a second idle, and the highest sample. */
  rss: { beforeMb: number; warmMb: number; afterMb: number; peakMb: number };
};

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

/** Raw garbage takes this many slots of each round over the operations. */
const RAW_SLOTS = 4;

/** Request `index` of the run (an operation's request, or a raw-socket case), described for a report. */
export function requestAt(f: Fuzzed, seed: number, index: number): { kind: "op"; req: FuzzRequest } | { kind: "raw"; raw: RawCase } {
  const round = f.ops.length + RAW_SLOTS;
  const slot = index % round;
  if (slot >= f.ops.length) return { kind: "raw", raw: rawCase(rngFor(seed, index), f.ctx.apiKey) };
  const n = Math.floor(index / round) * f.ops.length + slot;
  return { kind: "op", req: generate(f.ops, f.ctx, seed, n) };
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
};

export async function runFuzz(f: Fuzzed, opts: { seed: number; count: number; only?: number[]; concurrency?: number }): Promise<RunReport> {
  const { server } = f;
  const indexes = opts.only ?? Array.from({ length: opts.count }, (_, i) => i);
  const outcomes: Outcome[] = [];

  const probe = new Worker(new URL("./probe-worker.ts", import.meta.url).href);
  const probed = new Promise<{ times: number[]; starts: number[]; failures: string[] }>((resolve) => (probe.onmessage = (e) => resolve(e.data)));
  probe.postMessage({ start: server.url });

  // The first requests grow the heap and the allocator's pages to their working size (JIT, caches,
  // the first multi-MiB bodies); growth is counted from there, so that it measures what stays.
  const pid = server.proc.pid;
  const beforeMb = rssMb(pid);
  const warmup = Math.min(500, Math.floor(indexes.length / 10));
  let warmMb = 0;
  let peakMb = beforeMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMb(pid))), 250);

  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < indexes.length) {
      if (next === warmup && warmMb === 0) warmMb = rssMb(pid);
      const index = indexes[next++]!;
      const made = requestAt(f, opts.seed, index);
      const sent = performance.now();
      if (made.kind === "raw") {
        const answer = await sendRaw(server.port, made.raw.bytes, 1_500);
        outcomes.push({ index, surface: "raw HTTP", kind: made.raw.name, status: answer.status || "no answer", valid: false, problem: judgeRaw(made.raw, answer, f.dataDir), describe: `raw: ${made.raw.name}`, ms: performance.now() - sent, at: performance.timeOrigin + sent });
        continue;
      }
      const req = made.req;
      const answer = req.transport === "raw" ? await sendRaw(server.port, rawBytes(server.port, req), REQUEST_TIMEOUT_MS) : await sendFetch(server.url, req);
      outcomes.push({
        index, surface: req.op.surface, kind: req.kind, status: answer.status || "no answer", valid: req.valid, problem: judge(req, answer, f.dataDir),
        describe: `${req.method} ${req.target.slice(0, 120)} [${req.kind}: ${req.detail}; auth ${req.auth}; ${req.transport}]`,
        ms: performance.now() - sent,
        at: performance.timeOrigin + sent,
      });
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 4 }, worker));
  const elapsedMs = performance.now() - started;

  clearInterval(sampler);
  probe.postMessage({ stop: true });
  const { times, starts, failures } = await probed;
  probe.terminate();
  await Bun.sleep(1_000); // idle: the server's collector and allocator give back what they can
  const afterMb = rssMb(pid);
  outcomes.sort((a, b) => a.index - b.index);
  return {
    seed: opts.seed, outcomes, elapsedMs,
    probe: { count: times.length, p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(0, ...times), failures, samples: times.map((ms, i) => ({ ms, at: starts[i]! })) },
    rss: { beforeMb, warmMb: warmMb || beforeMb, afterMb, peakMb: Math.max(peakMb, afterMb) },
  };
}

// ---------------------------------------------------------------------------------------------

const SURFACE_ORDER = ["native", "admin", "ops", "openai", "anthropic", "gemini", "ollama", "openrouter", "aimp", "raw HTTP"];

/** One row per surface: requests, the statuses seen (count each), 2xx answers and how many of them were to a valid request. */
export function summaryTable(outcomes: Outcome[]): string {
  const rows = ["| surface | requests | statuses seen | 2xx (to a valid request) | failures |", "|---|---|---|---|---|"];
  const surfaces = [...new Set(outcomes.map((o) => o.surface))].sort((a, b) => SURFACE_ORDER.indexOf(a) - SURFACE_ORDER.indexOf(b));
  const all = [...surfaces, "all"];
  for (const surface of all) {
    const mine = outcomes.filter((o) => surface === "all" || o.surface === surface);
    const statuses = new Map<string, number>();
    for (const o of mine) statuses.set(String(o.status), (statuses.get(String(o.status)) ?? 0) + 1);
    const seen = [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(" ");
    const ok = mine.filter((o) => typeof o.status === "number" && o.status < 300);
    const label = surface === "all" ? "**all**" : surface;
    rows.push(`| ${label} | ${mine.length} | ${seen} | ${ok.length} (${ok.filter((o) => o.valid).length}) | ${mine.filter((o) => o.problem).length} |`);
  }
  return rows.join("\n");
}
