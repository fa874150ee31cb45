import { test } from "bun:test";
import { startTestServer } from "./helpers/server";
import * as Executions from "../src/modules/executions/service";
import { verifyApiKey } from "../src/modules/keys/service";
test("prof", async () => {
  const s = await startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_BOOTSTRAP_CREDIT: "100000", MODELROUTE_WORKER_CONCURRENCY: "1" } });
  const ctx = s.running.ctx;
  await ctx.scheduler.stop(0);
  const v = verifyApiKey({ db: ctx.db, keyCache: ctx.keyCache, now: Date.now }, s.apiKey);
  const caller = (v as any).caller;
  const body = { model: "demo-model", input: { text: "hello" } } as any;
  let t0 = performance.now();
  for (let i = 0; i < 2000; i++) await Executions.create(ctx, caller, body, "ASYNC");
  console.log("create only", (2000 / ((performance.now() - t0) / 1000)).toFixed(0), "/s");
  await s.stop();
}, 60000);
