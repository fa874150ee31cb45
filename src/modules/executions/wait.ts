/**
 * Waiting for an execution to end, in this process: through the execution bus, with the row the
 * terminal transition committed (no read back), or the row as it stands after the wait.
 */
import type { AppContext } from "../../context";
import * as store from "./store";

/** Watches one execution from now on; `wait` resolves once it is terminal (or as it stands after the wait, or at shutdown). */
export type TerminalWatch = { wait(timeoutMs: number): Promise<store.ExecutionRow>; stop(): void };

/**
 * Subscribes at once, so an end committed from here on is never missed; for an execution that
 * may have ended already, use waitForTerminal.
 */
export function watchTerminal(ctx: AppContext, id: string): TerminalWatch {
  let ended: store.ExecutionRow | null = null;
  let settle: (() => void) | null = null;
  const unsubscribe = ctx.bus.subscribe(id, (event) => {
    if (event.type === "shutdown") ended ??= store.byId(ctx.db, id)!;
    else if (event.type === "status" && store.isTerminal(event.status as store.Status)) ended ??= event.row ?? store.byId(ctx.db, id)!;
    else return;
    unsubscribe();
    settle?.();
  });
  return {
    wait(timeoutMs) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          unsubscribe();
          resolve(ended ?? store.byId(ctx.db, id)!);
        };
        const timer = setTimeout(done, timeoutMs);
        if (ended) done();
        else settle = done;
      });
    },
    stop: unsubscribe,
  };
}

/**
 * Resolves with the execution once it is terminal, or as it stands when `timeoutMs` passes or
 * the server shuts down. Never rejects for a slow model.
 */
export function waitForTerminal(ctx: AppContext, id: string, timeoutMs: number): Promise<store.ExecutionRow> {
  const watch = watchTerminal(ctx, id);
  const now = store.byId(ctx.db, id)!;
  if (!store.isTerminal(now.status)) return watch.wait(timeoutMs);
  watch.stop();
  return Promise.resolve(now);
}
