/**
 * In-memory fan-out of execution events to SYNC waiters and SSE subscribers in this process.
 * The database stays the truth: a subscriber reads the row after subscribing, so an event
 * published before it subscribed is never missed.
 */
import type { StreamEvent } from "../../canonical/stream";
import type { ExecutionRow } from "./store";

export type BusEvent =
  /** `row` is the execution as the transition committed it: a waiter needs no read. */
  | { type: "status"; status: string; seq: number; at: number; row?: ExecutionRow }
  /** A canonical stream event of a STREAMING execution (text, thinking, tool calls, usage). */
  | { type: "stream"; event: StreamEvent }
  /** A STREAMING execution's model (of several candidates) that is about to stream its first event. */
  | { type: "serving"; model: string }
  | { type: "shutdown" };

type Listener = (event: BusEvent) => void;

export class ExecutionBus {
  private listeners = new Map<string, Set<Listener>>();
  private closed = false;

  subscribe(executionId: string, listener: Listener): () => void {
    if (this.closed) {
      queueMicrotask(() => listener({ type: "shutdown" }));
      return () => {};
    }
    let set = this.listeners.get(executionId);
    if (!set) this.listeners.set(executionId, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(executionId);
    };
  }

  publish(executionId: string, event: BusEvent) {
    const set = this.listeners.get(executionId);
    if (!set) return;
    for (const listener of [...set]) listener(event);
  }

  hasSubscribers(executionId: string) {
    return this.listeners.has(executionId);
  }

  /** Tells every waiter the process is stopping: SYNC answers 202, streams send a final event. */
  shutdown() {
    this.closed = true;
    for (const set of this.listeners.values()) for (const listener of [...set]) listener({ type: "shutdown" });
  }
}
