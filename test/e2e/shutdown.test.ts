import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer } from "../helpers/server";

test("on shutdown a SYNC waiter gets 202 with the execution as it stands; the next start finishes it", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "modelroute-shutdown-"));
  const env = { MODELROUTE_SHUTDOWN_GRACE_MS: "300" };
  const first = await startTestServer({ dataDir, env });
  const pending = first.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "long", mock_latency_ms: 3000 } });
  await Bun.sleep(150);
  const stopped = first.stop();
  const res = await pending;
  expect(res.status).toBe(202);
  const execution = await res.json();
  expect(execution.status).toBe("PROCESSING");
  await stopped;

  const second = await startTestServer({ dataDir, env });
  try {
    let status = "";
    for (let i = 0; i < 100 && status !== "COMPLETED"; i++) {
      status = (await (await second.get(`/v1/executions/${execution.id}`)).json()).status;
      await Bun.sleep(100);
    }
    expect(status).toBe("COMPLETED");
  } finally {
    await second.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 30_000);
