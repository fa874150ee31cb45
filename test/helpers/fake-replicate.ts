/**
 * A fake Replicate API (hosted predictions) for tests: a real HTTP server (node:http) on 127.0.0.1,
 * random free port, speaking Replicate's HTTP API as the gateway's `replicate` adapter uses it:
 * predictions created, polled and canceled, Standard Webhooks-signed callbacks, output files that
 * expire. Written from Replicate's public HTTP API and webhook docs, not from the gateway's adapter.
 *
 *   const rep = await startFakeReplicate({ tokens: ["r8_ok"], fileTtlMs: 200 }); // all optional
 *   rep.url                   // "http://127.0.0.1:<port>" (the API is under /v1; files under /files)
 *   rep.apiUrl                // "http://127.0.0.1:<port>/v1" (what a provider's base_url would be)
 *   rep.next({ badSignature: true }, { status: 500 });
 *   rep.always({ delayMs: 50 }); rep.always(null);
 *   rep.requests              // [{ method, path, headers (lower-case names), body }] in arrival order
 *   rep.predictions           // Map<id, ReplicatePrediction>: the live objects (their current state)
 *   rep.webhooks              // every webhook delivery attempt, with the headers sent
 *   rep.addFile("a.wav", bytes, "audio/wav")  // serve GET /files/a.wav (expires like outputs); returns its URL
 *   await rep.stop();         // closes the server, ends running predictions silently, aborts webhooks
 *
 * Endpoints (JSON; errors are problem details `{ title, detail, status }`)
 *   POST /v1/predictions                        { version, input, webhook?, webhook_events_filter? }; `version`
 *                                               is a version id or "owner/name:version" (then `model` is
 *                                               owner/name; else "fake-owner/fake-model"). 422 without it.
 *   POST /v1/models/{owner}/{name}/predictions  { input, webhook?, ... } (`version: "hidden"`)
 *   POST /v1/deployments/{owner}/{name}/predictions  the same
 *     -> 201 { id, model, version, input, logs: "", output: null, data_removed: false, error: null,
 *        status: "starting", created_at, urls: { get, cancel, web }, metrics: {}, source: "api" }. No
 *        `urls.stream` (no SSE). `Prefer: wait` / `Prefer: wait=N` (N 1..60, default 60) holds the 201 until
 *        the prediction has finished or N s have passed, and answers its state then. 422 when `input` is
 *        not an object, or (default model) `input.prompt` is not a string.
 *   GET  /v1/predictions/{id}                   the current state; 404 unknown. Finished: `status` succeeded
 *                                               (with `output`), failed (with `error`) or canceled; plus
 *                                               `started_at`, `completed_at`, `metrics: { predict_time, total_time }`.
 *   GET  /v1/predictions                        { previous: null, next: null, results: [...] } newest first
 *   POST /v1/predictions/{id}/cancel            cancels a running one (status canceled, a `completed`
 *                                               webhook); answers the prediction (also when already finished)
 *   GET  /files/<name>                          output files (never faulted nor authenticated): 200 with the
 *                                               bytes and content type until `fileTtlMs` (default one hour, as
 *                                               on replicate.delivery) after they were made; then 404.
 *   Auth: with `opts.tokens`, every /v1 request needs `Authorization: Bearer <token>` (or `Token <token>`)
 *   of that list, else 401 {"title":"Unauthenticated","detail":"You did not pass a valid authentication token","status":401}.
 *
 * Lifecycle: starting -> processing (`started_at`, `start` webhook) -> succeeded | failed | canceled.
 *   Default model (no `opts.run`): runs 20 ms and succeeds with `output: ["<url>/files/<id>-0.png"]`, a
 *   1x1 PNG made at completion. `opts.run(input, { id, file })` returns (sync or async) a ReplicateRun:
 *   `output` (any JSON), `ms` (default 20), `error` (fail with it), `steps` (intermediate outputs, each
 *   set in turn with an `output` webhook, spread over `ms`; the final output defaults to the last) and
 *   `logs` (lines appended to `logs` at start, a `logs` webhook each). `file(name, bytes?, type?)` makes
 *   a file (default the PNG) and returns its URL. A `run` that throws fails the prediction.
 *
 * Webhooks: when `webhook` is given, POST the prediction JSON on the events of `webhook_events_filter`
 *   (default all: start, output, logs, completed), in order, one at a time per prediction, signed as
 *   Standard Webhooks: `webhook-id` (msg_..., one per message, the same on every retry and duplicate of
 *   it), `webhook-timestamp` (unix seconds of that attempt), `webhook-signature: v1,<base64 HMAC-SHA256
 *   of "{id}.{timestamp}.{body}">` keyed with the base64-decoded part after `whsec_` of `webhookSecret`
 *   (default FAKE_REPLICATE_WEBHOOK_SECRET). Non-terminal webhooks are sent once; the terminal one is
 *   tried `webhookAttempts` times (default 3) until a 2xx, waiting `webhookRetryDelayMs` (default 50)
 *   doubled after each failure; a connection error or `webhookTimeoutMs` (default 2000) is a failure.
 *
 * Behaviours: each request to /v1/* takes the first queued `next` behaviour, else the `always` one, else
 *   the healthy default. Order: record -> delayMs -> reset | hang -> token check (401) -> status/body ->
 *   endpoint. The webhook faults apply to the prediction that request creates: `webhookDuplicates` (the
 *   terminal webhook that many extra times, same webhook-id), `lateWebhook` (then the `start`-time
 *   snapshot again, status processing), `loseWebhooks` (none at all), `badSignature` (signed with a wrong key).
 *
 * Also exported: FAKE_REPLICATE_WEBHOOK_SECRET and TINY_PNG (from fake-openai).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { createHmac, randomBytes } from "node:crypto";
import { TINY_PNG, type RecordedRequest } from "./fake-openai.ts";

export { TINY_PNG };
export type { RecordedRequest };
/** The default signing secret (the example secret of the Standard Webhooks spec). */
export const FAKE_REPLICATE_WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

