/**
 * What replicas on one PostgreSQL tell each other (docs/scale-out.md "Between replicas"): an
 * execution changed status (its SYNC waiters and streams may be on another replica), a cancel
 * for an execution another replica is running, jobs to claim. The database stays the truth:
 * a message only wakes a replica to read it, so a lost message costs latency (the scheduler
 * polls every second, waiters read the row when their wait ends), never correctness.
 */
import type { AppContext } from "../../context";
import { postgresOf } from "../../db/client";
import { PgConnection } from "../../db/postgres/libpq";
import { Notifier } from "../../db/postgres/notifier";
import type { JobKind } from "../../scheduler/types";
import { CancelRequested } from "../executions/cancel-request";

const STATUS = "modelroute_status";
const CANCEL = "modelroute_cancel";
const JOBS = "modelroute_jobs";

export type ReplicaLink = {
  statusChanged(executionId: string, status: string, seq: number, at: number): void;
  cancelRequested(executionId: string): void;
  jobsEnqueued(kind: JobKind): void;
  stop(): void;
};

/** A session advisory lock every replica holds: shared by S3 replicas, alone by a replica with local files. */
const REPLICAS_LOCK = 7_243_190_117_004_001n;

/** A replica that cannot join the others (docs/scale-out.md "Files"). */
export class ReplicaRefused extends Error {}

/**
 * The link for a PostgreSQL deployment; null on SQLite, where one process is the whole gateway.
 * Files on local disk exist only on the replica that wrote them, so a replica with local
 * storage must be the only one: it takes the replicas lock alone, the others share it. The lock
 * lives with the link's connection: a killed replica lets go of it as its socket closes.
 */
export function startReplicaLink(ctx: AppContext): ReplicaLink | null {
  const pg = postgresOf(ctx.handle);
  if (!pg) return null;
  const session = new PgConnection(pg.url);
  const local = ctx.config.storage === "local";
  const takeLock = () => session.query(local ? "SELECT pg_try_advisory_lock($1)" : "SELECT pg_try_advisory_lock_shared($1)", [REPLICAS_LOCK]).rows[0]![0] === 1;
  if (!takeLock()) {
    session.close();
    throw new ReplicaRefused(
      local
        ? "other replicas are running on this database; files on local disk would be on one replica only: use --storage s3 on every replica (docs/scale-out.md \"Files\")"
        : "a replica with local file storage (--storage local) is running on this database; it must be the only one: move it to --storage s3 first (docs/scale-out.md \"Files\")",
    );
  }
  // A connection lost and made again has lost the lock: take it again, or say loudly that it cannot.
  session.onReconnect = () => {
    if (!takeLock()) ctx.log.error("replicas: after a reconnect the replicas lock is held by a replica with local file storage; stop one of them (docs/scale-out.md \"Files\")");
  };
  const me = ctx.instanceId;
  const wokenKinds = new Set<JobKind>();
  const notifier = new Notifier(
    pg,
    session,
    [STATUS, CANCEL, JOBS],
    (channel, payload) => {
      const [from, ...rest] = payload.split(" ");
      if (from === me) return;
      if (channel === STATUS) {
        const [id, status, seq, at] = rest as [string, string, string, string];
        // Waiters read the row themselves (no row in the event): only replicas with one pay the read.
        if (ctx.bus.hasSubscribers(id)) ctx.bus.publish(id, { type: "status", status, seq: Number(seq), at: Number(at) });
      } else if (channel === CANCEL) {
        ctx.running.get(rest[0]!)?.abort(new CancelRequested());
      } else if (channel === JOBS) {
        ctx.scheduler.wake(rest[0] as JobKind, { fromReplica: true });
      }
    },
    (error) => ctx.log.warn("replicas: notification failed", { error }),
  );
  return {
    statusChanged: (id, status, seq, at) => notifier.send(STATUS, `${me} ${id} ${status} ${seq} ${at}`),
    cancelRequested: (id) => notifier.send(CANCEL, `${me} ${id}`),
    jobsEnqueued(kind) {
      // Once per kind and turn: a burst of creates is one wake-up for the other replicas.
      if (wokenKinds.has(kind)) return;
      if (wokenKinds.size === 0) setImmediate(() => wokenKinds.clear());
      wokenKinds.add(kind);
      notifier.send(JOBS, `${me} ${kind}`);
    },
    stop() {
      notifier.stop();
      session.close();
    },
  };
}
