/**
 * One full garbage collection when the server goes quiet after work. Under load JavaScriptCore's
 * heap grows with the allocation rate, and what a burst leaves behind stays resident, because an
 * idle server allocates nothing that would start a collection: 200,000 executions left ~154 MB
 * resident 5 s after the load, against ~112 MB with a collection (docs/benchmarks.md "Memory
 * under load"). A full collection takes ~12–25 ms, so it runs only after QUIET_CHECKS looks at
 * the request count find no new request, once per quiet spell; a request arriving meanwhile
 * waits for it.
 */
const CHECK_EVERY_MS = 1_000;
/** Consecutive looks without a new request before collecting: two seconds of quiet. */
const QUIET_CHECKS = 2;

export type IdleCollector = {
  /** One look at the request count (the timer calls it every CHECK_EVERY_MS; tests call it directly). */
  check(): void;
  stop(): void;
};

/**
 * Collects once `requestsSoFar()` has stopped moving for QUIET_CHECKS looks after it moved.
 * `timer: false` leaves the looks to the caller.
 */
export function idleCollector(requestsSoFar: () => number, opts: { collect?: () => void; timer?: boolean } = {}): IdleCollector {
  const collect = opts.collect ?? (() => Bun.gc(true));
  let seen = requestsSoFar();
  let quiet = 0;
  let owed = false; // requests came since the last collection
  const check = () => {
    const now = requestsSoFar();
    if (now !== seen) {
      seen = now;
      quiet = 0;
      owed = true;
      return;
    }
    if (!owed || ++quiet < QUIET_CHECKS) return;
    owed = false;
    collect();
  };
  const timer = opts.timer === false ? null : setInterval(check, CHECK_EVERY_MS);
  timer?.unref();
  return { check, stop: () => timer && clearInterval(timer) };
}
