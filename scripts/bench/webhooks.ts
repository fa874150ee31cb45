#!/usr/bin/env bun
/**
 * Webhooks, printed figures, not a test: how many `execution.completed` deliveries per second the
 * gateway makes to one local receiver, and how long after an execution completes its delivery
 * arrives. Each repetition starts the compiled binary (`--source`: `bun src/main.ts`) on a fresh
 * data directory, registers one endpoint for `execution.completed` at a receiver of its own, and
 * after a warm-up creates --executions ASYNC `demo-model` executions at --concurrency:
 *   - ModelRoute: deliveries/s (first deliveries over the time from the first create to the last
 *     first delivery) and completion → delivery p50/p99/max (the execution's `completed_at` to the
 *     receiver's arrival time of its first delivery);
 *   - retried: --retry-executions more with the receiver answering 500 to the first attempt of
 *     every event, so each is delivered by its first retry (5 s ±10 % later, docs/webhooks.md):
 *     this shows the retry delay, and adds ~6 s per repetition (`--retry-executions 0` skips it);
 *   - direct: the receiver's own capacity, this process posting the same bodies, signed the same
 *     way, straight to it at the same concurrency (the latency is then request start → arrival).
 * The receiver is this script run with `--receiver`, in its own process: it answers at once,
 * verifies both signatures of every request (test/helpers/webhook-receiver.ts) and reports what
 * arrived on GET /_deliveries. Wrong answers: a create that is not 202, an execution that is not
 * COMPLETED or has no delivery within 60 s, a bad signature, an event whose type, execution or
 * status is not one of those completed, or two events for one execution. Duplicates (an event id
 * accepted more than once) are counted, not wrong: delivery is at-least-once. The gateway gives
 * one receiver at most a quarter of its MODELROUTE_WEBHOOK_CONCURRENCY (32) attempts in flight.
 * Where taskset exists the gateway runs alone on CPU 0, the receiver and this process on CPU 1.
 *
 *   bun scripts/bench/webhooks.ts [--executions 5000] [--concurrency 32] [--retry-executions 200]
 *     [--reps 2] [--no-pin] [--binary dist/modelroute | --source]
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { databasePath } from "../../src/db/client";
import { newId } from "../../src/ids";
import { messageOf } from "../../src/modules/webhooks/send";
import { signatureHeaders } from "../../src/modules/webhooks/signing";
import { spawnServer, type ServerProcess } from "../../test/helpers/process";
import { verify } from "../../test/helpers/webhook-receiver";
import { canPin, ensureBinary, fmt, fmtInt, median, onCpu, parsed, percentile, pinLoadToCpu1, WARMUP_MS } from "./lib";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    executions: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "32" },
    "retry-executions": { type: "string", default: "200" },
    reps: { type: "string", default: "2" },
    "no-pin": { type: "boolean", default: false },
    binary: { type: "string" },
    source: { type: "boolean", default: false },
    receiver: { type: "boolean", default: false },
  },
});
const EXECUTIONS = Number(values.executions);
const CONCURRENCY = Number(values.concurrency);
const RETRY_EXECUTIONS = Number(values["retry-executions"]);
const REPS = Number(values.reps);
const PIN = !values["no-pin"];
if (!values.receiver && !(EXECUTIONS >= 1 && CONCURRENCY >= 1 && REPS >= 1)) throw new Error("--executions, --concurrency and --reps must be at least 1");
/** How long every created execution may take to be delivered (the retried ones wait ~5.5 s for their retry). */
const DELIVERY_WAIT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 30_000;
const POLL_MS = 50;
const HOOK_PATH = "/hook";

/** What the receiver saw of one request to HOOK_PATH. */
type Arrival = { webhookId: string; type: string | null; executionId: string | null; status: string | null; arrivedAt: number; verified: boolean; accepted: boolean };

/**
 * The receiver process: prints its port once listening, records every request to HOOK_PATH,
 * and answers 200 at once, or 500 to the first attempt of each event after a reset with
 * `fail_first`. POST /_reset `{secret, fail_first}` forgets what arrived; GET /_deliveries?after=K
 * lists the arrivals from the K-th on.
 */
