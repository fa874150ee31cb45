/** The durable scheduler on a real SQLite file: retries, backoff, attempts, concurrency, leases. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import type { AppContext } from "../../src/context";
import { closeDatabase, migrate } from "../../src/db/client";
import { RetryLater, type JobKind } from "../../src/scheduler/types";
import { Scheduler } from "../../src/scheduler/worker";
import { createContext } from "../../src/server";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-worker-"));
let ctx: AppContext;
beforeAll(() => {
  ctx = createContext(loadConfig({ env: { MODELROUTE_DATA_DIR: dataDir, MODELROUTE_LOG_LEVEL: "silent" } }));
  migrate(ctx.handle);
  ctx.scheduler = new Scheduler(ctx); // no product jobs: only the kinds these tests register
});
afterAll(async () => {
  await ctx.scheduler.stop(1000);
  closeDatabase(ctx.handle);
  rmSync(dataDir, { recursive: true, force: true });
});

const row = (kind: string) =>
  ctx.client.query("SELECT attempts, run_at, last_error, locked_until FROM jobs WHERE kind = ?").get(kind) as
    | { attempts: number; run_at: number; last_error: string | null; locked_until: number | null }
    | null;

function enqueue(kind: string, payload: Record<string, unknown> = {}, maxAttempts = 5) {
  ctx.db.transaction((tx) => ctx.scheduler.enqueue(tx, kind as JobKind, payload as never, { maxAttempts }));
  ctx.scheduler.wake(kind as JobKind);
}

function signal() {
  let fire!: () => void;
  const fired = new Promise<void>((resolve) => (fire = resolve));
  return { fired, fire };
}

test("a failing job is retried with exponential backoff until it succeeds, then deleted", async () => {
  const kind = "test.flaky";
  const runs: number[] = [];
  const done = signal();
  ctx.scheduler.register(kind as JobKind, async () => {
    runs.push(Date.now());
    if (runs.length < 3) throw new Error(`failure ${runs.length}`);
    done.fire();
  }, { concurrency: 1, leaseMs: 60_000, backoffMs: (attempt) => 50 * 2 ** (attempt - 1) });
  ctx.scheduler.start();
  enqueue(kind);
  await done.fired;
  expect(runs).toHaveLength(3);
  // 50 ms then 100 ms (±20 % jitter): each wait longer than the one before it.
  expect(runs[1]! - runs[0]!).toBeGreaterThanOrEqual(35);
  expect(runs[2]! - runs[1]!).toBeGreaterThanOrEqual(75);
  for (let i = 0; i < 50 && row(kind); i++) await Bun.sleep(10);
  expect(row(kind)).toBeNull();
});

test("RetryLater names its own delay, and the error is kept on the job until then", async () => {
  const kind = "test.later";
  let runs = 0;
  const done = signal();
  ctx.scheduler.register(kind as JobKind, async () => {
    if (++runs === 1) throw new RetryLater("receiver busy", 300);
    done.fire();
  }, { concurrency: 1, leaseMs: 60_000 });
  enqueue(kind);
  for (let i = 0; i < 50 && !row(kind)?.last_error; i++) await Bun.sleep(10);
  const waiting = row(kind)!;
  expect(waiting).toMatchObject({ attempts: 1, last_error: "receiver busy", locked_until: null });
  expect(waiting.run_at - Date.now()).toBeGreaterThan(150);
  await done.fired;
  expect(runs).toBe(2);
});

test("after max attempts a job is dropped, not retried forever", async () => {
  const kind = "test.hopeless";
  let runs = 0;
  ctx.scheduler.register(kind as JobKind, async () => {
    runs++;
    throw new Error("always");
  }, { concurrency: 1, leaseMs: 60_000, backoffMs: () => 10 });
  enqueue(kind, {}, 3);
  for (let i = 0; i < 200 && (runs < 3 || row(kind)); i++) await Bun.sleep(10);
  expect(runs).toBe(3);
  expect(row(kind)).toBeNull();
});

test("a kind never runs more jobs at once than its concurrency", async () => {
  const kind = "test.capped";
  let running = 0;
  let peak = 0;
  let finished = 0;
  const all = signal();
  ctx.scheduler.register(kind as JobKind, async () => {
    peak = Math.max(peak, ++running);
    await Bun.sleep(20);
    running--;
    if (++finished === 8) all.fire();
  }, { concurrency: 2, leaseMs: 60_000 });
  for (let i = 0; i < 8; i++) enqueue(kind, { i });
  await all.fired;
  expect(peak).toBe(2);
});

test("leases left by a crashed process are released at start, so its jobs run again at once", async () => {
  const kind = "test.orphan";
  // A job claimed by a process that died: leased for an hour.
  ctx.db.transaction((tx) => ctx.scheduler.enqueue(tx, kind as JobKind, {} as never));
  ctx.client.query("UPDATE jobs SET locked_until = ?, attempts = 1 WHERE kind = ?").run(Date.now() + 3_600_000, kind);
  const fresh = new Scheduler(ctx);
  const ran = signal();
  fresh.register(kind as JobKind, async () => ran.fire(), { concurrency: 1, leaseMs: 60_000 });
  fresh.start();
  await ran.fired;
  await fresh.stop(1000);
});
