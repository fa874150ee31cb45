/**
 * docs/webhooks.md's verification code, run as published against real deliveries: the verifier
 * functions of its TypeScript block (and its Python block, where python3 exists) accept what the
 * gateway sends, with either secret during a rotation, and refuse a changed body or an old
 * timestamp. Keeps the documentation from drifting away from the signing code.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server";
import { startReceiver, type Received, type Receiver } from "../helpers/webhook-receiver";

const doc = readFileSync(join(import.meta.dir, "../../docs/webhooks.md"), "utf8");
/** The fenced block of `lang`, up to the line starting with `stopAt` (the framework wiring after the verifiers). */
function codeBlock(lang: string, stopAt: string): string {
  const block = doc.match(new RegExp("```" + lang + "\\n([\\s\\S]*?)```"))?.[1];
  if (!block) throw new Error(`docs/webhooks.md has no ${lang} block`);
  const end = block.indexOf(stopAt);
  if (end < 0) throw new Error(`the ${lang} block has no "${stopAt}" line`);
  return block.slice(0, end);
}

type Verifier = (secret: string, headers: Headers, rawBody: string, nowMs?: number) => boolean;
let verifiers: { verifyXSignature: Verifier; verifyStandardWebhooks: Verifier };
let server: TestServer;
let rx: Receiver;
let scratch: string;
const python = Bun.which("python3");

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), "modelroute-webhook-docs-"));
  writeFileSync(join(scratch, "verify.ts"), codeBlock("ts", "// With Bun.serve"));
  verifiers = await import(join(scratch, "verify.ts"));
  server = await startTestServer({ env: { MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true" } });
  rx = startReceiver();
});
afterAll(async () => {
  rx.stop();
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const both = (secret: string, hit: Received, body = hit.body, nowMs?: number) => [
  verifiers.verifyXSignature(secret, hit.headers, body, nowMs),
  verifiers.verifyStandardWebhooks(secret, hit.headers, body, nowMs),
];

test("the TypeScript verifiers accept real deliveries, also across a rotation, and refuse tampering and replays", async () => {
  const endpoint = await (await server.post("/v1/webhooks/endpoints", { url: `${rx.url}/endpoint` })).json();
  await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "ünïcödé ✓ in the body" }, webhook_url: `${rx.url}/exec` });
  const [execHit] = await rx.waitFor(1, (r) => r.path === "/exec");
  const { secret: orgSecret } = await (await server.get("/v1/webhooks/signing-secret")).json();
  expect(both(orgSecret, execHit!)).toEqual([true, true]);
  expect(both(endpoint.secret, execHit!)).toEqual([false, false]);
  expect(both(orgSecret, execHit!, execHit!.body.replace("COMPLETED", "FAILED"))).toEqual([false, false]);
  const sentAt = Number(execHit!.headers.get("x-signature-timestamp")) * 1000;
  expect(both(orgSecret, execHit!, execHit!.body, sentAt + 4 * 60_000)).toEqual([true, true]);
  expect(both(orgSecret, execHit!, execHit!.body, sentAt + 6 * 60_000)).toEqual([false, false]); // outside the 5 min tolerance

  const rotated = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/rotate-secret`)).json();
  const delivery = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`)).json();
  const [testHit] = await rx.waitFor(1, (r) => r.json.id === delivery.event_id);
  expect(both(rotated.secret, testHit!)).toEqual([true, true]);
  expect(both(endpoint.secret, testHit!)).toEqual([true, true]);
});

test.skipIf(!python)("the Python verifiers accept a real delivery and refuse a changed body", async () => {
  const endpoint = await (await server.post("/v1/webhooks/endpoints", { url: `${rx.url}/python`, events: ["execution.completed"] })).json();
  const delivery = await (await server.post(`/v1/webhooks/endpoints/${endpoint.id}/test`)).json();
  const [hit] = await rx.waitFor(1, (r) => r.json.id === delivery.event_id);
  const check = `
import json, sys
case = json.load(sys.stdin)
headers, body = case["headers"], case["body"].encode()
for raw in (body, body.replace(b"webhook.test", b"webhook.fake")):
    print(verify_x_signature(case["secret"], headers, raw), verify_standard_webhooks(case["secret"], headers, raw))
`;
  writeFileSync(join(scratch, "verify.py"), codeBlock("python", "# Flask:") + check);
  // A plain dict keyed as the docs read it (Flask's headers are case-insensitive; a dict needs both spellings).
  const headers: Record<string, string> = {};
  hit!.headers.forEach((value, name) => {
    headers[name] = value;
    headers[name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase())] = value;
  });
  const proc = Bun.spawn([python!, join(scratch, "verify.py")], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(JSON.stringify({ secret: endpoint.secret, headers, body: hit!.body }));
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe("");
  expect(code).toBe(0);
  expect(out.trim().split("\n")).toEqual(["True True", "False False"]);
});
