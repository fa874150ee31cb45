#!/usr/bin/env bun
/**
 * Scale, printed figures, not a test: how the gateway behaves as its database grows. For each
 * size of --rows (default 10,000 and 1,000,000 executions; 10,000,000 takes minutes and ~6.5 GB
 * of disk, 633 MB a million rows, so it is asked for: `--rows 10000,1000000,10000000`), on a
 * fresh data directory:
 *  1. the COMPILED binary (dist/modelroute, built first when missing; `--source` runs
 *     `bun src/main.ts` instead) starts (bootstrap credit 1,000,000, rate limit off) and makes
 *     200 real ASYNC `demo-model` executions through the API, each a 202 and then COMPLETED; it
 *     stops (SIGTERM);
 *  2. the rest are seeded straight into the SQLite file, in large transactions: copies of those
 *     real rows, every column as it is (input, output, usage, cost, hold, route, served model…)
 *     under a new id, spread over the 7 days before the first real one with ids in time order as
 *     the gateway makes them. A finished execution is its own ledger resolution (docs/decisions.md
 *     "Resolutions derived from the execution"), so each copy's cost comes off the balance and goes
 *     into its key's spend for its UTC day, as settling a real one does;
 *  3. the binary restarts on it (alone on CPU 0, this process on CPU 1, where taskset exists;
 *     `--no-pin` turns it off) and, each after a warm-up, measures at concurrency 1 for --seconds:
 *     GET /v1/executions/{id}/result and GET /v1/executions/{id} of random existing executions
 *     (each a 200, COMPLETED, the id asked for); GET /v1/executions?limit=20 (a 200, a full
 *     page); ASYNC creates (each a 202, and every one COMPLETED at the end, read from the file);
 *  4. it stops and is started 3 times more on the same database, each timed from spawn to its
 *     first /healthz 200 (polled every 1 ms, as startup.ts): the cold start at this size;
 *  5. then the database's growth over the just-bootstrapped one, by table and index
 *     (SQLite's dbstat, as storage.ts), per execution, and the file's size. Up to 1 M rows the
 *     ledger invariants of test/helpers/invariants.ts are checked on the file.
 * Prints a table, the goals with met / NOT met (/result flat: the largest size's p50 within 1.5×
 * of the smallest's; at most 600 bytes per completed small execution, at the largest size; cold
 * start under 50 ms at the largest size; the server's RSS under 120 MB after serving the largest) and one line `{"bench":"scale",...}`. Only 127.0.0.1 is called and every wait is bounded;
 * exit code 1 on any wrong answer. `--keep` keeps the data directories (their path is printed).
 *
 *   bun scripts/bench/scale.ts [--rows 10000,1000000] [--seconds 3] [--no-pin]
 *     [--binary dist/modelroute | --source] [--keep]
 */
import { Database } from "bun:sqlite";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { databasePath } from "../../src/db/client";
import { invariants } from "../../test/helpers/invariants";
import { serverProgram, spawnServer, type ServerProcess } from "../../test/helpers/process";
import { bytesByObject, canPin, checkedProbe, ensureBinary, fmt, fmtInt, growthByObject, measure, median, memoryOf, parsed, pinLoadToCpu1, post, stopTimed, timedStart, type Probe, type Run, type Stat } from "./lib";
import { stopTree } from "./overhead/processes";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    rows: { type: "string", default: "10000,1000000" },
    seconds: { type: "string", default: "3" },
    "no-pin": { type: "boolean", default: false },
    binary: { type: "string" },
    source: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});