function runReceiver() {
  let arrivals: Arrival[] = [];
  let secret = "";
  let failFirst = false;
  const seen = new Set<string>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const arrivedAt = Date.now();
      const url = new URL(request.url);
      if (request.method === "POST" && url.pathname === HOOK_PATH) {
        const body = await request.text();
        const json = parsed<{ type?: string; data?: { id?: string; status?: string } }>(body);
        const { seed, standard } = verify({ index: arrivals.length, path: url.pathname, headers: request.headers, body, json, receivedAt: arrivedAt }, secret);
        const webhookId = request.headers.get("webhook-id") ?? "";
        const accepted = !failFirst || seen.has(webhookId);
        seen.add(webhookId);
        arrivals.push({ webhookId, type: json?.type ?? null, executionId: json?.data?.id ?? null, status: json?.data?.status ?? null, arrivedAt, verified: seed && standard, accepted });
        return accepted ? new Response("ok") : new Response("refused: first attempt", { status: 500 });
      }
      if (url.pathname === "/_deliveries") return Response.json(arrivals.slice(Number(url.searchParams.get("after") ?? 0)));
      if (request.method === "POST" && url.pathname === "/_reset") {
        const settings = (await request.json()) as { secret: string; fail_first: boolean };
        [arrivals, secret, failFirst] = [[], settings.secret, settings.fail_first];
        seen.clear();
        return new Response("reset");
      }
      return new Response("not found", { status: 404 });
    },
  });
  console.log(server.port);
}

type Receiver = { url: string; proc: Bun.Subprocess; reset(secret: string, failFirst: boolean): Promise<void>; deliveries(after: number): Promise<Arrival[]> };

/** One gateway on a fresh data directory, its org's key and the secret of its one endpoint. */
type Rig = { server: ServerProcess; dataDir: string; headers: Record<string, string>; secret: string; receiver: Receiver };

/** The receiver in a child process, on CPU 1 beside this one when pinning; resolves with its URL once it listens. */
async function startReceiver(): Promise<Receiver> {
  const proc = Bun.spawn(onCpu(PIN, 1, [process.execPath, import.meta.path, "--receiver"]), { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader(); // its port, then nothing until it is killed
  const port = await Promise.race([reader.read().then(({ value }) => Number(new TextDecoder().decode(value))), Bun.sleep(10_000).then(() => NaN)]);
  reader.releaseLock();
  if (!(port > 0)) {
    proc.kill("SIGTERM");
    throw new Error("the receiver did not start");
  }
  const url = `http://127.0.0.1:${port}`;
  const signal = () => AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  return {
    url,
    proc,
    async reset(secret, failFirst) {
      const res = await fetch(`${url}/_reset`, { method: "POST", body: JSON.stringify({ secret, fail_first: failFirst }), signal: signal() });
      if (res.status !== 200) throw new Error(`the receiver's reset answered ${res.status}`);
      await res.arrayBuffer();
    },
    deliveries: async (after) => (await (await fetch(`${url}/_deliveries?after=${after}`, { signal: signal() })).json()) as Arrival[],
  };
}

/** CONCURRENCY workers running `task(i)` for i = 0, 1, … until `count` or until `stopAt` (performance.now()). */
async function runConcurrently(count: number, stopAt: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count && performance.now() < stopAt) await task(next++);
    }),
  );
}

/** Polls the receiver until each of `executionIds` has an accepted delivery, or DELIVERY_WAIT_MS have passed; every arrival. */
async function awaitDeliveries(receiver: Receiver, executionIds: Iterable<string>): Promise<Arrival[]> {
  const waiting = new Set(executionIds);
  const arrivals: Arrival[] = [];
  const until = Date.now() + DELIVERY_WAIT_MS;
  while (waiting.size > 0 && Date.now() < until) {
    await Bun.sleep(POLL_MS);
    const more = await receiver.deliveries(arrivals.length);
    for (const arrival of more) {
      arrivals.push(arrival);
      if (arrival.accepted && arrival.executionId) waiting.delete(arrival.executionId);
    }
  }
  return arrivals;
}

