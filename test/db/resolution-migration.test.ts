/**
 * The migration that derives resolutions from executions (docs/decisions.md "Resolutions derived
 * from the execution"), on a database written by the version before it, on SQLite and on a real
 * PostgreSQL: each stored resolution's figures move onto its execution, a key's captures onto
 * key_spend by the UTC day its executions were created, credits and orphan resolutions stay,
 * and the ledger reads the same through the API's store afterwards.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeDatabase, openDatabase, type DbHandle } from "../../src/db/client";
import { journal as postgresJournal, migrationSql as postgresSql } from "../../src/db/postgres/migrations.gen";
import { journal, migrationSql } from "../../src/db/migrations.gen";
import * as Ledger from "../../src/modules/ledger/store";
import { freshDatabase, requirePostgres } from "../helpers/postgres";

const MIGRATION = "resolutions_derived_from_executions";
const DAY = 86_400_000;
const day0 = Date.UTC(2026, 10, 30);
const org = "org_00000000-0000-7000-8000-000000000001";
const key = "key_00000000-0000-7000-8000-000000000001";
const exec = (n: number) => `exec_019ad000-0000-7000-8000-00000000000${n}`;

type Runner = { exec(sql: string): void; run(sql: string, ...params: unknown[]): void; all(sql: string, ...params: unknown[]): Record<string, unknown>[] };

const statementsOf = (text: string) => text.split("--> statement-breakpoint").filter((s) => s.trim());

/** The version before: one credit, three finished executions with their stored resolutions (one
 * whose execution kept a stale cost), one still running, and a resolution whose execution is gone. */
function writeOldLedger(db: Runner) {
  db.run("INSERT INTO orgs (id, name, status, created_at) VALUES (?, ?, 'active', ?)", org, "old", day0);
  db.run("INSERT INTO balances (org_id, available_micros, held_micros, low_balance_armed) VALUES (?, ?, ?, 1)", org, 1_000_000 - 700 - 300 - 50 - 400, 400);
  db.run("INSERT INTO ledger_entries (id, org_id, kind, amount_micros, created_at) VALUES (?, ?, 'credit', ?, ?)", "entry_019ad000-0000-7000-8000-000000000000", org, 1_000_000, day0);
  const executions: [number, string, number | null, number, number][] = [
    [1, "COMPLETED", 700, 1000, day0 + 1000],
    [2, "COMPLETED", 999, 1000, day0 + DAY + 5], // stale: its resolution captured 300
    [3, "FAILED", 0, 500, day0 + DAY + 6],
    [4, "PROCESSING", null, 400, day0 + DAY + 7],
  ];
  for (const [n, status, cost, hold, createdAt] of executions)
    db.run(
      "INSERT INTO executions (id, org_id, key_id, model, status, mode, cost_micros, hold_micros, created_at, completed_at) VALUES (?, ?, ?, 'm', ?, 'ASYNC', ?, ?, ?, ?)",
      exec(n), org, key, status, cost, hold, createdAt, status === "PROCESSING" ? null : createdAt + 10,
    );
  const resolutions: [number, number, number][] = [[1, 700, 300], [2, 300, 700], [3, 0, 500]];
  for (const [n, captured, released] of resolutions)
    db.run(
      "INSERT INTO ledger_entries (id, org_id, kind, amount_micros, captured_micros, released_micros, execution_id, key_id, created_at) VALUES (?, ?, 'resolve', ?, ?, ?, ?, ?, ?)",
      `entry_019ad000-0000-7000-8000-00000000000${n}`, org, -captured, captured, released, exec(n), key, day0 + n,
    );
  db.run(
    "INSERT INTO ledger_entries (id, org_id, kind, amount_micros, captured_micros, released_micros, execution_id, key_id, created_at) VALUES (?, ?, 'resolve', ?, ?, ?, ?, ?, ?)",
    "entry_019ad000-0000-7000-8000-000000000009", org, -50, 50, 0, exec(9), key, day0 + 2 * DAY,
  );
}

