/** `modelroute credits` against a running server's data directory: the server sees each credit at once. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { invariants } from "../helpers/invariants";
import { runCli } from "../helpers/process";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const cli = (...args: string[]) => runCli(["credits", ...args], server.dataDir);

const available = async () => (await (await server.get("/v1/balance")).json()).available;

test("credits add adds the exact amount, is audited, and a repeat with the same idempotency key adds nothing", async () => {
  const first = await cli("add", "--org", "default", "--amount", "25.10", "--note", "Invoice 7", "--idempotency-key", "inv-7");
  expect(first).toMatchObject({ code: 0, stderr: "" });
  expect(first.stdout).toContain("Credited 25.100 USD to default");
  expect(await available()).toBe("35.100");
  const again = await cli("add", "--org", "default", "--amount", "25.10", "--note", "Invoice 7", "--idempotency-key", "inv-7");
  expect(again.code).toBe(0);
  expect(again.stdout).toContain("nothing added");
  expect(await available()).toBe("35.100");
  const [credit] = (await (await server.get("/v1/balance/transactions?limit=1")).json()).data;
  expect(credit).toMatchObject({ type: "credit", amount: "25.100", note: "Invoice 7" });
  const audit = await (await server.request("GET", "/admin/v1/audit-log?action=balance.credit", { key: server.adminToken })).json();
  expect(audit.data[0]).toMatchObject({ actor: "cli", target: server.orgId, details: { amount: "25.100", idempotency_key: "inv-7" } });
  invariants(server.running.ctx.client, server.orgId);
});

test("credits balance prints the balance; --json prints the API's object", async () => {
  const run = await cli("balance", "--org", server.orgId, "--json");
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual(await (await server.get("/v1/balance")).json());
});

test("a malformed amount is a usage error (exit 2); an unknown org or a reused key with another amount exit 1", async () => {
  const bad = await cli("add", "--org", "default", "--amount", "25,00");
  expect(bad.code).toBe(2);
  expect(bad.stderr).toBe('modelroute: --amount must be a USD amount above 0 like 25.00, with at most 6 decimals (got "25,00")\n');
  const missing = await cli("add", "--org", "default");
  expect(missing.code).toBe(2);
  expect((await cli("add", "--org", "nobody", "--amount", "1.00")).code).toBe(1);
  const reused = await cli("add", "--org", "default", "--amount", "9.00", "--idempotency-key", "inv-7");
  expect(reused.code).toBe(1);
  expect(reused.stderr).toContain("different amount or note");
  expect((await cli("add", "--org", "default", "--amount", "0")).code).toBe(2);
});
