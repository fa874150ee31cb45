#!/usr/bin/env bun
/**
 * Executions, printed figures, not a test: the execution API of the COMPILED binary
 * (dist/modelroute, built first when missing; `--source` runs `bun src/main.ts` instead) beside a
 * minimal server written here, in the same run, one after the other, each alone on CPU 0 with the
 * load generator on CPU 1 where taskset exists (`--no-pin` turns it off).
 *
 * ModelRoute runs on a fresh data directory (bootstrap credit 1,000,000, rate limit off) with its
 * default catalog: `demo-model`, the built-in mock, answers at once. The minimal server is the
 * floor of such an API on Bun: `Bun.serve`, bun:sqlite in WAL mode on a fresh file, the Bearer
 * key's sha256 looked up in a Map (the gateway caches its key lookups too), a check that the body
 * has a string `model` and an object `input`, inserts queued and committed in one transaction per
 * event-loop turn (202 after the commit), and each row marked COMPLETED in a later batch, so an
 * execution costs both of them the same two writes. SYNC inserts and completes in one
 * transaction; GET /v1/executions/{id}/result is one prepared select.
 *
 * For each of --reps repetitions, each target is started fresh, then, after WARMUP_MS of
 * unrecorded ASYNC load at --concurrency and the end of the executions it created:
 *  - ASYNC `POST /v1/executions` at --concurrency for --seconds: creates/s (202 with an `exec_`
 *    id), and create → COMPLETED/s, from the start of that load until none of its executions is
 *    open any more; only rows with status COMPLETED count (the database file read read-only), a
 *    FAILED or other ended one is a wrong answer, and so is one still open after 60 s;
 *  - create p50/p99 at concurrency 1 (ASYNC, each answer a 202 with an id);
 *  - SYNC round trip p50/p99 at concurrency 1 (each a 200, status COMPLETED, an output);
 *  - GET /result p50/p99 at concurrency 1 over random executions created above (each a 200,
 *    COMPLETED, the id asked for). At scale /result is not measured here.
 * Prints the medians over the repetitions as a table, the goals with met / NOT met, and one line
 * `{"bench":"executions",...}` with every figure. Goals: create → COMPLETED at least 15,000/s on
 * one core; create p50 at concurrency 1 under 0.2 ms; /result at least 0.8x the minimal server's
 * requests/s, taken at concurrency 1 as minimal p50 / ModelRoute p50. Only 127.0.0.1 is called,
 * every request gives up after 30 s; exit code 1 when any answer was wrong.
 *
 *   bun scripts/bench/executions.ts [--seconds 5] [--reps 2] [--concurrency 64] [--no-pin]
 *     [--binary dist/modelroute | --source]
 *
 * Run as `bun scripts/bench/executions.ts --minimal-server PORT --db FILE` (key in the
 * environment variable MINIMAL_API_KEY) it is the minimal server; the benchmark starts it itself.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { databasePath } from "../../src/db/client";
import { freePort, spawnServer } from "../../test/helpers/process";
import { canPin, checkedProbe, ensureBinary, fmt, fmtInt, measure, median, onCpu, OPEN_EXECUTION, parsed, pinLoadToCpu1, post, signed, type Probe, type Run } from "./lib";
import { stopTree } from "./overhead/processes";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "2" },
    concurrency: { type: "string", default: "64" },
    "no-pin": { type: "boolean", default: false },
    binary: { type: "string" },
    source: { type: "boolean", default: false },
    "minimal-server": { type: "string" },
    db: { type: "string" },
  },
});


/** The minimal server process (see the header); served until killed. */
async function runMinimalServer(port: number, dbPath: string, apiKey: string) {
  const db = new Database(dbPath, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL"); // as ModelRoute's
  db.exec("CREATE TABLE executions (id TEXT PRIMARY KEY, org_id TEXT NOT NULL, model TEXT NOT NULL, status TEXT NOT NULL, mode TEXT NOT NULL, input TEXT NOT NULL, output TEXT, created_at INTEGER NOT NULL, completed_at INTEGER)");
  db.exec(`CREATE INDEX executions_open ON executions (status) WHERE ${OPEN_EXECUTION}`);
  const sha256 = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest("hex");
  const orgOfKeyHash = new Map([[sha256(apiKey), "org_bench"]]);
  const OUTPUT = JSON.stringify({ text: "hello" });
  const insert = db.prepare("INSERT INTO executions (id, org_id, model, status, mode, input, created_at) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)");
  const complete = db.prepare("UPDATE executions SET status = 'COMPLETED', output = ?, completed_at = ? WHERE id = ? RETURNING id, status, output");
  const resultOf = db.prepare("SELECT id, status, output FROM executions WHERE id = ? AND org_id = ?");

  type Queued = { id: string; orgId: string; model: string; input: string; committed: () => void; failed: (error: Error) => void };
  let toInsert: Queued[] = [];
  let toComplete: string[] = [];
  let flushQueued = false;
  const writeBatch = db.transaction((inserts: Queued[], completions: string[], now: number) => {
    for (const id of completions) complete.run(OUTPUT, now, id);
    for (const q of inserts) insert.run(q.id, q.orgId, q.model, "ASYNC", q.input, now);
  });
  const queueFlush = () => {
    if (flushQueued) return;
    flushQueued = true;
    setImmediate(flush);
  };
  function flush() {
    flushQueued = false;
    const [inserts, completions] = [toInsert, toComplete];
    [toInsert, toComplete] = [[], []];
    try {
      writeBatch(inserts, completions, Date.now());
    } catch (error) {
      for (const q of inserts) q.failed(error as Error);
      return;
    }
    for (const q of inserts) q.committed();
    // The completion step: what was created in this batch ends in the next one.
    toComplete = inserts.map((q) => q.id);
    if (toComplete.length > 0) queueFlush();
  }
  const runSync = db.transaction((id: string, orgId: string, model: string, input: string, now: number) => {
    insert.run(id, orgId, model, "SYNC", input, now);
    return complete.get(OUTPUT, now, id) as { id: string; status: string; output: string };
  });

  const problem = (status: number, message: string) => Response.json({ error: { message } }, { status });
  const callerOrg = (req: Request) => {
    const authorization = req.headers.get("authorization") ?? "";
    return authorization.startsWith("Bearer ") ? orgOfKeyHash.get(sha256(authorization.slice(7))) : undefined;
  };
  Bun.serve({
    hostname: "127.0.0.1",
    port,
    routes: {
      "/healthz": new Response("ok"),
      "/v1/executions": {
        async POST(req) {
          const orgId = callerOrg(req);
          if (!orgId) return problem(401, "unknown API key");
          const body = (await req.json().catch(() => null)) as { model?: unknown; input?: unknown; mode?: unknown } | null;
          const { model, input } = body ?? {};
          if (typeof model !== "string" || typeof input !== "object" || input === null || Array.isArray(input)) return problem(400, "a string model and an object input are required");
          const id = `exec_${Bun.randomUUIDv7()}`;
          if (body!.mode === "SYNC") {
            const row = runSync(id, orgId, model, JSON.stringify(input), Date.now());
            return Response.json({ id: row.id, status: row.status, output: JSON.parse(row.output) });
          }
          await new Promise<void>((committed, failed) => {
            toInsert.push({ id, orgId, model, input: JSON.stringify(input), committed, failed });
            queueFlush();
          });
          return Response.json({ id, status: "PENDING" }, { status: 202 });
        },
      },
      "/v1/executions/:id/result": {
        GET(req) {
          const orgId = callerOrg(req);
          if (!orgId) return problem(401, "unknown API key");
          const row = resultOf.get(req.params.id, orgId) as { id: string; status: string; output: string | null } | null;
          if (!row) return problem(404, "no such execution");
          return Response.json({ execution_id: row.id, status: row.status, output: row.output === null ? null : JSON.parse(row.output) });
        },
      },
    },
    fetch: () => problem(404, "not found"),
  });
  await new Promise(() => {}); // served until killed
}

if (values["minimal-server"]) {
  await runMinimalServer(Number(values["minimal-server"]), values.db!, process.env.MINIMAL_API_KEY!);
}

const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const CONCURRENCY = Number(values.concurrency);
const PIN = !values["no-pin"];
const REQUEST_TIMEOUT_MS = 30_000;
const COMPLETION_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 10_000;
const GOALS = { completedPerSecond: 15_000, createP50Ms: 0.2, resultShare: 0.8 };
const binary = values.source ? undefined : ensureBinary(values.binary);

/** A target while it runs: where to send, with which key, and the SQLite file its executions are in. */
type Started = { url: string; apiKey: string; dbPath: string; stop(): Promise<void> };
type Target = { name: string; about: string; start(): Promise<Started> };

/** The running target's process and its temporary directory, by pid: what an interrupted run must not leave behind. */
const running = new Map<number, string>();
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    for (const [pid, dir] of running) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // it had exited already
      }
      rmSync(dir, { recursive: true, force: true });
    }
    process.exit(130);
  });

