/**
 * The jobs table (graphile-worker's shape with a lease): enqueue inside the caller's
 * transaction, claim due jobs with one UPDATE … RETURNING, complete by deleting, fail by
 * pushing run_at. At-least-once: handlers must be idempotent.
 */
import type { Database, Statement } from "bun:sqlite";
import type { Conn } from "../db/client";
import { placeholders, preparedPerConnection, rawPerConnection } from "../db/prepared";
import { jobs } from "../db/schema";

export type JobRow = {
  id: number;
  kind: string;
  payload: string;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_until: number | null;
  last_error: string | null;
  unique_key: string | null;
};

export type EnqueueOptions = { runAt?: number; maxAttempts?: number; uniqueKey?: string };

const insertStatement = preparedPerConnection((conn) =>
  conn
    .insert(jobs)
    .values(placeholders("kind", "payload", "runAt", "maxAttempts", "uniqueKey", "createdAt"))
    .onConflictDoNothing()
    .prepare(),
);

/** Adds a job; with a uniqueKey already present, leaves the existing one. */
export function insertJob(conn: Conn, kind: string, payload: Record<string, unknown>, now: number, opts: EnqueueOptions = {}) {
  insertStatement(conn).run({ kind, payload, runAt: opts.runAt ?? now, maxAttempts: opts.maxAttempts ?? 5, uniqueKey: opts.uniqueKey ?? null, createdAt: now });
}

const insertLeased = rawPerConnection((sqlite) =>
  sqlite.prepare(
    `INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, attempts, locked_until)
     VALUES ($kind, $payload, $now, $maxAttempts, $now, 1, $lockedUntil) RETURNING id`,
  ),
);

/** Adds a job already claimed (attempt 1, leased until `lockedUntil`) by the process that will run it at once. */
export function insertLeasedJob(conn: Conn, kind: string, payload: Record<string, unknown>, now: number, lockedUntil: number, maxAttempts: number): JobRow {
  const text = JSON.stringify(payload);
  const { id } = insertLeased(conn).get({ kind, payload: text, now, maxAttempts, lockedUntil }) as { id: number };
  return { id, kind, payload: text, run_at: now, attempts: 1, max_attempts: maxAttempts, locked_until: lockedUntil, last_error: null, unique_key: null };
}

const removeUnclaimed = rawPerConnection((sqlite) => sqlite.prepare("DELETE FROM jobs WHERE unique_key = $uniqueKey AND locked_until IS NULL"));

/** Drops the job enqueued with `uniqueKey` unless one is running it now (then it runs and finds nothing to do). */
export function deleteUnclaimedJob(conn: Conn, uniqueKey: string) {
  removeUnclaimed(conn).run({ uniqueKey });
}

/** PostgreSQL: the job ids of a JSON array bound as $ids (SQLite reads them with json_each). */
const PG_IDS = "SELECT value::bigint FROM json_array_elements_text($ids::json)";

/** Raw prepared statements for the worker loop: it runs thousands of times a second. */
export class JobStatements {
  private claim: Statement;
  private remove: Statement;
  private retry: Statement;
  private nextDue: Statement;
  private releaseAll: Statement;
  private extend: Statement;
  private extendMany: Statement | null = null;
  private pullForward: Statement;

  constructor(
    private readonly sqlite: Database,
    private readonly shared = false,
  ) {
    // Replicas sharing one PostgreSQL claim with SKIP LOCKED: a job another replica is claiming
    // is passed over, never claimed twice (the lock re-checks the row as it now stands).
    this.claim = sqlite.prepare(
      `UPDATE jobs SET attempts = attempts + 1, locked_until = $lockedUntil
       WHERE id IN (SELECT id FROM jobs WHERE kind = $kind AND run_at <= $now
                    AND (locked_until IS NULL OR locked_until < $now) ORDER BY run_at, id LIMIT $limit${shared ? " FOR UPDATE SKIP LOCKED" : ""})
       RETURNING *`,
    );
    this.remove = sqlite.prepare(
      shared
        ? `DELETE FROM jobs WHERE id IN (${PG_IDS})`
        : "DELETE FROM jobs WHERE id IN (SELECT value FROM json_each($ids))",
    );
    this.retry = sqlite.prepare("UPDATE jobs SET locked_until = NULL, run_at = $runAt, last_error = $error WHERE id = $id");
    this.nextDue = sqlite.prepare("SELECT min(run_at) AS at FROM jobs WHERE kind = $kind AND locked_until IS NULL");
    this.releaseAll = sqlite.prepare("UPDATE jobs SET locked_until = NULL WHERE locked_until IS NOT NULL");
    this.extend = sqlite.prepare("UPDATE jobs SET locked_until = $lockedUntil WHERE id = $id");
    this.pullForward = sqlite.prepare("UPDATE jobs SET run_at = $now WHERE kind = $kind AND run_at > $now AND locked_until IS NULL");
  }

  claimDue(kind: string, now: number, limit: number, leaseMs: number): JobRow[] {
    return this.claim.all({ kind, now, limit, lockedUntil: now + leaseMs }) as JobRow[];
  }
  /** Deletes finished jobs, many in one statement (one commit). */
  complete(ids: number[]) {
    if (ids.length) this.remove.run({ ids: JSON.stringify(ids) });
  }
  reschedule(id: number, runAt: number, error: string) {
    this.retry.run({ id, runAt, error: error.slice(0, 2000) });
  }
  nextRunAt(kind: string): number | null {
    return (this.nextDue.get({ kind }) as { at: number | null }).at;
  }
  /**
   * At start-up on SQLite: this process is the only worker, so every lease left behind is a
   * crash's. Replicas on PostgreSQL release nothing: a lease may be another live replica's, and a
   * dead one's lapses on its own (docs/scale-out.md "Jobs").
   */
  releaseLeases(): number {
    return this.shared ? 0 : this.releaseAll.run().changes;
  }
  /** Makes a periodic kind's waiting job due now (it was woken: there is work). */
  runPeriodicNow(kind: string, now: number) {
    this.pullForward.run({ kind, now });
  }
  extendLease(id: number, lockedUntil: number) {
    this.extend.run({ id, lockedUntil });
  }
  /** Gives back the leases of jobs a stopping replica did not finish (PostgreSQL only). */
  releaseLeasesOf(ids: number[]) {
    this.sqlite.prepare(`UPDATE jobs SET locked_until = NULL WHERE id IN (${PG_IDS})`).run({ ids: JSON.stringify(ids) });
  }
  /** Renews the leases of the jobs this replica is running, in one statement (PostgreSQL only). */
  extendLeases(ids: number[], lockedUntil: number) {
    this.extendMany ??= this.sqlite.prepare(`UPDATE jobs SET locked_until = $lockedUntil WHERE id IN (${PG_IDS})`);
    this.extendMany.run({ ids: JSON.stringify(ids), lockedUntil });
  }
}