const SIZES = [...new Set(values.rows.split(",").map(Number))].sort((a, b) => a - b);
if (SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--rows takes whole numbers above 0, comma-separated: ${values.rows}`);
const SECONDS = Number(values.seconds);
const PIN = !values["no-pin"];
const KEEP = values.keep;
const REAL_EXECUTIONS = 200;
const DAY_MS = 86_400_000;
/** Inside the default 30-day retention, so the purge does not rewrite the copies while we measure. */
const SEED_SPAN_MS = 7 * DAY_MS;
const SEED_BATCH = 50_000;
/** How many random existing ids the reads draw from: enough that they do not stay in a few cached pages. */
const SAMPLE_IDS = 20_000;
/** The invariants helper reads every execution into memory: above this it is not run. */
const INVARIANTS_UP_TO = 1_000_000;
const LIST_LIMIT = 20;
const REQUEST_TIMEOUT_MS = 30_000;
const COMPLETION_TIMEOUT_MS = 60_000;
const GOALS = { resultFlatRatio: 1.5, bytesPerExecution: 600, rssMb: 120, coldStartMs: 50 };
const COLD_STARTS = 3;
const SERVER_ENV = { MODELROUTE_BOOTSTRAP_CREDIT: "1000000", MODELROUTE_RATE_LIMIT_RPM: "0" };
const OPEN = new Set(["PENDING", "PROCESSING", "AWAITING_WEBHOOK"]);
const binary = values.source ? undefined : ensureBinary(values.binary);
/** What timedStart runs: the binary, or the source as spawnServer runs it. */
const program = serverProgram(binary);

const workDir = mkdtempSync(join(tmpdir(), "modelroute-bench-scale-"));
let running: ServerProcess | null = null;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    running?.proc.kill("SIGKILL");
    if (!KEEP) rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  });

async function startServer(dataDir: string): Promise<ServerProcess> {
  running = await spawnServer(dataDir, SERVER_ENV, undefined, { binary });
  return running;
}

/** SIGTERM (a clean shutdown checkpoints the WAL into the file), SIGKILL after 5 s. */
async function stopServer() {
  if (!running) return;
  const server = running;
  running = null;
  await stopTree(server.proc.pid);
  await server.exited;
}

/** Wrong answers over the whole run, and the first few of each kind, to print. */
let wrong = 0;
const problems: string[] = [];
const recordRun = (r: Run) => {
  wrong += r.wrong;
  problems.push(...r.samples);
};
const recordProblems = (found: string[]) => {
  wrong += found.length;
  problems.push(...found.slice(0, 5));
};

const auth = (apiKey: string) => ({ authorization: `Bearer ${apiKey}` });

/** ASYNC `demo-model` creates: each answer a 202 with an `exec_` id, which goes into `ids`. */
const createProbe = (url: string, apiKey: string, ids: string[]): Probe =>
  checkedProbe(
    post(`${url}/v1/executions`, auth(apiKey), { model: "demo-model", input: { text: "hello" } }),
    (status, text) => {
      const id = parsed<{ id?: unknown }>(text)?.id;
      if (status !== 202 || typeof id !== "string" || !id.startsWith("exec_")) return `create: HTTP ${status} ${text.slice(0, 300)}`;
      ids.push(id);
      return null;
    },
    REQUEST_TIMEOUT_MS,
  );

/** GET `path(id)` of a random one of `ids`: a 200, status COMPLETED, the body's `idField` the id asked for. */
const randomReadProbe =
  (url: string, apiKey: string, ids: string[], path: (id: string) => string, idField: "id" | "execution_id"): Probe =>
  () => {
    const id = ids[Math.floor(Math.random() * ids.length)]!;
    const probe = checkedProbe(
      [`${url}${path(id)}`, { headers: auth(apiKey) }],
      (status, text) => {
        const body = parsed<Record<string, unknown>>(text);
        return status === 200 && body?.[idField] === id && body.status === "COMPLETED" ? null : `GET ${path(id)}: HTTP ${status} ${text.slice(0, 300)}`;
      },
      REQUEST_TIMEOUT_MS,
    );
    return probe();
  };

/** The first page of the list: a 200 with `expected` executions. */
const listProbe = (url: string, apiKey: string, expected: number): Probe =>
  checkedProbe(
    [`${url}/v1/executions?limit=${LIST_LIMIT}`, { headers: auth(apiKey) }],
    (status, text) => {
      const data = parsed<{ data?: { id?: string }[] }>(text)?.data;
      return status === 200 && data?.length === expected && data.every((e) => e.id?.startsWith("exec_")) ? null : `list: HTTP ${status} ${text.slice(0, 300)}`;
    },
    REQUEST_TIMEOUT_MS,
  );

/** Waits (at most COMPLETION_TIMEOUT_MS) until none of `ids` is open, reading the file read-only; what is wrong with those not COMPLETED then. */
async function notCompleted(dbPath: string, ids: string[]): Promise<string[]> {
  const db = new Database(dbPath, { readonly: true });
  try {
    const statusOf = db.query("SELECT status FROM executions WHERE id = ?");
    const status = (id: string) => (statusOf.get(id) as { status: string } | null)?.status ?? "not in the database";
    const until = performance.now() + COMPLETION_TIMEOUT_MS;
    let open = ids.filter((id) => OPEN.has(status(id)));
    while (open.length > 0 && performance.now() < until) {
      await Bun.sleep(20);
      open = open.filter((id) => OPEN.has(status(id)));
    }
    return ids.flatMap((id) => (status(id) === "COMPLETED" ? [] : [`execution ${id} is ${status(id)}`]));
  } finally {
    db.close();
  }
}

/** A uniform random sample of at most `size` of the values offered (reservoir sampling: one pass, any count). */
function reservoir(size: number) {
  const values: string[] = [];
  let seen = 0;
  return {
    values,
    offer(value: string) {
      seen++;
      if (values.length < size) values.push(value);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < size) values[slot] = value;
      }
    },
  };
}

/**
 * Copies the COMPLETED executions of `dbPath` (made through the API) until there are `rows`, in
 * transactions of SEED_BATCH, each also charging its copies' cost to the balance and to key_spend,
 * so the ledger adds up after every commit. Bound inserts of the rows read once: an
 * `INSERT INTO executions SELECT … FROM executions` measured 2.8× slower (SQLite first copies what
 * it selects from the table it writes). Returns the seconds it took, a random sample of every
 * execution's id and the org.
 */
function seed(dbPath: string, rows: number) {
  const started = performance.now();
  const db = new Database(dbPath, { strict: true });
  try {
    db.exec("PRAGMA synchronous = OFF"); // a throwaway database: no fsync per transaction
    const read = db.query("SELECT * FROM executions WHERE status = 'COMPLETED' ORDER BY id");
    const sources = read.values() as (string | number | null)[][];
    const columns = read.columnNames;
    if (sources.length === 0) throw new Error("no COMPLETED execution to copy");
    const [ID, ORG, KEY, COST, CREATED] = ["id", "org_id", "key_id", "cost_micros", "created_at"].map((name) => columns.indexOf(name)) as [number, number, number, number, number];
    const orgId = sources[0]![ORG] as string;
    if (sources.some((s) => s[ORG] !== orgId)) throw new Error("the real executions belong to more than one org");
    // Every column as the source has it but the id and the times (every *_at), all moved by the same shift so durations and deadlines stay.
    const times = columns.flatMap((c, i) => (c.endsWith("_at") ? [i] : []));
    const insert = db.prepare(`INSERT INTO executions (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
    const charge = db.prepare("UPDATE balances SET available_micros = available_micros - ?1 WHERE org_id = ?2");
    const spend = db.prepare(
      "INSERT INTO key_spend (key_id, day, captured_micros) VALUES (?1, ?2, ?3) ON CONFLICT (key_id, day) DO UPDATE SET captured_micros = captured_micros + excluded.captured_micros",
    );
    const sample = reservoir(SAMPLE_IDS);
    for (const s of sources) sample.offer(s[ID] as string);
    const copies = rows - sources.length;
    const firstAt = (sources[0]![CREATED] as number) - SEED_SPAN_MS;
    const step = SEED_SPAN_MS / Math.max(1, copies);
    const copyBatch = db.transaction((from: number, to: number) => {
      let charged = 0;
      const spentByKeyDay = new Map<string, { keyId: string; day: number; micros: number }>();
      for (let i = from; i < to; i++) {
        const source = sources[i % sources.length]!;
        const createdAt = firstAt + Math.floor(i * step);
        const shift = createdAt - (source[CREATED] as number);
        const row = source.slice();
        // The id's time is its creation time, as newId makes it: ids sort as created_at does.
        const id = `exec_${Bun.randomUUIDv7("hex", createdAt)}`;
        row[ID] = id;
        for (const t of times) if (row[t] !== null) row[t] = (row[t] as number) + shift;
        insert.run(...row);
        sample.offer(id);
        // cost ≤ hold: a copy that costs anything held, so it is a resolution that captured its cost.
        const cost = (source[COST] as number | null) ?? 0;
        if (cost === 0) continue;
        charged += cost;
        const keyId = source[KEY] as string | null;
        if (keyId === null) continue;
        const day = Math.floor(createdAt / DAY_MS);
        const slot = `${keyId} ${day}`;
        const spent = spentByKeyDay.get(slot) ?? spentByKeyDay.set(slot, { keyId, day, micros: 0 }).get(slot)!;
        spent.micros += cost;
      }
      charge.run(charged, orgId);
      for (const s of spentByKeyDay.values()) spend.run(s.keyId, s.day, s.micros);
    });
    for (let from = 0; from < copies; from += SEED_BATCH) {
      const to = Math.min(copies, from + SEED_BATCH);
      copyBatch(from, to);
      if (copies >= 1_000_000 && Math.floor(to / 1_000_000) > Math.floor(from / 1_000_000))
        console.log(`    seeded ${fmtInt(to)} of ${fmtInt(copies)} copies (${fmt((performance.now() - started) / 1000, 1)} s)`);
    }
    const available = (db.query("SELECT available_micros AS micros FROM balances WHERE org_id = ?").get(orgId) as { micros: number }).micros;
    if (available < 0) throw new Error(`the bootstrap credit does not cover the copies' cost: available ${available} micros`);
    return { seconds: (performance.now() - started) / 1000, sample: sample.values, orgId, copies };
  } finally {
    db.close();
  }
}

