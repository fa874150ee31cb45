/**
 * An AbortSignal that follows other signals and, optionally, a time limit, and lets go of both
 * when the work ends. `AbortSignal.timeout` cannot be cleared: its timer stays armed for the whole
 * limit (two minutes for a provider call), so at ten thousand calls a second over a million
 * timers are alive at once (~60 MB), and with `AbortSignal.any` each call costs 1–1.5 µs more
 * than this (docs/decisions.md "Signals that let go"). This one clears its timer and removes its
 * listeners on `dispose()`, which the caller runs in a `finally`.
 */
export type LinkedSignal = {
  signal: AbortSignal;
  /** True when the time limit fired (not a parent). */
  timedOut(): boolean;
  dispose(): void;
};

/** The reason a time limit aborts with when none is given: what `AbortSignal.timeout` uses. */
const timeoutReason = () => new DOMException("The operation timed out.", "TimeoutError");

export function linkedSignal(parents: readonly (AbortSignal | undefined)[], timeoutMs?: number, reason: () => unknown = timeoutReason): LinkedSignal {
  const controller = new AbortController();
  const abort = (why: unknown) => {
    if (!controller.signal.aborted) controller.abort(why);
  };
  const listeners: [AbortSignal, () => void][] = [];
  for (const parent of parents) {
    if (!parent) continue;
    if (parent.aborted) {
      abort(parent.reason);
      break;
    }
    const onAbort = () => abort(parent.reason);
    parent.addEventListener("abort", onAbort, { once: true });
    listeners.push([parent, onAbort]);
  }
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  if (timeoutMs !== undefined && !controller.signal.aborted) {
    timer = setTimeout(() => {
      timedOut = true;
      abort(reason());
    }, timeoutMs);
    timer.unref(); // as AbortSignal.timeout's: a pending limit does not keep the process alive
  }
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose() {
      if (timer) clearTimeout(timer);
      timer = null;
      for (const [parent, onAbort] of listeners) parent.removeEventListener("abort", onAbort);
      listeners.length = 0;
    },
  };
}