export type ReplicateStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled";
export type ReplicateEvent = "start" | "output" | "logs" | "completed";
export type ReplicateRun = {
  output?: unknown; // the final output (any JSON); default: the last of `steps`, else null
  ms?: number; // how long it runs (default 20)
  error?: string; // end `failed` with this error
  steps?: unknown[]; // intermediate outputs, each set in turn with an `output` webhook
  logs?: string[]; // log lines, appended at start with a `logs` webhook each
};
export type ReplicateRunContext = { id: string; file(name: string, bytes?: Buffer, contentType?: string): string };
export type ReplicateBehaviour = {
  status?: number; // answer this status (with `body`, default problem details) and do nothing else
  body?: unknown;
  headers?: Record<string, string>; // extra response headers (e.g. retry-after)
  delayMs?: number;
  reset?: boolean; // destroy the connection without answering (nothing created)
  hang?: boolean; // accept and never answer (until stop()); nothing created
  webhookDuplicates?: number; // send the terminal webhook this many extra times
  lateWebhook?: boolean; // after the terminal webhook(s), send the start-time one (status processing) again
  loseWebhooks?: boolean; // send no webhooks for this prediction
  badSignature?: boolean; // sign this prediction's webhooks with a wrong key
};
export type ReplicatePrediction = {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  logs: string;
  output: unknown;
  data_removed: boolean;
  error: string | null;
  status: ReplicateStatus;
  created_at: string;
  started_at?: string;
  completed_at?: string;
  urls: { get: string; cancel: string; web: string };
  metrics: { predict_time?: number; total_time?: number };
  source: "api";
};
export type ReplicateWebhookDelivery = {
  predictionId: string;
  event: ReplicateEvent;
  url: string;
  attempt: number; // 1-based within this message's deliveries
  status: number | null; // the receiver's HTTP status; null for a connection error or timeout
  headers: { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };
  body: ReplicatePrediction;
  duplicate?: boolean;
  late?: boolean;
};
export type FakeReplicateOptions = {
  tokens?: string[]; // accepted API tokens; omit to accept any (or none)
  run?: (input: Record<string, unknown>, ctx: ReplicateRunContext) => ReplicateRun | Promise<ReplicateRun>;
  webhookSecret?: string; // "whsec_<base64 key>" (default FAKE_REPLICATE_WEBHOOK_SECRET)
  webhookAttempts?: number; // tries of a terminal webhook (default 3)
  webhookRetryDelayMs?: number; // first retry delay, doubled each time (default 50)
  webhookTimeoutMs?: number; // per attempt (default 2000)
  fileTtlMs?: number; // how long output files are served (default 3_600_000)
};
export type FakeReplicate = {
  url: string; // http://127.0.0.1:<port>
  apiUrl: string; // url + "/v1"
  requests: RecordedRequest[];
  predictions: Map<string, ReplicatePrediction>;
  webhooks: ReplicateWebhookDelivery[];
  /** Serves `bytes` at GET /files/<name> until the TTL runs out; returns the URL. */
  addFile(name: string, bytes?: Buffer, contentType?: string): string;
  next(...behaviours: ReplicateBehaviour[]): void;
  always(behaviour: ReplicateBehaviour | null): void;
  stop(): Promise<void>;
};