type Figures = {
  rows: number;
  real: number;
  copies: number;
  seedSeconds: number;
  result: Stat;
  get: Stat;
  list: Stat;
  create: Stat;
  created: number;
  bytesPerExecution: number;
  /** Growth per execution by table and index, largest first. */
  byObject: { name: string; bytes: number }[];
  fileBytes: number;
  /** The server's resident memory after the measurements on this database, and its peak, in MiB. */
  rssMb: number;
  peakRssMb: number;
  invariants: "held" | "broken" | "not checked";
  /** Spawn → first /healthz 200 on this database, polled every 1 ms: the median of COLD_STARTS. */
  coldStartMs: number;
};

const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);

async function measureSize(rows: number): Promise<Figures> {
  const dataDir = join(workDir, `rows-${rows}`);
  mkdirSync(dataDir);
  const dbPath = databasePath(dataDir);
  try {
    // 1. The first start migrates and bootstraps; the real executions are what every copy is made of.
    let server = await startServer(dataDir);
    const apiKey: string = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).api_key;
    const bootstrapped = bytesByObject(dbPath);
    const realIds: string[] = [];
    const create = createProbe(server.url, apiKey, realIds);
    for (let i = 0; i < Math.min(REAL_EXECUTIONS, rows); i++) {
      const { problem } = await create();
      if (problem) recordProblems([`real execution: ${problem}`]);
    }
    recordProblems(await notCompleted(dbPath, realIds));
    await stopServer();

    // 2. The copies.
    const seeded = seed(dbPath, rows);
    console.log(`  ${fmtInt(rows)} rows: ${realIds.length} real executions, ${fmtInt(seeded.copies)} copies seeded in ${fmt(seeded.seconds, 2)} s`);

    // 3. The measurements, on a server that has never seen these rows.
    server = await startServer(dataDir);
    if (canPin(PIN)) Bun.spawnSync(["taskset", "-a", "-cp", "0", String(server.proc.pid)], { stdout: "ignore" });
    const result = await measure(randomReadProbe(server.url, apiKey, seeded.sample, (id) => `/v1/executions/${id}/result`, "execution_id"), 1, SECONDS);
    const get = await measure(randomReadProbe(server.url, apiKey, seeded.sample, (id) => `/v1/executions/${id}`, "id"), 1, SECONDS);
    const list = await measure(listProbe(server.url, apiKey, Math.min(LIST_LIMIT, rows)), 1, SECONDS);
    const createdIds: string[] = [];
    const creates = await measure(createProbe(server.url, apiKey, createdIds), 1, SECONDS);
    for (const r of [result, get, list, creates]) recordRun(r);
    recordProblems(await notCompleted(dbPath, createdIds));
    const memory = memoryOf(server.proc.pid);
    await stopServer();

    // Cold starts on this database, polled every 1 ms as startup.ts does.
    const starts: number[] = [];
    for (let i = 0; i < COLD_STARTS; i++) {
      const started = await timedStart(program, dataDir, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", NODE_ENV: "production", ...SERVER_ENV } });
      starts.push(started.startMs);
      await stopTimed(started);
    }

    // 5. What the database holds per execution, over the just-bootstrapped one.
    const executions = rows + createdIds.length;
    const growth = growthByObject(bootstrapped, bytesByObject(dbPath));
    const total = growth.reduce((sum, r) => sum + r.bytes, 0);
    let checked: Figures["invariants"] = "not checked";
    if (rows <= INVARIANTS_UP_TO) {
      const db = new Database(dbPath, { readonly: true });
      try {
        invariants(db, seeded.orgId);
        checked = "held";
      } catch (error) {
        checked = "broken";
        recordProblems([(error as Error).message]);
      } finally {
        db.close();
      }
    }
    return {
      rows,
      real: realIds.length,
      copies: seeded.copies,
      seedSeconds: seeded.seconds,
      result: result.stats[0]!,
      get: get.stats[0]!,
      list: list.stats[0]!,
      create: creates.stats[0]!,
      created: createdIds.length,
      bytesPerExecution: total / executions,
      byObject: growth.map((r) => ({ name: r.name, bytes: r.bytes / executions })),
      fileBytes: fileSize(dbPath) + fileSize(`${dbPath}-wal`),
      rssMb: memory.rss,
      peakRssMb: memory.peak,
      invariants: checked,
      coldStartMs: median(starts),
    };
  } finally {
    await stopServer();
    if (!KEEP) rmSync(dataDir, { recursive: true, force: true });
  }
}

