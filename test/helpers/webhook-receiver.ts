/**
 * A real webhook receiver on 127.0.0.1 for tests: records every request, answers as the test
 * says, and verifies both signature schemes with its own code (node:crypto, written from
 * docs/webhooks.md, not the gateway's signing module).
 */
import { createHmac, timingSafeEqual } from "node:crypto";

export type Received = { index: number; path: string; headers: Headers; body: string; json: any; receivedAt: number };

export type Receiver = {
  url: string;
  received: Received[];
  /** Answers request number `index` (0-based); default 200 "ok". */
  respond: (received: Received) => Response | Promise<Response>;
  /** Resolves once `count` requests (optionally only those matching) have arrived. */
  waitFor(count: number, match?: (r: Received) => boolean, timeoutMs?: number): Promise<Received[]>;
  stop(): void;
};

export function startReceiver(): Receiver {
  const waiters = new Set<() => void>();
  const receiver: Receiver = {
    url: "",
    received: [],
    respond: () => new Response("ok"),
    waitFor(count, match = () => true, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const matching = receiver.received.filter(match);
          if (matching.length < count) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(matching);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver got ${receiver.received.filter(match).length} matching requests, expected ${count}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(request) {
      const body = await request.text();
      const json = JSON.parse(body); // the gateway always sends JSON; anything else answers 500
      const received: Received = { index: receiver.received.length, path: new URL(request.url).pathname, headers: request.headers, body, json, receivedAt: Date.now() };
      receiver.received.push(received);
      for (const waiter of [...waiters]) waiter();
      return receiver.respond(received);
    },
  });
  receiver.url = `http://127.0.0.1:${server.port}`;
  return receiver;
}

/** Polls `read` until `done` holds (the gateway records an attempt just after the receiver answers). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await Bun.sleep(20);
  }
}

const equal = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Which schemes a request's signatures verify under `secret` (any of the listed signatures may match). */
export function verify(received: Received, secret: string): { seed: boolean; standard: boolean } {
  const h = received.headers;
  const ts = h.get("x-signature-timestamp") ?? "";
  const seedExpected = createHmac("sha256", secret).update(`${ts}.${received.body}`).digest("hex");
  const seed = (h.get("x-signature") ?? "").split(",").some((sig) => equal(sig, seedExpected));
  const id = h.get("webhook-id") ?? "";
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const standardExpected = createHmac("sha256", key).update(`${id}.${h.get("webhook-timestamp")}.${received.body}`).digest("base64");
  const standard = (h.get("webhook-signature") ?? "").split(" ").some((part) => part.startsWith("v1,") && equal(part.slice(3), standardExpected));
  return { seed, standard };
}
