import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDatabase, migrate, openDatabase } from "../../src/db/client";
import { settings } from "../../src/db/schema";
import { WriteBatcher } from "../../src/db/write-batcher";

const dir = mkdtempSync(join(tmpdir(), "modelroute-batcher-"));
const handle = openDatabase(dir);
migrate(handle);
afterAll(() => {
  closeDatabase(handle);
  rmSync(dir, { recursive: true, force: true });
});

const keys = () => handle.db.select().from(settings).all().map((r) => r.key).sort();

test("writes of one turn commit together; a failing one rolls back only its own writes", async () => {
  const writer = new WriteBatcher(handle.db, handle.client);
  const results = await Promise.allSettled([
    writer.run((tx) => tx.insert(settings).values({ key: "a", value: "1" }).run()),
    writer.run((tx) => {
      tx.insert(settings).values({ key: "b", value: "2" }).run();
      throw new Error("refused"); // b must not survive
    }),
    writer.run((tx) => {
      tx.insert(settings).values({ key: "c", value: "3" }).run();
      return "c done";
    }),
  ]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  expect((results[1] as PromiseRejectedResult).reason.message).toBe("refused");
  expect((results[2] as PromiseFulfilledResult<string>).value).toBe("c done");
  expect(keys()).toEqual(["a", "c"]);
});

test("a promise settles only after the commit: the data is visible to a second connection then", async () => {
  const writer = new WriteBatcher(handle.db, handle.client);
  const other = openDatabase(dir);
  try {
    await writer.run((tx) => tx.insert(settings).values({ key: "d", value: "4" }).run());
    expect(other.client.query("SELECT value FROM settings WHERE key = 'd'").get()).toEqual({ value: "4" });
  } finally {
    other.client.close();
  }
});
