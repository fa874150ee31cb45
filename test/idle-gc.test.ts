/** The idle collector (src/idle-gc.ts): one collection per quiet spell after requests, none while they come. */
import { expect, test } from "bun:test";
import { idleCollector } from "../src/idle-gc";

function rig() {
  let requests = 0;
  let collections = 0;
  const collector = idleCollector(() => requests, { collect: () => collections++, timer: false });
  return { serve: (n = 1) => (requests += n), looks: (n: number) => Array.from({ length: n }, () => collector.check()), collections: () => collections };
}

test("a server that has served nothing since it started is not collected", () => {
  const r = rig();
  r.looks(10);
  expect(r.collections()).toBe(0);
});

test("after requests, one collection once two looks find no new one, and none while requests keep coming", () => {
  const r = rig();
  for (let i = 0; i < 5; i++) {
    r.serve(100);
    r.looks(1); // busy: the count moved since the last look
  }
  expect(r.collections()).toBe(0);
  r.looks(1);
  expect(r.collections()).toBe(0); // one quiet look is not enough
  r.looks(1);
  expect(r.collections()).toBe(1);
  r.looks(20);
  expect(r.collections()).toBe(1); // once per quiet spell
  r.serve();
  r.looks(3);
  expect(r.collections()).toBe(2); // a new spell after new work
});