/** A target's process `pid` (spawned by this benchmark) with its directory `dir`: stopping it removes both. */
function tracked(pid: number, dir: string, started: Omit<Started, "stop">): Started {
  running.set(pid, dir);
  const stop = async () => {
    await stopTree(pid);
    rmSync(dir, { recursive: true, force: true });
    running.delete(pid);
  };
  return { ...started, stop };
}

const modelroute: Target = {
  name: "ModelRoute",
  about: binary ? `the compiled binary ${binary}` : "from source (bun src/main.ts)",
  async start() {
    const dataDir = mkdtempSync(join(tmpdir(), "modelroute-bench-executions-"));
    try {
      const server = await spawnServer(dataDir, { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0" }, undefined, { binary });
      if (canPin(PIN)) Bun.spawnSync(["taskset", "-a", "-cp", "0", String(server.proc.pid)], { stdout: "ignore" });
      const apiKey: string = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
      return tracked(server.proc.pid, dataDir, { url: server.url, apiKey, dbPath: databasePath(dataDir) });
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  },
};

const minimal: Target = {
  name: "minimal",
  about: "Bun.serve + bun:sqlite (WAL), cached key hash, batched inserts and completions (this file, --minimal-server)",
  async start() {
    const dir = mkdtempSync(join(tmpdir(), "modelroute-bench-executions-minimal-"));
    const dbPath = join(dir, "minimal.db");
    const apiKey = crypto.randomUUID();
    const port = await freePort();
    const cmd = [process.execPath, import.meta.path, "--minimal-server", String(port), "--db", dbPath];
    const proc = Bun.spawn(onCpu(PIN, 0, cmd), { env: { ...process.env, MINIMAL_API_KEY: apiKey }, stdout: "inherit", stderr: "inherit" });
    const url = `http://127.0.0.1:${port}`;
    const started = tracked(proc.pid, dir, { url, apiKey, dbPath });
    const until = performance.now() + START_TIMEOUT_MS;
    while (!(await fetch(`${url}/healthz`).then((r) => r.ok, () => false))) {
      if (proc.exitCode !== null || performance.now() > until) {
        await started.stop();
        throw new Error(`the minimal server did not start (exit code ${proc.exitCode})`);
      }
      await Bun.sleep(20);
    }
    return started;
  },
};

const TARGETS = [modelroute, minimal];

/** ASYNC creates; each answer must be a 202 with an `exec_` id, which goes into `ids`. */
const createProbe = (t: Started, who: string, ids: string[]): Probe =>
  checkedProbe(
    post(`${t.url}/v1/executions`, { authorization: `Bearer ${t.apiKey}` }, { model: "demo-model", input: { text: "hello benchmark" } }),
    (status, text) => {
      const id = parsed<{ id?: unknown }>(text)?.id;
      if (status !== 202 || typeof id !== "string" || !id.startsWith("exec_")) return `${who} create: HTTP ${status} ${text.slice(0, 300)}`;
      ids.push(id);
      return null;
    },
    REQUEST_TIMEOUT_MS,
  );

const syncProbe = (t: Started, who: string): Probe =>
  checkedProbe(
    post(`${t.url}/v1/executions`, { authorization: `Bearer ${t.apiKey}` }, { model: "demo-model", mode: "SYNC", input: { text: "hello benchmark" } }),
    (status, text) => {
      const body = parsed<{ status?: string; output?: unknown }>(text);
      return status === 200 && body?.status === "COMPLETED" && typeof body.output === "object" && body.output !== null ? null : `${who} SYNC: HTTP ${status} ${text.slice(0, 300)}`;
    },
    REQUEST_TIMEOUT_MS,
  );

/** GET /result of a random one of `ids`: 200, COMPLETED, the execution asked for. */
const resultProbe = (t: Started, who: string, ids: string[]): Probe => async () => {
  const id = ids[Math.floor(Math.random() * ids.length)]!;
  const probe = checkedProbe(
    [`${t.url}/v1/executions/${id}/result`, { headers: { authorization: `Bearer ${t.apiKey}` } }],
    (status, text) => {
      const body = parsed<{ execution_id?: string; status?: string }>(text);
      return status === 200 && body?.execution_id === id && body.status === "COMPLETED" ? null : `${who} /result of ${id}: HTTP ${status} ${text.slice(0, 300)}`;
    },
    REQUEST_TIMEOUT_MS,
  );
  return probe();
};

type Ended = { completed: number; other: number };
/** Waits (at most COMPLETION_TIMEOUT_MS) until no execution is open and `expected` more have ended than in `before`; `at` is when none was open any more. */
async function awaitEnded(db: Database, before: Ended, expected: number): Promise<Ended & { at: number; open: number }> {
  const openNow = () => (db.query(`SELECT count(*) AS n FROM executions WHERE ${OPEN_EXECUTION}`).get() as { n: number }).n;
  const endedNow = () =>
    db.query(`SELECT count(*) FILTER (WHERE status = 'COMPLETED') AS completed, count(*) FILTER (WHERE status <> 'COMPLETED' AND NOT (${OPEN_EXECUTION})) AS other FROM executions`).get() as Ended;
  const until = performance.now() + COMPLETION_TIMEOUT_MS;
  for (;;) {
    const open = openNow();
    const at = performance.now();
    if (open === 0) {
      const ended = endedNow();
      if (ended.completed + ended.other - before.completed - before.other >= expected) return { ...ended, at, open };
    }
    if (at > until) return { ...endedNow(), at, open };
    await Bun.sleep(5);
  }
}

/** One repetition's figures for one target (latencies in ms). */
const FIELDS = ["createsPerSecond", "completedPerSecond", "created", "completed", "createP50", "createP99", "syncP50", "syncP99", "resultP50", "resultP99", "resultPerSecond", "wrong"] as const;
type Figures = Record<(typeof FIELDS)[number], number>;
type Rep = Figures & { problems: string[] };

/** Right answers per second of a run. */
const rightPerSecond = (r: Run) => (r.n === 0 ? 0 : (r.rps * (r.n - r.wrong)) / r.n);

async function measureTarget(target: Target): Promise<Rep> {
  const t = await target.start();
  const db = new Database(t.dbPath, { readonly: true });
  const who = target.name;
  const problems: string[] = [];
  let wrong = 0;
  /** Waits for the executions of a phase to end; FAILED, other ended and still open ones are wrong answers. */
  const settle = async (before: Ended, created: number, phase: string) => {
    const ended = await awaitEnded(db, before, created);
    const completed = ended.completed - before.completed;
    const notCompleted = created - completed;
    if (notCompleted > 0) {
      wrong += notCompleted;
      const open = ended.open > 0 ? `, ${ended.open} still open after ${COMPLETION_TIMEOUT_MS / 1000} s` : "";
      problems.push(`${who} ${phase}: ${notCompleted} of ${created} created executions not COMPLETED (${ended.other - before.other} FAILED or otherwise ended${open})`);
    }
    return ended;
  };
  try {
    // Warm-up (JIT, connections, the first pages): WARMUP_MS of load, nothing recorded; then its executions end.
    const warmIds: string[] = [];
    await measure(createProbe(t, who, warmIds), CONCURRENCY, 0);
    const afterWarmUp = await settle({ completed: 0, other: 0 }, warmIds.length, "warm-up");

    // create → COMPLETED counts from the start of this load (its own warm-up included, on a warm server) to the end of all it created.
    const ids: string[] = [];
    const started = performance.now();
    const creates = await measure(createProbe(t, who, ids), CONCURRENCY, SECONDS);
    const ended = await settle(afterWarmUp, ids.length, `ASYNC c=${CONCURRENCY}`);
    const completed = ended.completed - afterWarmUp.completed;

    const createC1 = await measure(createProbe(t, who, []), 1, SECONDS);
    const sync = await measure(syncProbe(t, who), 1, SECONDS);
    const result = ids.length > 0 ? await measure(resultProbe(t, who, ids), 1, SECONDS) : null;
    const runs = [creates, createC1, sync, ...(result ? [result] : [])];
    for (const r of runs) {
      wrong += r.wrong;
      problems.push(...r.samples);
    }
    if (!result) {
      wrong++;
      problems.push(`${who}: no execution was created, /result not measured`);
    }
    const stat = (r: Run | null) => r?.stats[0] ?? { p50: NaN, p99: NaN };
    return {
      createsPerSecond: rightPerSecond(creates),
      completedPerSecond: completed / ((ended.at - started) / 1000),
      created: ids.length,
      completed,
      createP50: stat(createC1).p50,
      createP99: stat(createC1).p99,
      syncP50: stat(sync).p50,
      syncP99: stat(sync).p99,
      resultP50: stat(result).p50,
      resultP99: stat(result).p99,
      resultPerSecond: result ? rightPerSecond(result) : NaN,
      wrong,
      problems,
    };
  } finally {
    db.close();
    await t.stop();
  }
}

pinLoadToCpu1(PIN);
const setting = canPin(PIN)
  ? `${availableParallelism()} cores, bun ${Bun.version}; each target alone on CPU 0, the load generator on CPU 1`
  : `${availableParallelism()} cores, bun ${Bun.version}; not pinned: target and load generator share the cores`;
console.log(`executions: ${SECONDS} s per measurement, ${REPS} repetitions, ASYNC at concurrency ${CONCURRENCY}; ${setting}`);
for (const target of TARGETS) console.log(`  ${target.name}: ${target.about}`);

const reps = new Map<Target, Rep[]>(TARGETS.map((target) => [target, []]));
for (let rep = 1; rep <= REPS; rep++)
  for (const target of TARGETS) {
    const r = await measureTarget(target);
    reps.get(target)!.push(r);
    console.log(
      `  ${target.name} rep ${rep}: ${fmtInt(r.createsPerSecond)} creates/s, ${fmtInt(r.completedPerSecond)} COMPLETED/s (${fmtInt(r.completed)} of ${fmtInt(r.created)}), create p50 c=1 ${fmt(r.createP50, 3)} ms, SYNC p50 ${fmt(r.syncP50, 3)} ms, /result p50 ${fmt(r.resultP50, 3)} ms, ${r.wrong} wrong`,
    );
    for (const p of r.problems.slice(0, 5)) console.log(`  WRONG ANSWER: ${p}`);
  }

// ---- medians over the repetitions ----
const med = (target: Target, field: keyof Figures) => median(reps.get(target)!.map((r) => r[field]));
const mr = (field: keyof Figures) => med(modelroute, field);
const floor = (field: keyof Figures) => med(minimal, field);
const ratio = (field: keyof Figures) => mr(field) / floor(field);
const ms = (n: number) => (Number.isFinite(n) ? fmt(n, 3) : "–");
const times = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : "–");

console.log(`\nmedians over ${REPS} repetitions; latency in ms at concurrency 1; per second counts right answers only\n`);
console.log(`| target | ASYNC creates/s c=${CONCURRENCY} | / minimal | create → COMPLETED/s | / minimal | create p50 c=1 | − minimal | create p99 c=1 | SYNC p50 | SYNC p99 | /result p50 | /result p99 |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const target of TARGETS) {
  const mine = target === modelroute;
  const cells = [
    fmtInt(med(target, "createsPerSecond")),
    mine ? times(ratio("createsPerSecond")) : "–",
    fmtInt(med(target, "completedPerSecond")),
    mine ? times(ratio("completedPerSecond")) : "–",
    ms(med(target, "createP50")),
    mine ? signed(mr("createP50") - floor("createP50")) : "–",
    ...(["createP99", "syncP50", "syncP99", "resultP50", "resultP99"] as const).map((f) => ms(med(target, f))),
  ];
  console.log(`| ${target.name} | ${cells.join(" | ")} |`);
}

// ---- goals ----
const goals = [
  {
    goal: `create → COMPLETED at least ${fmtInt(GOALS.completedPerSecond)}/s on one core${canPin(PIN) ? "" : " (not pinned: measured on shared cores)"}`,
    value: `${fmtInt(mr("completedPerSecond"))}/s`,
    met: mr("completedPerSecond") >= GOALS.completedPerSecond,
  },
  { goal: `create p50 at concurrency 1 under ${GOALS.createP50Ms} ms`, value: `${ms(mr("createP50"))} ms`, met: mr("createP50") < GOALS.createP50Ms },
  {
    goal: `/result at least ${GOALS.resultShare}× the minimal server's requests/s (measured at concurrency 1: minimal p50 / ModelRoute p50)`,
    value: times(floor("resultP50") / mr("resultP50")),
    met: floor("resultP50") / mr("resultP50") >= GOALS.resultShare,
  },
];
console.log("");
for (const g of goals) console.log(`goal: ${g.goal}: ${g.value} -> ${g.met ? "met" : "NOT met"}`);

const wrong = TARGETS.reduce((sum, target) => sum + reps.get(target)!.reduce((n, r) => n + r.wrong, 0), 0);
const figuresOf = (target: Target) => ({
  ...Object.fromEntries(FIELDS.map((field) => [field, med(target, field)])),
  reps: reps.get(target)!.map(({ problems: _, ...figures }) => figures),
});
console.log(
  JSON.stringify({
    bench: "executions",
    program: binary ?? "source",
    pinned: canPin(PIN),
    seconds: SECONDS,
    reps: REPS,
    concurrency: CONCURRENCY,
    modelroute: figuresOf(modelroute),
    minimal: figuresOf(minimal),
    ratios: { createsPerSecond: ratio("createsPerSecond"), completedPerSecond: ratio("completedPerSecond"), createP50DifferenceMs: mr("createP50") - floor("createP50"), resultP50MinimalOverModelRoute: floor("resultP50") / mr("resultP50") },
    goals,
    wrong,
  }),
);
if (wrong > 0) {
  console.log(`!!! ${wrong} wrong answers: the figures above are not valid !!!`);
  process.exitCode = 1;
}
