import { test } from "bun:test";
import { startTestServer } from "./helpers/server";
test("hdr", async () => {
  const s = await startTestServer();
  s.running.ctx.drain.active = true;
  for (const r of [await s.get("/v1/balance"), await s.get("/readyz"), await s.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "x" } }), await s.post("/v1/executions", { model: "demo-model", input: { text: "x" } }), await s.get("/v1/nope")])
    console.log(r.status, r.headers.get("connection"));
  await s.stop();
});