function expectMigrated(db: Runner, handle: DbHandle) {
  const costs = db.all("SELECT id, cost_micros AS cost, hold_micros AS hold FROM executions ORDER BY id").map((r) => [r.id, r.cost === null ? null : Number(r.cost), Number(r.hold)]);
  expect(costs).toEqual([[exec(1), 700, 1000], [exec(2), 300, 1000], [exec(3), 0, 500], [exec(4), null, 400]]);
  const stored = db.all("SELECT kind, execution_id AS execution FROM ledger_entries ORDER BY id").map((r) => [r.kind, r.execution]);
  expect(stored).toEqual([["credit", null], ["resolve", exec(9)]]);
  const spend = db.all("SELECT day, captured_micros AS captured FROM key_spend WHERE key_id = ? ORDER BY day", key).map((r) => [Number(r.day), Number(r.captured)]);
  expect(spend).toEqual([[day0 / DAY, 700], [day0 / DAY + 1, 300], [day0 / DAY + 2, 50]]);

  // Read back through the ledger's own store: the same sums and the same entries, newest first.
  const conn = handle.db;
  expect(Ledger.lifetimeTotals(conn, org)).toEqual({ creditedMicros: 1_000_000, capturedMicros: 1050 });
  expect(Ledger.spendOfKeySince(conn, key, day0 + DAY)).toBe(300 + 50 + 400);
  expect(Ledger.spendOfKeySince(conn, key, 0)).toBe(1050 + 400);
  const page = Ledger.entriesPage(conn, org, { limit: 10 });
  expect(page.map((e) => [e.id, e.kind, e.capturedMicros, e.releasedMicros])).toEqual([
    ["entry_019ad000-0000-7000-8000-000000000009", "resolve", 50, 0],
    ["entry_019ad000-0000-7000-8000-000000000003", "resolve", 0, 500],
    ["entry_019ad000-0000-7000-8000-000000000002", "resolve", 300, 700],
    ["entry_019ad000-0000-7000-8000-000000000001", "resolve", 700, 300],
    ["entry_019ad000-0000-7000-8000-000000000000", "credit", null, null],
  ]);
  const older = Ledger.entriesPage(conn, org, { limit: 2, startingAfter: "entry_019ad000-0000-7000-8000-000000000003" });
  expect(older.map((e) => e.id)).toEqual(["entry_019ad000-0000-7000-8000-000000000002", "entry_019ad000-0000-7000-8000-000000000001", "entry_019ad000-0000-7000-8000-000000000000"]);
  const newer = Ledger.entriesPage(conn, org, { limit: 2, endingBefore: "entry_019ad000-0000-7000-8000-000000000001" });
  expect(newer.map((e) => e.id)).toEqual(["entry_019ad000-0000-7000-8000-000000000002", "entry_019ad000-0000-7000-8000-000000000003", "entry_019ad000-0000-7000-8000-000000000009"]);
}

const handles: DbHandle[] = [];
afterAll(() => handles.forEach((h) => closeDatabase(h)));

/** Applies the migrations before this one, writes the old ledger, applies this one, and checks. */
function migrateOldLedger(handle: DbHandle, tags: string[], sqlOf: Record<string, string>) {
  handles.push(handle);
  const db: Runner = {
    exec: (s) => handle.client.exec(s),
    run: (s, ...p) => void handle.client.query(s).run(...(p as never[])),
    all: (s, ...p) => handle.client.query(s).all(...(p as never[])) as Record<string, unknown>[],
  };
  const at = tags.findIndex((t) => t.endsWith(MIGRATION));
  expect(at).toBeGreaterThan(0);
  for (const tag of tags.slice(0, at)) for (const s of statementsOf(sqlOf[tag]!)) db.exec(s);
  writeOldLedger(db);
  for (const s of statementsOf(sqlOf[tags[at]!]!)) db.exec(s);
  expectMigrated(db, handle);
}

test("SQLite: a ledger written before it reads the same after it", () => {
  migrateOldLedger(openDatabase(mkdtempSync(join(tmpdir(), "modelroute-resolutions-"))), journal.entries.map((e) => e.tag), migrationSql);
});

describe.skipIf(!requirePostgres())("PostgreSQL", () => {
  test("a ledger written before it reads the same after it", async () => {
    const handle = openDatabase(mkdtempSync(join(tmpdir(), "modelroute-resolutions-pg-")), await freshDatabase());
    migrateOldLedger(handle, postgresJournal.entries.map((e) => e.tag), postgresSql);
  });
});