pinLoadToCpu1(PIN);
const setting = canPin(PIN)
  ? `${availableParallelism()} cores, bun ${Bun.version}; the server alone on CPU 0, this process (seeding and load) on CPU 1`
  : `${availableParallelism()} cores, bun ${Bun.version}; not pinned: server and load share the cores`;
console.log(`scale: ${SIZES.map(fmtInt).join(", ")} executions, ${SECONDS} s per measurement at concurrency 1; ${binary ? `the compiled binary ${binary}` : "from source (bun src/main.ts)"}; ${setting}`);

const figures: Figures[] = [];
try {
  for (const rows of SIZES) figures.push(await measureSize(rows));
} finally {
  if (KEEP) console.log(`data directories kept under ${workDir}`);
  else rmSync(workDir, { recursive: true, force: true });
}

const ms = (n: number) => fmt(n, 3);
const both = (s: Stat) => `${ms(s.p50)} / ${ms(s.p99)}`;
console.log("\nlatency in ms, p50 / p99, at concurrency 1; bytes per execution: the database's growth over the bootstrapped one, by dbstat\n");
console.log("| rows | seed s | /result | GET {id} | ASYNC create | list p50 | bytes/execution | file MB | server RSS MB (peak) | cold start ms |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const f of figures)
  console.log(
    `| ${fmtInt(f.rows)} | ${fmt(f.seedSeconds, 2)} | ${both(f.result)} | ${both(f.get)} | ${both(f.create)} | ${ms(f.list.p50)} | ${fmtInt(f.bytesPerExecution)} | ${fmt(f.fileBytes / 1e6, 1)} | ${fmt(f.rssMb, 1)} (${fmt(f.peakRssMb, 1)}) | ${fmt(f.coldStartMs, 1)} |`,
  );
console.log("");
const invariantsSaid = { held: "hold", broken: "BROKEN", "not checked": `not checked (above ${fmtInt(INVARIANTS_UP_TO)} rows)` };
for (const f of figures) {
  const parts = f.byObject.filter((o) => Math.abs(o.bytes) >= 0.5).map((o) => `${o.name} ${fmtInt(o.bytes)}`);
  console.log(`  ${fmtInt(f.rows)} rows, bytes per execution: ${parts.join(", ")}; ledger invariants ${invariantsSaid[f.invariants]}`);
}

const smallest = figures[0]!;
const largest = figures.at(-1)!;
const flatRatio = largest.result.p50 / smallest.result.p50;
const goals = [
  ...(figures.length > 1
    ? [
        {
          goal: `/result flat from ${fmtInt(smallest.rows)} to ${fmtInt(largest.rows)} rows (p50 within ${GOALS.resultFlatRatio}× of the ${fmtInt(smallest.rows)} one)`,
          value: `${ms(smallest.result.p50)} → ${ms(largest.result.p50)} ms (${fmt(flatRatio)}×)`,
          met: flatRatio <= GOALS.resultFlatRatio,
        },
      ]
    : []),
  {
    goal: `at most ${GOALS.bytesPerExecution} bytes of database per completed small execution, at ${fmtInt(largest.rows)} rows`,
    value: `${fmtInt(largest.bytesPerExecution)} B`,
    met: largest.bytesPerExecution <= GOALS.bytesPerExecution,
  },
  {
    goal: `cold start under ${GOALS.coldStartMs} ms on ${fmtInt(largest.rows)} executions (spawn → first /healthz 200, median of ${COLD_STARTS})`,
    value: `${fmt(largest.coldStartMs, 1)} ms`,
    met: largest.coldStartMs < GOALS.coldStartMs,
  },
  {
    goal: `server RSS under ${GOALS.rssMb} MB serving ${fmtInt(largest.rows)} executions (after this run's reads and creates)`,
    value: `${fmt(largest.rssMb, 1)} MB (peak ${fmt(largest.peakRssMb, 1)})`,
    met: largest.rssMb < GOALS.rssMb,
  },
];
console.log("");
if (figures.length === 1) console.log("goal: /result flat: not judged (one size; give --rows two or more)");
for (const g of goals) console.log(`goal: ${g.goal}: ${g.value} -> ${g.met ? "met" : "NOT met"}`);
for (const p of problems.slice(0, 20)) console.log(`  WRONG ANSWER: ${p}`);
const sizes = figures.map((f) => ({
  ...f,
  seedSeconds: Number(f.seedSeconds.toFixed(3)),
  bytesPerExecution: Math.round(f.bytesPerExecution),
  byObject: Object.fromEntries(f.byObject.map((o) => [o.name, Number(o.bytes.toFixed(1))])),
}));
console.log(JSON.stringify({ bench: "scale", program: binary ?? "source", pinned: canPin(PIN), seconds: SECONDS, sizes, goals, wrong }));
if (wrong > 0) {
  console.log(`!!! ${wrong} wrong answers: the figures above are not valid !!!`);
  process.exitCode = 1;
}
