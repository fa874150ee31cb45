import { expect, test } from "bun:test";
import { linkedSignal } from "../src/abort";

test("follows a parent's abort, with the parent's reason", () => {
  const parent = new AbortController();
  const linked = linkedSignal([undefined, parent.signal], 60_000);
  parent.abort(new Error("cancelled"));
  expect(linked.signal.aborted).toBe(true);
  expect((linked.signal.reason as Error).message).toBe("cancelled");
  expect(linked.timedOut()).toBe(false);
  linked.dispose();
});

test("an already aborted parent aborts it at once", () => {
  const linked = linkedSignal([AbortSignal.abort("gone")], 10);
  expect(linked.signal.aborted).toBe(true);
  expect(linked.signal.reason).toBe("gone");
});

test("the time limit aborts with a TimeoutError, or the given reason, and says so", async () => {
  const plain = linkedSignal([new AbortController().signal], 5);
  const own = linkedSignal([], 5, () => new RangeError("too slow"));
  await Bun.sleep(30);
  expect(plain.timedOut()).toBe(true);
  expect((plain.signal.reason as DOMException).name).toBe("TimeoutError");
  expect(own.signal.reason).toBeInstanceOf(RangeError);
});

test("once disposed, neither the timer nor a parent aborts it", async () => {
  const parent = new AbortController();
  const linked = linkedSignal([parent.signal], 5);
  linked.dispose();
  await Bun.sleep(30);
  parent.abort();
  expect(linked.signal.aborted).toBe(false);
  expect(linked.timedOut()).toBe(false);
});