type Figures = { delivered: number; perSecond: number; p50: number; p99: number; max: number; duplicates: number; refused: number; wrong: number; samples: string[] };

/**
 * The figures of one round from what the receiver saw. `readyAt`: for each execution that should
 * be delivered, when its delivery could start (ms since the epoch); `startedAt`: the first create
 * or post; `problems`: what was already found wrong.
 */
function summarize(arrivals: Arrival[], readyAt: Map<string, number>, startedAt: number, problems: string[]): Figures {
  const firstByEvent = new Map<string, Arrival>();
  let duplicates = 0;
  let refused = 0;
  for (const arrival of arrivals) {
    if (!arrival.verified) problems.push(`event ${arrival.webhookId}: a signature does not verify`);
    if (!arrival.accepted) refused++;
    else if (firstByEvent.has(arrival.webhookId)) duplicates++;
    else firstByEvent.set(arrival.webhookId, arrival);
  }
  const firstByExecution = new Map<string, Arrival>();
  for (const arrival of firstByEvent.values()) {
    const id = arrival.executionId ?? "";
    if (arrival.type !== "execution.completed" || arrival.status !== "COMPLETED" || !readyAt.has(id))
      problems.push(`event ${arrival.webhookId}: ${arrival.type} of ${id} with status ${arrival.status}, not one of the executions completed`);
    else if (firstByExecution.has(id)) problems.push(`execution ${id}: delivered under two event ids`);
    else firstByExecution.set(id, arrival);
  }
  for (const id of readyAt.keys()) if (!firstByExecution.has(id)) problems.push(`execution ${id}: no delivery within ${DELIVERY_WAIT_MS / 1000} s`);
  const latencies = [...firstByExecution].map(([id, arrival]) => arrival.arrivedAt - readyAt.get(id)!).sort((a, b) => a - b);
  const lastArrival = [...firstByExecution.values()].reduce((last, a) => Math.max(last, a.arrivedAt), startedAt);
  const none = latencies.length === 0;
  return {
    delivered: firstByExecution.size,
    perSecond: firstByExecution.size / Math.max(0.001, (lastArrival - startedAt) / 1000),
    p50: none ? NaN : percentile(latencies, 50),
    p99: none ? NaN : percentile(latencies, 99),
    max: none ? NaN : percentile(latencies, 100),
    duplicates,
    refused,
    wrong: problems.length,
    samples: problems.slice(0, 5),
  };
}

/** Each execution's `completed_at`, read from the database file; those not COMPLETED are problems. */
function completionTimes(dataDir: string, ids: string[], problems: string[]): Map<string, number> {
  const db = new Database(databasePath(dataDir), { readonly: true });
  try {
    const rows = db.query("SELECT id, status, completed_at FROM executions WHERE id IN (SELECT value FROM json_each(?))").all(JSON.stringify(ids)) as { id: string; status: string; completed_at: number | null }[];
    const completedAt = new Map<string, number>();
    for (const row of rows)
      if (row.status === "COMPLETED" && row.completed_at !== null) completedAt.set(row.id, row.completed_at);
      else problems.push(`execution ${row.id}: ${row.status}, not COMPLETED`);
    return completedAt;
  } finally {
    db.close();
  }
}

