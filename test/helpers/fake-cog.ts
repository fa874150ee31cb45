/**
 * A fake self-hosted Cog model server for tests: a real HTTP server (node:http) on 127.0.0.1, random
 * free port, speaking Cog's prediction API as the gateway's `cog` adapter uses it, with the faults a
 * real Cog box shows (busy, dropped connections, lost/duplicate/late webhooks). Written from Cog's
 * public HTTP API docs, not from the gateway's adapter code.
 *
 *   const cog = await startFakeCog({ concurrency: 1, run: (input) => ({ output: "hi", ms: 50 }) }); // all optional
 *   cog.url                   // "http://127.0.0.1:<port>" (the Cog base URL; no path)
 *   cog.next({ dropAfterAccept: true }, { status: 500 });
 *   cog.always({ delayMs: 50 }); cog.always(null);
 *   cog.requests              // [{ method, path, headers (lower-case names), body }] in arrival order
 *   cog.predictions           // Map<id, CogPrediction>: the live objects (their current state)
 *   cog.started               // how many predictions were started (an idempotent repeat starts none)
 *   cog.webhooks              // every webhook delivery attempt: { predictionId, event, url, attempt, status, body, ... }
 *   await cog.stop();         // closes the server, ends running predictions silently, aborts webhooks
 *
 * Endpoints
 *   PUT  /predictions/{id}     create with that id: JSON { input, webhook?, webhook_events_filter?, id? }. A body
 *                              `id` different from the path id: 422. With `Prefer: respond-async`: 202 at once
 *                              with the prediction (status "starting"), and it runs in the background; without:
 *                              it runs to the end and answers 200 with the finished prediction (a failed one is
 *                              still 200, `status: "failed"`, `error: "<message>"`). Idempotent: when a
 *                              prediction with that id exists (running or finished) it answers its current state
 *                              (202 with respond-async; else 200 once it has finished) and starts nothing.
 *   POST /predictions          the same, the id taken from the body's `id` or made up by the server.
 *   POST /predictions/{id}/cancel  200 `{}` when it is running (it ends `canceled`, with a `completed`
 *                              webhook); 404 `{"detail":"Not Found"}` when unknown or already finished.
 *   GET  /health-check         `{ status: "READY" | "BUSY", setup: {...} }` (BUSY while `concurrency` run).
 *   GET  /                     `{ docs_url, openapi_url }`
 *   anything else              404 `{"detail":"Not Found"}` (405 `{"detail":"Method Not Allowed"}` on a known path)
 *   Busy: a create of a new id while `concurrency` (default 1) predictions run: 409
 *   `{"detail":"Already running a prediction"}`. Invalid bodies: 422 with a FastAPI/pydantic `detail` list.
 *
 * Predictions: { id, input, output, error, logs, status, created_at, started_at, completed_at, metrics,
 *   webhook, webhook_events_filter } with status starting -> processing -> succeeded | failed | canceled.
 *   Timestamps are ISO 8601 with "+00:00". On completion `metrics.predict_time` (seconds).
 *   Default model (no `opts.run`): requires `input.prompt` (a string; else 422 "field required"), runs
 *   20 ms, and answers `output: [COG_PNG_DATA_URI]` (one 1x1 PNG as a data: URI). With `opts.run(input,
 *   { id })` the test chooses (sync or async) a CogRun: `output` (any JSON), `ms` (duration, default 20),
 *   `error` (fail with this message), `steps` (intermediate outputs: `output` is set to each in turn with
 *   an `output` webhook, spread evenly over `ms`; the final output defaults to the last step) and `logs`
 *   (lines appended to `logs` at start, one `logs` webhook each). A `run` that throws fails the prediction.
 *
 * Webhooks: when `webhook` is given, POST (application/json) the prediction as it is at that moment on
 *   the events of `webhook_events_filter` (default all four): `start` (status processing) when it starts,
 *   `logs`/`output` on updates, `completed` on any terminal status. One prediction's webhooks go out in
 *   order, one at a time. Non-terminal ones are sent once (a failure is recorded, not retried); the
 *   terminal one is tried `webhookAttempts` times (default 3) until a 2xx, waiting `webhookRetryDelayMs`
 *   (default 50) doubled after each failure; a connection error or `webhookTimeoutMs` (default 2000)
 *   counts as a failure.
 *
 * Behaviours: each request to /predictions* takes the first queued `next` behaviour, else the `always`
 *   one, else the healthy default (GET /health-check and / are never faulted). Order of effects: record
 *   request -> delayMs -> reset | hang -> status/body -> endpoint. The webhook faults apply to the
 *   prediction that request creates (not to an idempotent repeat): `webhookDuplicates` sends the terminal
 *   webhook that many extra times after the first, `lateWebhook` then sends the `start`-time snapshot
 *   (status processing) once more, `loseWebhooks` sends none at all. `dropAfterAccept` starts the
 *   prediction and destroys the connection without answering (the gateway's retry of the PUT must find
 *   it: `started` stays 1). Note: Bun's fetch silently retries an idempotent request (PUT) once when a
 *   reused keep-alive connection dies before any answer, so a single `reset`/`dropAfterAccept` on a PUT
 *   over a pooled connection reaches the client as that retry's answer; use a fresh connection
 *   (`keepalive: false`) or queue two faults to see the failure itself. POST is not retried that way.
 *
 * Recorded `body`: parsed JSON when it parses, the raw text otherwise, null when empty.
 * Also exported: TINY_PNG (from fake-openai) and COG_PNG_DATA_URI.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { TINY_PNG, type RecordedRequest } from "./fake-openai.ts";

export { TINY_PNG };
export type { RecordedRequest };
/** The default model's output item: the 1x1 PNG as a data: URI. */
export const COG_PNG_DATA_URI = `data:image/png;base64,${TINY_PNG.toString("base64")}`;