const ALL_EVENTS: ReplicateEvent[] = ["start", "output", "logs", "completed"];
const DEFAULT_MS = 20;
const TERMINAL = new Set<ReplicateStatus>(["succeeded", "failed", "canceled"]);
const isTerminal = (p: ReplicatePrediction) => TERMINAL.has(p.status);
const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === "object" && !Array.isArray(v);
const now = () => new Date().toISOString();
const WRONG_KEY = Buffer.from("definitely-not-the-webhook-key!!");

function randomId(length = 26) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  let id = "";
  for (const b of randomBytes(length)) id += alphabet[b % alphabet.length];
  return id;
}

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthenticated",
  402: "Insufficient credit",
  403: "Forbidden",
  404: "Not found",
  422: "Input validation failed",
  429: "Request was throttled",
  500: "Internal server error",
  502: "Bad gateway",
  503: "Service unavailable",
};
const problem = (status: number, detail: string, title = TITLES[status] ?? "Error") => ({ title, detail, status });

type Entry = {
  pred: ReplicatePrediction;
  behaviour: ReplicateBehaviour;
  webhook: string | null;
  filter: ReplicateEvent[];
  chain: Promise<void>;
  startSnapshot: string | null;
  waiters: Set<() => void>;
};

export async function startFakeReplicate(opts: FakeReplicateOptions = {}): Promise<FakeReplicate> {
  const attempts = Math.max(1, opts.webhookAttempts ?? 3);
  const retryDelayMs = opts.webhookRetryDelayMs ?? 50;
  const webhookTimeoutMs = opts.webhookTimeoutMs ?? 2000;
  const fileTtlMs = opts.fileTtlMs ?? 3_600_000;
  const secret = opts.webhookSecret ?? FAKE_REPLICATE_WEBHOOK_SECRET;
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  const queue: ReplicateBehaviour[] = [];
  let standing: ReplicateBehaviour | null = null;
  let stopped = false;
  const entries = new Map<string, Entry>();
  const files = new Map<string, { bytes: Buffer; contentType: string; expiresAt: number }>();
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  const aborter = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const entry = {
        timer: setTimeout(() => {
          timers.delete(entry);
          resolve();
        }, Math.max(0, ms)),
        resolve,
      };
      timers.add(entry);
    });

  const fake: FakeReplicate = {
    url: "",
    apiUrl: "",
    requests: [],
    predictions: new Map(),
    webhooks: [],
    addFile(name, bytes = TINY_PNG, contentType = "image/png") {
      files.set(name, { bytes, contentType, expiresAt: Date.now() + fileTtlMs });
      return `${fake.url}/files/${encodeURIComponent(name)}`;
    },
    next: (...behaviours) => void queue.push(...behaviours),
    always: (behaviour) => void (standing = behaviour),
    async stop() {
      if (stopped) return;
      stopped = true;
      aborter.abort();
      for (const t of timers) {
        clearTimeout(t.timer);
        t.resolve();
      }
      timers.clear();
      for (const e of entries.values()) for (const w of [...e.waiters]) w();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      await closed;
    },
  };

  /** Resolves when the prediction has finished, the fake stops, or `timeoutMs` passes. */
  const waitDone = (e: Entry, timeoutMs: number) =>
    new Promise<void>((resolve) => {
      if (stopped || isTerminal(e.pred)) return resolve();
      const w = () => {
        e.waiters.delete(w);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(w, timeoutMs);
      e.waiters.add(w);
    });

  // ---- webhooks ----

  async function deliver(e: Entry, url: string, body: string, webhookId: string, tries: number, meta: { event: ReplicateEvent; duplicate?: boolean; late?: boolean }) {
    for (let attempt = 1; attempt <= tries && !stopped; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = createHmac("sha256", e.behaviour.badSignature ? WRONG_KEY : key).update(`${webhookId}.${timestamp}.${body}`).digest("base64");
      const headers = { "webhook-id": webhookId, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
      let status: number | null = null;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json", "user-agent": "Replicate-Webhooks/1.0 (fake)" },
          body,
          signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(webhookTimeoutMs)]),
        });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      } catch {
        status = null;
      }
      if (stopped) return;
      fake.webhooks.push({ predictionId: e.pred.id, url, attempt, status, headers, body: JSON.parse(body), ...meta });
      if (status !== null && status >= 200 && status < 300) return;
      if (attempt < tries) await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
  }

  const messageId = () => `msg_${randomBytes(14).toString("hex")}`;

  function emit(e: Entry, event: ReplicateEvent) {
    if (!e.webhook || e.behaviour.loseWebhooks || !e.filter.includes(event)) return;
    const url = e.webhook;
    const body = JSON.stringify(e.pred);
    const id = messageId();
    e.chain = e.chain.then(async () => {
      if (event !== "completed") return deliver(e, url, body, id, 1, { event });
      await deliver(e, url, body, id, attempts, { event });
      for (let i = 0; i < (e.behaviour.webhookDuplicates ?? 0); i++) await deliver(e, url, body, id, attempts, { event, duplicate: true });
      if (e.behaviour.lateWebhook) {
        const late = e.startSnapshot ?? JSON.stringify({ ...e.pred, status: "processing", completed_at: undefined, error: null, metrics: {} });
        await deliver(e, url, late, messageId(), 1, { event: "start", late: true });
      }
    });
  }

  // ---- lifecycle ----

  function finish(e: Entry, status: "succeeded" | "failed" | "canceled", patch: Partial<ReplicatePrediction> = {}) {
    const pred = e.pred;
    if (isTerminal(pred)) return;
    Object.assign(pred, patch);
    pred.status = status;
    const completed = Date.now();
    pred.completed_at = new Date(completed).toISOString();
    const started = pred.started_at ? Date.parse(pred.started_at) : completed;
    pred.metrics = { ...pred.metrics, predict_time: (completed - started) / 1000, total_time: (completed - Date.parse(pred.created_at)) / 1000 };
    emit(e, "completed");
    for (const w of [...e.waiters]) w();
  }

  async function lifecycle(e: Entry) {
    const pred = e.pred;
    const over = () => stopped || isTerminal(pred);
    await sleep(0);
    if (over()) return;
    pred.status = "processing";
    pred.started_at = now();
    e.startSnapshot = JSON.stringify(pred);
    emit(e, "start");
    let result: ReplicateRun;
    try {
      result = opts.run ? await opts.run(pred.input, { id: pred.id, file: (name, bytes, type) => fake.addFile(name, bytes, type) }) : { ms: DEFAULT_MS };
    } catch (error: any) {
      result = { error: String(error?.message ?? error), ms: 0 };
    }
    if (over()) return;
    for (const line of result.logs ?? []) {
      pred.logs += `${line}\n`;
      emit(e, "logs");
    }
    const steps = result.steps ?? [];
    const slice = (result.ms ?? DEFAULT_MS) / (steps.length + 1);
    for (const step of steps) {
      await sleep(slice);
      if (over()) return;
      pred.output = step;
      emit(e, "output");
    }
    await sleep(slice);
    if (over()) return;
    if (result.error !== undefined) return finish(e, "failed", { error: result.error });
    const output = !opts.run
      ? [fake.addFile(`${pred.id}-0.png`)]
      : result.output !== undefined
        ? result.output
        : steps.length
          ? steps[steps.length - 1]
          : null;
    finish(e, "succeeded", { output });
  }

  // ---- HTTP ----

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent || res.destroyed) return void req.socket.destroy();
      sendJson(res, 500, problem(500, `fake-replicate crashed: ${error?.message ?? error}`));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const gone = (res: ServerResponse) => stopped || res.destroyed || res.writableEnded || !!res.socket?.destroyed;

  function sendJson(res: ServerResponse, status: number, body: unknown) {
    if (gone(res)) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  }
  const invalidInput = (res: ServerResponse, field: string, description: string) =>
    sendJson(res, 422, { ...problem(422, `- ${field}: ${description}\n`), invalid_fields: [{ type: "required", field, description }] });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: any = null;
    let bodyIsJson = raw.length === 0;
    if (raw.length) {
      try {
        body = JSON.parse(raw);
        bodyIsJson = true;
      } catch {
        body = raw;
      }
    }
    const method = req.method ?? "GET";
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
    }
    fake.requests.push({ method, path, headers, body });

    // Output files: never faulted, never authenticated (replicate.delivery links are public).
    if (method === "GET" && path.startsWith("/files/")) {
      const name = decodeURIComponent(path.slice("/files/".length));
      const file = files.get(name);
      if (!file || Date.now() >= file.expiresAt) {
        res.writeHead(404, { "content-type": "text/plain" });
        return void res.end("Not Found");
      }
      res.writeHead(200, { "content-type": file.contentType, "content-length": String(file.bytes.length) });
      return void res.end(file.bytes);
    }
    if (!path.startsWith("/v1/")) return sendJson(res, 404, problem(404, "Not found."));

    const behaviour: ReplicateBehaviour = queue.shift() ?? standing ?? {};
    for (const [name, value] of Object.entries(behaviour.headers ?? {})) res.setHeader(name, value);
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (gone(res)) return;
    if (behaviour.reset) return void req.socket.destroy();
    if (behaviour.hang) return;

    if (opts.tokens) {
      const token = /^(?:Bearer|Token)\s+(.+)$/i.exec(headers.authorization ?? "")?.[1]?.trim() ?? "";
      if (!opts.tokens.includes(token)) return sendJson(res, 401, problem(401, "You did not pass a valid authentication token"));
    }
    if (behaviour.status) return sendJson(res, behaviour.status, behaviour.body !== undefined ? behaviour.body : problem(behaviour.status, `fake-replicate fault ${behaviour.status}`));

    let m: RegExpExecArray | null;
    if (path === "/v1/predictions" || path === "/v1/predictions/") {
      if (method === "GET") {
        const results = [...fake.predictions.values()].reverse();
        return sendJson(res, 200, { previous: null, next: null, results });
      }
      if (method !== "POST") return sendJson(res, 405, problem(405, "Method not allowed.", "Method not allowed"));
      if (!bodyIsJson || !isObject(body)) return sendJson(res, 400, problem(400, "The request body is not valid JSON."));
      if (typeof body.version !== "string" || !body.version)
        return sendJson(res, 422, problem(422, "The specified version does not exist (or perhaps you don't have permission to use it?)", "Invalid version or not permitted"));
      const [model, version] = body.version.includes(":") ? body.version.split(":", 2) : ["fake-owner/fake-model", body.version];
      return create(res, body, model!, version!, behaviour, headers);
    }
    if ((m = /^\/v1\/(?:models|deployments)\/([^/]+)\/([^/]+)\/predictions\/?$/.exec(path))) {
      if (method !== "POST") return sendJson(res, 405, problem(405, "Method not allowed.", "Method not allowed"));
      if (!bodyIsJson || !isObject(body)) return sendJson(res, 400, problem(400, "The request body is not valid JSON."));
      return create(res, body, `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`, "hidden", behaviour, headers);
    }
    if ((m = /^\/v1\/predictions\/([^/]+)(\/cancel)?\/?$/.exec(path))) {
      const e = entries.get(decodeURIComponent(m[1]!));
      if (m[2]) {
        if (method !== "POST") return sendJson(res, 405, problem(405, "Method not allowed.", "Method not allowed"));
        if (!e) return sendJson(res, 404, problem(404, "Not found."));
        finish(e, "canceled");
        return sendJson(res, 200, e.pred);
      }
      if (method !== "GET") return sendJson(res, 405, problem(405, "Method not allowed.", "Method not allowed"));
      if (!e) return sendJson(res, 404, problem(404, "Not found."));
      return sendJson(res, 200, e.pred);
    }
    return sendJson(res, 404, problem(404, "Not found."));
  }

  async function create(res: ServerResponse, body: Record<string, any>, model: string, version: string, behaviour: ReplicateBehaviour, headers: Record<string, string>) {
    const input = body.input;
    if (!isObject(input)) return invalidInput(res, "input", "input is required");
    if (!opts.run && typeof input.prompt !== "string") return invalidInput(res, "input", "prompt is required");
    if (body.webhook !== undefined && body.webhook !== null && (typeof body.webhook !== "string" || !/^https?:\/\//.test(body.webhook)))
      return sendJson(res, 422, problem(422, "- webhook: Does not match format 'uri'\n"));
    const filter = body.webhook_events_filter ?? ALL_EVENTS;
    if (!Array.isArray(filter) || filter.some((f: unknown) => !ALL_EVENTS.includes(f as ReplicateEvent)))
      return sendJson(res, 422, problem(422, "- webhook_events_filter: must be one of: start, output, logs, completed\n"));

    const id = randomId();
    const base = `${fake.apiUrl}/predictions/${id}`;
    const pred: ReplicatePrediction = {
      id,
      model,
      version,
      input,
      logs: "",
      output: null,
      data_removed: false,
      error: null,
      status: "starting",
      created_at: now(),
      urls: { get: base, cancel: `${base}/cancel`, web: `https://replicate.com/p/${id}` },
      metrics: {},
      source: "api",
    };
    const e: Entry = { pred, behaviour, webhook: body.webhook ?? null, filter: [...new Set(filter as ReplicateEvent[])], chain: Promise.resolve(), startSnapshot: null, waiters: new Set() };
    entries.set(id, e);
    fake.predictions.set(id, pred);
    const accepted = JSON.parse(JSON.stringify(pred));
    void lifecycle(e).catch(() => undefined);

    const wait = /(?:^|[\s,;])wait(?:=(\d+))?(?:$|[\s,;])/i.exec(headers.prefer ?? "");
    if (!wait) return sendJson(res, 201, accepted);
    const seconds = Math.min(60, Math.max(1, wait[1] ? Number(wait[1]) : 60));
    await waitDone(e, seconds * 1000);
    return sendJson(res, 201, pred);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  fake.url = `http://127.0.0.1:${port}`;
  fake.apiUrl = `${fake.url}/v1`;
  return fake;
}
