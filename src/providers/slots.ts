/**
 * Per-route concurrency: at most `max` calls in flight, up to `maxQueue` more waiting in arrival
 * order for at most `waitMs`; beyond that the route is full and the router moves on, so one slow
 * upstream never holds callers that another route could serve.
 */
type Waiter = { grant: () => void; fail: (error: unknown) => void };

export class Slots {
  inFlight = 0;
  private waiting: Waiter[] = [];

  get queued() {
    return this.waiting.length;
  }

  /** A release function once a slot is held; null when the route is full or the wait ran out. */
  async acquire(max: number | null, maxQueue: number, waitMs: number, signal: AbortSignal): Promise<(() => void) | null> {
    if (max === null || this.inFlight < max) {
      this.inFlight++;
      return this.releaser();
    }
    if (this.waiting.length >= maxQueue) return null;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          done();
          resolve(this.releaser());
        },
        fail: (error) => {
          done();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        done();
        resolve(null);
      }, waitMs);
      const onAbort = () => waiter.fail(signal.reason);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  private releaser() {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting[0];
      if (next) next.grant(); // the slot passes straight to the next in line
      else this.inFlight--;
    };
  }
}
