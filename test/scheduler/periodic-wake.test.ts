import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { closeDatabase, migrate } from "../../src/db/client";
import type { JobKind } from "../../src/scheduler/types";
import { createContext } from "../../src/server";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-scheduler-"));
const ctx = createContext(loadConfig({ env: { MODELROUTE_DATA_DIR: dataDir, MODELROUTE_LOG_LEVEL: "silent" } }));
migrate(ctx.handle);
afterAll(async () => {
  await ctx.scheduler.stop(1000);
  closeDatabase(ctx.handle);
  rmSync(dataDir, { recursive: true, force: true });
});

test("wake() runs a periodic job at once, not at its next period, and again if woken while it runs", async () => {
  const kind = "test.hourly" as JobKind;
  let runs = 0;
  let gate: Promise<void> = Promise.resolve();
  const waiters: { count: number; resolve: () => void }[] = [];
  const ran = (count: number) => new Promise<void>((resolve) => (runs >= count ? resolve() : waiters.push({ count, resolve })));
  ctx.scheduler.register(kind, async () => {
    runs++;
    for (const w of waiters.filter((w) => runs >= w.count)) w.resolve();
    await gate;
  }, { concurrency: 1, leaseMs: 60_000, everyMs: 3_600_000 });
  /** Resolves once the job is back in the table, waiting for its next period. */
  const idle = async () => {
    for (;;) {
      const row = ctx.client.query("SELECT run_at, locked_until FROM jobs WHERE kind = ?").get(kind) as { run_at: number; locked_until: number | null } | null;
      if (row && row.locked_until === null && row.run_at > Date.now() + 60_000) return;
      await Bun.sleep(5);
    }
  };
  ctx.scheduler.start();
  await ran(1); // the first run at start
  await idle();

  ctx.scheduler.wake(kind); // an hour early: only the wake can make it run
  await ran(2);
  await idle();

  let open!: () => void;
  gate = new Promise((resolve) => (open = resolve));
  ctx.scheduler.wake(kind);
  await ran(3);
  ctx.scheduler.wake(kind); // while run 3 is still going
  open();
  await ran(4);
  expect(runs).toBe(4);
});
