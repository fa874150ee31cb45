import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, type ServerProcess } from "../helpers/process";
import { eventually, startReceiver, verify } from "../helpers/webhook-receiver";

const dataDir = mkdtempSync(join(tmpdir(), "modelroute-webhook-crash-"));
const rx = startReceiver();
let current: ServerProcess | undefined;
afterAll(() => {
  current?.proc.kill(9);
  rx.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test("kill -9 after the status change, before the delivery is done: delivered after restart with the same event id", async () => {
  const env = { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" };
  current = await spawnServer(dataDir, env);
  const { api_key: key } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
  const post = (path: string, body: unknown) => fetch(`${current!.url}${path}`, { method: "POST", headers, body: JSON.stringify(body) });

  // The first request never gets an answer: the gateway dies while it is in flight.
  let firstArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
  rx.respond = (r) => {
    if (r.index > 0) return new Response("ok");
    firstArrived();
    return new Promise<Response>(() => {});
  };
  const endpoint = await (await post("/v1/webhooks/endpoints", { url: rx.url, events: ["execution.completed"] })).json();
  const execution = await (await post("/v1/executions", { model: "demo-model", input: { text: "crash" } })).json();
  await arrived;
  expect(rx.received[0]!.json).toMatchObject({ type: "execution.completed", data: { id: execution.id, status: "COMPLETED" } });

  current.proc.kill(9);
  await current.exited;
  current = await spawnServer(dataDir, env, current.port);

  const [, redelivered] = await rx.waitFor(2);
  expect(redelivered!.json.id).toBe(rx.received[0]!.json.id);
  expect(redelivered!.body).toBe(rx.received[0]!.body); // the same bytes, signed again
  expect(verify(redelivered!, endpoint.secret)).toEqual({ seed: true, standard: true });
  const list = await eventually(
    async () => (await fetch(`${current!.url}/v1/webhooks/endpoints/${endpoint.id}/deliveries`, { headers })).json(),
    (l) => l.data[0]?.status === "succeeded",
  );
  expect(list.data).toHaveLength(1);
  expect(list.data[0]).toMatchObject({ event_id: redelivered!.json.id, status: "succeeded" });
  current.proc.kill("SIGTERM");
  expect(await current.exited).toBe(0);
}, 60_000);