export type CogStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled";
export type CogEvent = "start" | "output" | "logs" | "completed";
export type CogRun = {
  output?: unknown; // the final output (any JSON); default: the last of `steps`, else null
  ms?: number; // how long it runs (default 20)
  error?: string; // end `failed` with this error
  steps?: unknown[]; // intermediate outputs, each set in turn with an `output` webhook
  logs?: string[]; // log lines, appended at start with a `logs` webhook each
};
export type CogBehaviour = {
  status?: number; // answer this status (with `body`, default {"detail": "..."}) and do nothing else
  body?: unknown;
  headers?: Record<string, string>; // extra response headers
  delayMs?: number; // wait before handling
  reset?: boolean; // destroy the connection without answering (nothing started)
  hang?: boolean; // accept and never answer (until stop()); nothing started
  dropAfterAccept?: boolean; // START the prediction, then destroy the connection without answering
  webhookDuplicates?: number; // send the terminal webhook this many extra times
  lateWebhook?: boolean; // after the terminal webhook(s), send the start-time one (status processing) again
  loseWebhooks?: boolean; // send no webhooks at all for this prediction
};
export type CogPrediction = {
  id: string;
  input: Record<string, unknown>;
  output: unknown;
  error: string | null;
  logs: string;
  status: CogStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  metrics: { predict_time?: number };
  webhook: string | null;
  webhook_events_filter: CogEvent[];
};
export type CogWebhookDelivery = {
  predictionId: string;
  event: CogEvent;
  url: string;
  attempt: number; // 1-based within this delivery
  status: number | null; // the receiver's HTTP status; null for a connection error or timeout
  body: CogPrediction; // what was sent
  duplicate?: boolean; // one of the `webhookDuplicates` extra sends
  late?: boolean; // the `lateWebhook` send
};
export type FakeCogOptions = {
  concurrency?: number; // predictions that may run at once (default 1); more: 409
  run?: (input: Record<string, unknown>, ctx: { id: string }) => CogRun | Promise<CogRun>;
  webhookAttempts?: number; // tries of a terminal webhook (default 3)
  webhookRetryDelayMs?: number; // first retry delay, doubled each time (default 50)
  webhookTimeoutMs?: number; // per webhook attempt (default 2000)
};
export type FakeCog = {
  url: string; // http://127.0.0.1:<port>
  requests: RecordedRequest[];
  predictions: Map<string, CogPrediction>;
  readonly started: number;
  webhooks: CogWebhookDelivery[];
  /** Behaviours for the next requests to /predictions*, one per request in order. */
  next(...behaviours: CogBehaviour[]): void;
  /** A behaviour for every request from now on (until always(null)); `next` ones take precedence. */
  always(behaviour: CogBehaviour | null): void;
  stop(): Promise<void>;
};

const ALL_EVENTS: CogEvent[] = ["start", "output", "logs", "completed"];
const DEFAULT_MS = 20;
const TERMINAL = new Set<CogStatus>(["succeeded", "failed", "canceled"]);
const isTerminal = (p: CogPrediction) => TERMINAL.has(p.status);
const cogTime = () => new Date().toISOString().replace("Z", "+00:00");
const isObject = (v: unknown): v is Record<string, any> => !!v && typeof v === "object" && !Array.isArray(v);

type Entry = {
  pred: CogPrediction;
  behaviour: CogBehaviour;
  chain: Promise<void>; // this prediction's webhooks, in order
  startSnapshot: string | null; // JSON at `start`, for lateWebhook
  waiters: Set<() => void>;
};

