/**
 * PostgreSQL mode's database layer on a real PostgreSQL: the migrations give every table, column
 * and index the one schema declares, with the mapped types; they run once however many replicas
 * start; and the driver keeps bun:sqlite's contract (named and positional bindings, numbers,
 * bytes, transactions that roll back, nested savepoints).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { getTableConfig } from "drizzle-orm/sqlite-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDatabase, migrate, openDatabase, type DbHandle } from "../../src/db/client";
import { postgresType, schemaTables } from "../../src/db/postgres/ddl";
import { toPostgres } from "../../src/db/postgres/translate";
import { freshDatabase, requirePostgres } from "../helpers/postgres";

const available = requirePostgres();
let handle: DbHandle;
let url: string;

beforeAll(async () => {
  if (!available) return;
  url = await freshDatabase();
  handle = openDatabase(mkdtempSync(join(tmpdir(), "modelroute-pg-schema-")), url);
  expect(migrate(handle)).toBeGreaterThan(0);
});
afterAll(() => handle && closeDatabase(handle));

describe.skipIf(!available)("PostgreSQL schema", () => {
  test("every table, column and index of the schema exists with its mapped type and nullability", () => {
    const columns = handle.client
      .query("SELECT table_name, column_name, data_type, is_nullable, collation_name FROM information_schema.columns WHERE table_schema = 'public'")
      .all() as { table_name: string; column_name: string; data_type: string; is_nullable: string; collation_name: string | null }[];
    const indexes = new Set((handle.client.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'").all() as { indexname: string }[]).map((r) => r.indexname));
    const problems: string[] = [];
    for (const table of schemaTables()) {
      const config = getTableConfig(table);
      for (const column of config.columns) {
        const found = columns.find((c) => c.table_name === config.name && c.column_name === column.name);
        if (!found) {
          problems.push(`${config.name}.${column.name} missing`);
          continue;
        }
        const expected = postgresType(column).replace(' COLLATE "C"', "");
        if (found.data_type !== expected) problems.push(`${config.name}.${column.name}: ${found.data_type}, schema says ${expected}`);
        if (expected === "text" && found.collation_name !== "C") problems.push(`${config.name}.${column.name}: collation ${found.collation_name}, not C`);
        if (column.notNull !== (found.is_nullable === "NO")) problems.push(`${config.name}.${column.name}: nullability differs`);
      }
      for (const index of config.indexes) if (!indexes.has(index.config.name)) problems.push(`index ${index.config.name} missing`);
    }
    expect(problems).toEqual([]);
  });

  test("migrating again, as every other replica does at start, runs nothing", () => {
    const second = openDatabase(mkdtempSync(join(tmpdir(), "modelroute-pg-schema-")), url);
    try {
      expect(migrate(second)).toBe(0);
    } finally {
      closeDatabase(second);
    }
  });

  test("the driver keeps bun:sqlite's contract", () => {
    const db = handle.client;
    db.exec("CREATE TEMP TABLE t (id text PRIMARY KEY, n bigint, b bytea)");
    db.prepare("INSERT INTO t (id, n, b) VALUES ($id, $n, $b)").run({ id: "a", n: 2 ** 40, b: new Uint8Array([0, 1, 255]) });
    expect(db.prepare("SELECT id, n, b, n * 2 AS twiceN FROM t WHERE id = ?").get("a")).toEqual({ id: "a", n: 2 ** 40, b: Buffer.from([0, 1, 255]), twiceN: 2 ** 41 });
    expect(db.query("SELECT count(*) AS n, sum(n) AS total FROM t").get()).toEqual({ n: 1, total: 2 ** 40 });
    expect(() => db.transaction(() => {
      db.prepare("INSERT INTO t (id, n) VALUES ('b', 1)").run();
      throw new Error("rolled back");
    })()).toThrow("rolled back");
    const outer = db.transaction(() => {
      db.prepare("INSERT INTO t (id, n) VALUES ('c', 1)").run();
      try {
        db.transaction(() => {
          db.prepare("INSERT INTO t (id, n) VALUES ('d', 1)").run();
          throw new Error("inner");
        })();
      } catch {}
      return db.prepare("SELECT id FROM t ORDER BY id").all().map((r) => r.id);
    });
    expect(outer()).toEqual(["a", "c"]);
    expect(db.prepare("INSERT INTO t (id, n) VALUES ('a', 1) ON CONFLICT DO NOTHING").run().changes).toBe(0);
    expect(() => db.prepare("INSERT INTO t (id, n) VALUES ('a', 1)").run()).toThrow(expect.objectContaining({ code: "23505" }));
  });
});

describe("SQL translation", () => {
  test("placeholders, quoted text, casts, camelCase aliases and conflict targets", () => {
    expect(toPostgres("SELECT * FROM t WHERE a = ? AND b = '?' AND c = ?")).toEqual({ text: "SELECT * FROM t WHERE a = $1 AND b = '?' AND c = $2", names: null, count: 2 });
    expect(toPostgres("UPDATE t SET a = $a WHERE id = $id AND a <> $a")).toEqual({ text: "UPDATE t SET a = $1 WHERE id = $2 AND a <> $1", names: ["a", "id"], count: 2 });
    expect(toPostgres("SELECT $ids::json, 'it''s $x' AS heldMicros, n AS n").text).toBe(`SELECT $1::json, 'it''s $x' AS "heldMicros", n AS n`);
    expect(toPostgres("begin immediate").text).toBe("BEGIN");
    expect(toPostgres(`insert into "s" ("k") values (?) on conflict ("s"."k") do update set "v" = ?`).text).toBe(`insert into "s" ("k") values ($1) on conflict ("k") do update set "v" = $2`);
  });
});
