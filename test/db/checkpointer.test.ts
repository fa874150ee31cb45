/**
 * The WAL checkpoint thread (src/db/checkpointer.ts) on a real SQLite file: it starts only once the
 * WAL holds enough to be worth a thread, then checkpoints it into the database file on its own.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCheckpointer, type Checkpointer } from "../../src/db/checkpointer";

const opened: { db: Database; dir: string; checkpointer?: Checkpointer }[] = [];

afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.checkpointer?.stop();
    o.db.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

function walDatabase() {
  const dir = mkdtempSync(join(tmpdir(), "modelroute-checkpointer-"));
  const path = join(dir, "test.db");
  const db = new Database(path, { create: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE rows (body TEXT NOT NULL)");
  const entry: { db: Database; dir: string; checkpointer?: Checkpointer } = { db, dir };
  opened.push(entry);
  return { db, path, entry };
}

/** Writes about `bytes` of rows, one transaction per 64 KiB, as a server's batches would. */
function write(db: Database, bytes: number) {
  const insert = db.prepare("INSERT INTO rows (body) VALUES (?)");
  const body = "x".repeat(1024);
  for (let written = 0; written < bytes; written += 64 * 1024) db.transaction(() => { for (let i = 0; i < 64; i++) insert.run(body); })();
}

const sizeOf = (path: string) => statSync(path).size;

async function until(condition: () => boolean, ms: number) {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await Bun.sleep(25);
  return condition();
}

test("the worker starts once the WAL reaches its threshold, then copies the WAL into the database file", async () => {
  const { db, path, entry } = walDatabase();
  const checkpointer = (entry.checkpointer = startCheckpointer(db, path, () => {}, () => {}, { startAtWalBytes: 512 * 1024 }));
  write(db, 64 * 1024);
  await Bun.sleep(1_200); // past one look at the WAL's size
  expect(checkpointer.running()).toBe(false);
  const databaseBefore = sizeOf(path);
  write(db, 1024 * 1024);
  expect(sizeOf(`${path}-wal`)).toBeGreaterThan(512 * 1024);
  expect(await until(() => checkpointer.running(), 3_000)).toBe(true);
  // A checkpoint moves the pages into the main file: it grows by about what was written.
  expect(await until(() => sizeOf(path) > databaseBefore + 768 * 1024, 3_000)).toBe(true);
});

test("a WAL already large when the server starts (left by a crash) is checkpointed at once", async () => {
  const { db, path, entry } = walDatabase();
  db.exec("PRAGMA wal_autocheckpoint = 0"); // keep what is written in the WAL, as an unclean stop leaves it
  write(db, 1024 * 1024);
  const checkpointer = (entry.checkpointer = startCheckpointer(db, path, () => {}, () => {}, { startAtWalBytes: 512 * 1024 }));
  expect(checkpointer.running()).toBe(true);
  expect(await until(() => sizeOf(path) > 768 * 1024, 3_000)).toBe(true);
});

test("stop() ends a checkpointer whose worker never started", async () => {
  const { db, path } = walDatabase();
  const checkpointer = startCheckpointer(db, path, () => {});
  expect(checkpointer.running()).toBe(false);
  await checkpointer.stop();
  expect(checkpointer.running()).toBe(false);
  expect((db.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint).toBe(1000);
});