export async function startFakeCog(opts: FakeCogOptions = {}): Promise<FakeCog> {
  const concurrency = opts.concurrency ?? 1;
  const attempts = Math.max(1, opts.webhookAttempts ?? 3);
  const retryDelayMs = opts.webhookRetryDelayMs ?? 50;
  const webhookTimeoutMs = opts.webhookTimeoutMs ?? 2000;
  const queue: CogBehaviour[] = [];
  let standing: CogBehaviour | null = null;
  let stopped = false;
  let startedCount = 0;
  const entries = new Map<string, Entry>();
  const sockets = new Set<Socket>();
  const timers = new Set<{ timer: ReturnType<typeof setTimeout>; resolve: () => void }>();
  const aborter = new AbortController();
  const setupAt = cogTime();

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

  const fake: FakeCog = {
    url: "",
    requests: [],
    predictions: new Map(),
    get started() {
      return startedCount;
    },
    webhooks: [],
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

  const running = () => [...entries.values()].filter((e) => !isTerminal(e.pred)).length;

  const waitDone = (e: Entry) =>
    new Promise<void>((resolve) => {
      if (stopped || isTerminal(e.pred)) return resolve();
      const w = () => {
        e.waiters.delete(w);
        resolve();
      };
      e.waiters.add(w);
    });

  // ---- webhooks ----

  async function deliver(url: string, body: string, tries: number, meta: Omit<CogWebhookDelivery, "attempt" | "status" | "body">) {
    for (let attempt = 1; attempt <= tries && !stopped; attempt++) {
      let status: number | null = null;
      try {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "cog-worker/0.9 (fake)" },
          body,
          signal: AbortSignal.any([aborter.signal, AbortSignal.timeout(webhookTimeoutMs)]),
        });
        status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      } catch {
        status = null;
      }
      if (stopped) return;
      fake.webhooks.push({ ...meta, attempt, status, body: JSON.parse(body) });
      if (status !== null && status >= 200 && status < 300) return;
      if (attempt < tries) await sleep(retryDelayMs * 2 ** (attempt - 1));
    }
  }

  function emit(e: Entry, event: CogEvent) {
    const { pred, behaviour } = e;
    if (!pred.webhook || behaviour.loseWebhooks || !pred.webhook_events_filter.includes(event)) return;
    const url = pred.webhook;
    const body = JSON.stringify(pred);
    const meta = { predictionId: pred.id, event, url };
    e.chain = e.chain.then(async () => {
      if (event !== "completed") return deliver(url, body, 1, meta);
      await deliver(url, body, attempts, meta);
      for (let i = 0; i < (behaviour.webhookDuplicates ?? 0); i++) await deliver(url, body, attempts, { ...meta, duplicate: true });
      if (behaviour.lateWebhook) {
        const late = e.startSnapshot ?? JSON.stringify({ ...pred, status: "processing", completed_at: null, error: null, metrics: {} });
        await deliver(url, late, 1, { ...meta, event: "start", late: true });
      }
    });
  }

  // ---- lifecycle ----

  function finish(e: Entry, status: "succeeded" | "failed" | "canceled", patch: Partial<CogPrediction> = {}) {
    const pred = e.pred;
    if (isTerminal(pred)) return;
    Object.assign(pred, patch);
    pred.status = status;
    pred.completed_at = cogTime();
    if (pred.started_at) pred.metrics = { ...pred.metrics, predict_time: (Date.parse(pred.completed_at) - Date.parse(pred.started_at)) / 1000 };
    emit(e, "completed");
    for (const w of [...e.waiters]) w();
  }

  async function lifecycle(e: Entry) {
    const pred = e.pred;
    const over = () => stopped || isTerminal(pred);
    await sleep(0);
    if (over()) return;
    pred.status = "processing";
    pred.started_at = cogTime();
    e.startSnapshot = JSON.stringify(pred);
    emit(e, "start");
    let result: CogRun;
    try {
      result = opts.run ? await opts.run(pred.input, { id: pred.id }) : { output: [COG_PNG_DATA_URI], ms: DEFAULT_MS };
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
    finish(e, "succeeded", { output: result.output !== undefined ? result.output : steps.length ? steps[steps.length - 1] : null });
  }

  // ---- HTTP ----

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent || res.destroyed) return void req.socket.destroy();
      sendJson(res, 500, { detail: `fake-cog crashed: ${error?.message ?? error}` });
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  const gone = (res: ServerResponse) => stopped || res.destroyed || res.writableEnded || !!res.socket?.destroyed;

  function sendText(res: ServerResponse, status: number, text: string) {
    if (gone(res)) return;
    res.writeHead(status, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  }
  const sendJson = (res: ServerResponse, status: number, body: unknown) => sendText(res, status, JSON.stringify(body));
  const invalid = (res: ServerResponse, loc: string[], msg: string, type: string) => sendJson(res, 422, { detail: [{ loc, msg, type }] });

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

    if (path === "/health-check") {
      if (method !== "GET") return sendJson(res, 405, { detail: "Method Not Allowed" });
      return sendJson(res, 200, {
        status: running() >= concurrency ? "BUSY" : "READY",
        setup: { started_at: setupAt, completed_at: setupAt, logs: "", status: "succeeded" },
      });
    }
    if (path === "/") return sendJson(res, 200, { docs_url: "/docs", openapi_url: "/openapi.json" });
    const m = /^\/predictions(?:\/([^/]+))?(\/cancel)?\/?$/.exec(path);
    if (!m) return sendJson(res, 404, { detail: "Not Found" });

    const behaviour: CogBehaviour = queue.shift() ?? standing ?? {};
    for (const [name, value] of Object.entries(behaviour.headers ?? {})) res.setHeader(name, value);
    if (behaviour.delayMs) await sleep(behaviour.delayMs);
    if (gone(res)) return;
    if (behaviour.reset) return void req.socket.destroy();
    if (behaviour.hang) return; // the socket is destroyed by stop()
    if (behaviour.status) return sendJson(res, behaviour.status, behaviour.body !== undefined ? behaviour.body : { detail: `fake-cog fault ${behaviour.status}` });

    const pathId = m[1] === undefined ? undefined : decodeURIComponent(m[1]);
    if (m[2]) {
      if (method !== "POST") return sendJson(res, 405, { detail: "Method Not Allowed" });
      const e = entries.get(pathId!);
      if (!e || isTerminal(e.pred)) return sendJson(res, 404, { detail: "Not Found" });
      finish(e, "canceled");
      return sendJson(res, 200, {});
    }
    if (pathId === undefined ? method !== "POST" : method !== "PUT") return sendJson(res, 405, { detail: "Method Not Allowed" });
    return create(req, res, pathId, bodyIsJson ? body : undefined, behaviour, headers);
  }

  async function create(req: IncomingMessage, res: ServerResponse, pathId: string | undefined, body: any, behaviour: CogBehaviour, headers: Record<string, string>) {
    if (body === undefined) return invalid(res, ["body"], "Expecting value: line 1 column 1 (char 0)", "value_error.jsondecode");
    if (!isObject(body)) return invalid(res, ["body"], "value is not a valid dict", "type_error.dict");
    if (body.id !== undefined && body.id !== null && pathId !== undefined && body.id !== pathId)
      return invalid(res, ["body", "id"], "prediction ID must match the ID supplied in the URL", "value_error");
    const respondAsync = /\brespond-async\b/i.test(headers.prefer ?? "");
    const id: string = pathId ?? (typeof body.id === "string" && body.id ? body.id : randomBytes(13).toString("hex"));

    const existing = entries.get(id);
    if (existing) {
      if (behaviour.dropAfterAccept) return void req.socket.destroy();
      if (respondAsync) return sendJson(res, 202, existing.pred);
      await waitDone(existing);
      return sendJson(res, 200, existing.pred);
    }
    if (running() >= concurrency) return sendJson(res, 409, { detail: "Already running a prediction" });

    const input = body.input ?? {};
    if (!isObject(input)) return invalid(res, ["body", "input"], "value is not a valid dict", "type_error.dict");
    if (!opts.run && typeof input.prompt !== "string") return invalid(res, ["body", "input", "prompt"], "field required", "value_error.missing");
    if (body.webhook !== undefined && body.webhook !== null && typeof body.webhook !== "string")
      return invalid(res, ["body", "webhook"], "invalid or missing URL scheme", "value_error.url.scheme");
    const filter = body.webhook_events_filter ?? ALL_EVENTS;
    if (!Array.isArray(filter) || filter.some((f: unknown) => !ALL_EVENTS.includes(f as CogEvent)))
      return invalid(res, ["body", "webhook_events_filter"], "value is not a valid enumeration member; permitted: 'start', 'output', 'logs', 'completed'", "type_error.enum");

    const pred: CogPrediction = {
      id,
      input,
      output: null,
      error: null,
      logs: "",
      status: "starting",
      created_at: cogTime(),
      started_at: null,
      completed_at: null,
      metrics: {},
      webhook: body.webhook ?? null,
      webhook_events_filter: [...new Set(filter as CogEvent[])],
    };
    const e: Entry = { pred, behaviour, chain: Promise.resolve(), startSnapshot: null, waiters: new Set() };
    entries.set(id, e);
    fake.predictions.set(id, pred);
    startedCount++;
    const accepted = JSON.stringify(pred);
    void lifecycle(e).catch(() => undefined);

    if (behaviour.dropAfterAccept) return void req.socket.destroy();
    if (respondAsync) return sendText(res, 202, accepted);
    await waitDone(e);
    return sendJson(res, 200, pred);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  fake.url = `http://127.0.0.1:${port}`;
  return fake;
}
