/** Telling this process, and the other replicas, about a status change once it is committed. */
import type { AppContext } from "../../context";
import { DISPATCH_JOB } from "../events/service";
import type * as State from "./state";

/** After a committed transition: wakes SYNC waiters and streams, and the outbox dispatcher. */
export function announce(ctx: AppContext, moved: State.Transitioned) {
  ctx.bus.publish(moved.row.id, { type: "status", status: moved.row.status, seq: moved.seq, at: moved.at, row: moved.row });
  ctx.replicas?.statusChanged(moved.row.id, moved.row.status, moved.seq, moved.at);
  if (moved.eventId) ctx.scheduler.wake(DISPATCH_JOB);
}
