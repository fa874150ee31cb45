/**
 * Draining before a graceful stop. Closing an idle keep-alive connection races with a client
 * sending its next request on it: that request is reset, and for a POST the client cannot tell
 * whether it ran. So for a short while before the listener closes, every answer says
 * `Connection: close`: clients busy enough to have a request in that window open a new
 * connection for their next one, and find the listener closed (refused: safe to retry).
 */
import { Elysia } from "elysia";

/** `stopping`: a graceful stop has begun; `/readyz` answers 503 from then on, so a load balancer sends no new work. */
export type DrainState = { active: boolean; stopping: boolean; lastRequestAt: number };

export const newDrainState = (): DrainState => ({ active: false, stopping: false, lastRequestAt: -Infinity });

export const drain = (state: DrainState, seed: string) =>
  new Elysia({ name: "http/drain", seed }).onRequest(({ set }) => {
    state.lastRequestAt = performance.now();
    if (state.active) set.headers.connection = "close";
  });

/** Answers with `Connection: close` for `ms`, unless nothing was asked in the last `ms` (then no client holds a busy connection). */
export async function drainConnections(state: DrainState, ms: number) {
  state.stopping = true;
  if (ms <= 0 || performance.now() - state.lastRequestAt > ms) return;
  state.active = true;
  await Bun.sleep(ms);
}