/** Creates up to `count` executions (or until `stopAt`), each checked 202, and measures their deliveries. */
async function throughModelRoute(rig: Rig, count: number, failFirst: boolean, stopAt = Infinity): Promise<{ figures: Figures; ids: string[] }> {
  await rig.receiver.reset(rig.secret, failFirst);
  const body = JSON.stringify({ model: "demo-model", mode: "ASYNC", input: { text: "hello" } });
  const ids: string[] = [];
  const problems: string[] = [];
  const startedAt = Date.now();
  await runConcurrently(count, stopAt, async () => {
    const res = await fetch(`${rig.server.url}/v1/executions`, { method: "POST", headers: rig.headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    const id = parsed<{ id?: string }>(text)?.id;
    if (res.status === 202 && id) ids.push(id);
    else problems.push(`create: HTTP ${res.status} ${text.slice(0, 200)}`);
  });
  const arrivals = await awaitDeliveries(rig.receiver, ids);
  return { figures: summarize(arrivals, completionTimes(rig.dataDir, ids, problems), startedAt, problems), ids };
}

/** Posts one signed `execution.completed` body per id of `ids` (`execution` with that id) straight to the receiver. */
async function postDirectly(rig: Rig, execution: Record<string, unknown>, ids: string[], stopAt = Infinity): Promise<Figures> {
  await rig.receiver.reset(rig.secret, false);
  const readyAt = new Map<string, number>();
  const problems: string[] = [];
  const startedAt = Date.now();
  await runConcurrently(ids.length, stopAt, async (i) => {
    const id = ids[i]!;
    const now = Date.now();
    const message = messageOf({ id: newId("evt"), type: "execution.completed", createdAt: now, data: { ...execution, id } });
    readyAt.set(id, now);
    const res = await fetch(`${rig.receiver.url}${HOOK_PATH}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...signatureHeaders([rig.secret], message, Math.floor(now / 1000)) },
      body: message.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    if (res.status !== 200) problems.push(`direct post: HTTP ${res.status}`);
  });
  return summarize(await awaitDeliveries(rig.receiver, readyAt.keys()), readyAt, startedAt, problems);
}

type Rep = { modelroute: Figures; retried: Figures | null; direct: Figures };

async function runRep(receiver: Receiver, binary: string | undefined): Promise<Rep> {
  const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-webhooks-"));
  let server: ServerProcess | null = null;
  try {
    server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" }, undefined, { binary });
    if (canPin(PIN)) Bun.spawnSync(["taskset", "-a", "-cp", "0", String(server.proc.pid)], { stdout: "ignore" });
    const key = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const registered = await fetch(`${server.url}/v1/webhooks/endpoints`, {
      method: "POST",
      headers,
      body: JSON.stringify({ url: `${receiver.url}${HOOK_PATH}`, events: ["execution.completed"] }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const endpoint = (await registered.json()) as { secret?: string };
    if (registered.status !== 201 || !endpoint.secret) throw new Error(`POST /v1/webhooks/endpoints answered ${registered.status}: ${JSON.stringify(endpoint)}`);
    const rig: Rig = { server, dataDir, headers, secret: endpoint.secret, receiver };

    await throughModelRoute(rig, Infinity, false, performance.now() + WARMUP_MS); // JIT, connections: not recorded
    const { figures: modelroute, ids } = await throughModelRoute(rig, EXECUTIONS, false);
    const retried = RETRY_EXECUTIONS > 0 ? (await throughModelRoute(rig, RETRY_EXECUTIONS, true)).figures : null;
    // The same body as a delivery of the first execution, for the bare limit of the receiver.
    const got = await fetch(`${server.url}/v1/executions/${ids[0]}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (got.status !== 200) throw new Error(`GET /v1/executions/${ids[0]} answered ${got.status}: ${await got.text()}`);
    const execution = (await got.json()) as Record<string, unknown>;
    await postDirectly(rig, execution, ids, performance.now() + WARMUP_MS);
    return { modelroute, retried, direct: await postDirectly(rig, execution, ids) };
  } finally {
    if (server) {
      server.proc.kill("SIGTERM");
      await server.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const medianOf = (figures: Figures[]): Figures => {
  const of = (field: "delivered" | "perSecond" | "p50" | "p99" | "max" | "duplicates" | "refused") => median(figures.map((f) => f[field]));
  return {
    delivered: of("delivered"),
    perSecond: of("perSecond"),
    p50: of("p50"),
    p99: of("p99"),
    max: of("max"),
    duplicates: of("duplicates"),
    refused: of("refused"),
    wrong: figures.reduce((sum, f) => sum + f.wrong, 0),
    samples: figures.flatMap((f) => f.samples),
  };
};

const tableRow = (name: string, f: Figures) =>
  `| ${name} | ${fmtInt(f.delivered)} | ${fmtInt(f.perSecond)} | ${fmtInt(f.p50)} | ${fmtInt(f.p99)} | ${fmtInt(f.max)} | ${fmtInt(f.duplicates)} | ${fmtInt(f.refused)} | ${f.wrong} |`;

const jsonOf = (f: Figures) => ({ delivered: f.delivered, per_second: Math.round(f.perSecond), p50_ms: f.p50, p99_ms: f.p99, max_ms: f.max, duplicates: f.duplicates, refused_first_attempts: f.refused, wrong: f.wrong });

async function main() {
  const binary = values.source ? undefined : ensureBinary(values.binary);
  pinLoadToCpu1(PIN);
  const receiver = await startReceiver();
  const reps: Rep[] = [];
  try {
    const where = canPin(PIN) ? "the gateway pinned to CPU 0, the receiver and the load to CPU 1" : "the gateway, the receiver and the load share the cores (not pinned)";
    console.log(`webhooks: ${binary ?? "bun src/main.ts (--source)"}; ${availableParallelism()} cores, bun ${Bun.version}; ${where}`);
    console.log(`  ${fmtInt(EXECUTIONS)} executions (retried: ${fmtInt(RETRY_EXECUTIONS)}) at concurrency ${CONCURRENCY}, ${REPS} repetitions`);
    for (let rep = 1; rep <= REPS; rep++) {
      const result = await runRep(receiver, binary);
      reps.push(result);
      const line = (name: string, f: Figures) => `  rep ${rep} ${name}: ${fmtInt(f.perSecond)} deliveries/s, p50 ${fmtInt(f.p50)} ms, p99 ${fmtInt(f.p99)} ms, ${f.wrong} wrong`;
      console.log([line("modelroute", result.modelroute), ...(result.retried ? [line("retried", result.retried)] : []), line("direct", result.direct)].join("\n"));
    }
  } finally {
    receiver.proc.kill("SIGTERM");
    await receiver.proc.exited;
  }

  const modelroute = medianOf(reps.map((r) => r.modelroute));
  const retried = RETRY_EXECUTIONS > 0 ? medianOf(reps.map((r) => r.retried!)) : null;
  const directly = medianOf(reps.map((r) => r.direct));
  const ratio = modelroute.perSecond / directly.perSecond;
  console.log(`medians of ${REPS} repetitions; latency: completed_at → the receiver's first accepted arrival (direct: request start → arrival), ms`);
  console.log("| path | delivered | deliveries/s | latency p50 | p99 | max | duplicates | refused first attempts | wrong |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  console.log(tableRow("ModelRoute", modelroute));
  if (retried) console.log(tableRow("ModelRoute, first attempt answered 500", retried));
  console.log(tableRow("direct to the receiver", directly));
  console.log(`ModelRoute / direct: ${fmt(ratio * 100, 1)} % of the receiver's own deliveries/s`);
  console.log("goals: — (none set for webhooks)");
  console.log(JSON.stringify({ bench: "webhooks", executions: EXECUTIONS, concurrency: CONCURRENCY, reps: REPS, binary: binary ?? "source", modelroute: jsonOf(modelroute), retried: retried && jsonOf(retried), direct: jsonOf(directly), ratio: Number(ratio.toFixed(4)) }));
  const rounds = [modelroute, ...(retried ? [retried] : []), directly];
  for (const sample of rounds.flatMap((f) => f.samples)) console.log(`  WRONG ANSWER: ${sample}`);
  const total = rounds.reduce((sum, f) => sum + f.wrong, 0);
  if (total > 0) {
    console.log(`!!! ${total} wrong answers: the figures above are not valid !!!`);
    process.exitCode = 1;
  }
}

if (values.receiver) runReceiver();
else await main();
