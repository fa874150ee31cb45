/**
 * The operator CLI against a running server on the same data directory: the CLI writes to the
 * database, the server notices within its 1 s cache window (advanced here on the server's own
 * clock, so no test waits on wall time).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { invariants } from "../helpers/invariants";
import { runCli, type CliRun } from "../helpers/process";
import { suiteOnPostgres } from "../helpers/postgres";
import { startTestServer, type TestServer } from "../helpers/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

let now = Date.now();
const clock = { now: () => now };
/** Moves the server's clock past the key and token caches' 1 s window. */
const afterCacheWindow = () => (now += 1001);

let server: TestServer;
let scratch: string;
beforeAll(async () => {
  // The clock barely moves, so every request shares one rate-limit window: turn the limiter off.
  server = await startTestServer({ clock, env: { MODELROUTE_RATE_LIMIT_RPM: "0" } });
  scratch = mkdtempSync(join(tmpdir(), "modelroute-cli-"));
});
afterAll(async () => {
  await server.stop();
  rmSync(scratch, { recursive: true, force: true });
});

type Run = CliRun;
const cli = (args: string[], dataDir = server.dataDir): Promise<Run> => runCli(args, dataDir);

const admin = (path: string) => server.request("GET", `/admin/v1${path}`, { key: null, headers: { authorization: `Bearer ${server.adminToken}` } });

describe("keys and orgs", () => {
  test("a key revoked from the CLI stops working within the 1 s window", async () => {
    const created = await json(await server.post("/v1/api-keys", { name: "to revoke" }));
    expect((await server.get("/v1/models", created.key)).status).toBe(200); // cached as valid now
    const run = await cli(["keys", "revoke", created.id, "--org", "default"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain(`Revoked ${created.id}`);
    afterCacheWindow();
    const res = await server.get("/v1/models", created.key);
    expect(res.status).toBe(401);
    expect((await json(res)).error.message).toBe("The API key has been revoked.");
    const [event] = (await json(await admin("/audit-log?action=api_key.revoke"))).data;
    expect(event).toMatchObject({ actor: "cli", target: created.id });
  });

  test("orgs create / list / suspend and keys create / list, seen by the server", async () => {
    const made = await cli(["orgs", "create", "cli-corp", "--json"]);
    expect(made.code).toBe(0);
    const org = JSON.parse(made.stdout);
    expect(org).toMatchObject({ object: "organization", name: "cli-corp", status: "active" });
    const listed = await cli(["orgs", "list"]);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+STATUS\s+CREATED$/m);
    expect(listed.stdout).toContain(org.id);

    const keyRun = await cli(["keys", "create", "--org", "cli-corp", "--name", "ops", "--permission", "full", "--spend-limit", "5.00", "--spend-limit-reset", "daily", "--json"]);
    expect(keyRun.code).toBe(0);
    const key = JSON.parse(keyRun.stdout);
    expect(key).toMatchObject({ permission: "full", limits: { spend_limit: "5.000", spend_limit_reset: "daily" } });
    expect((await server.get("/v1/api-keys", key.key)).status).toBe(200);
    expect((await cli(["keys", "list", "--org", org.id])).stdout).toContain(key.masked_key);

    expect((await cli(["orgs", "suspend", "cli-corp"])).code).toBe(0);
    afterCacheWindow();
    const refused = await server.get("/v1/models", key.key);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.message).toBe("The organization is suspended.");
  });

  test("service refusals exit 1 with the reason; bad usage exits 2 with one line", async () => {
    const unknownOrg = await cli(["keys", "list", "--org", "no-such-org"]);
    expect(unknownOrg.code).toBe(1);
    expect(unknownOrg.stderr).toBe('modelroute: No organization with id or name "no-such-org".\n');
    const badLimit = await cli(["keys", "create", "--org", "default", "--name", "x", "--spend-limit", "lots"]);
    expect(badLimit.code).toBe(1);
    expect(badLimit.stderr).toContain("limits.spend_limit");
    for (const args of [["keys", "list"], ["keys", "list", "--org", "default", "--bogus"], ["orgs", "explode"], ["keys", "create", "--org", "default", "--name", "x", "--max-concurrent", "two"]]) {
      const run = await cli(args);
      expect(`${args.join(" ")} -> ${run.code}`).toBe(`${args.join(" ")} -> 2`);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
    const empty = await cli(["orgs", "list"], join(scratch, "nothing-here"));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no database");
  });

  test("every operator command has --help with examples", async () => {
    for (const command of ["serve", "migrate", "orgs", "keys", "credits", "catalog", "providers", "backup", "restore", "admin-token"]) {
      const run = await cli([command, "--help"]);
      expect(`${command} ${run.code}`).toBe(`${command} 0`);
      expect(run.stdout).toContain("Examples:");
      expect(run.stdout).toContain(`modelroute ${command}`);
    }
  });

  test("admin-token rotate: the new token works, the old one answers 401", async () => {
    const run = await cli(["admin-token", "rotate"]);
    expect(run.code).toBe(0);
    const token = run.stdout.match(/mrt_[0-9a-f]{64}/)![0];
    afterCacheWindow();
    expect((await admin("/stats")).status).toBe(401);
    const fresh = await server.request("GET", "/admin/v1/stats", { key: null, headers: { authorization: `Bearer ${token}` } });
    expect(fresh.status).toBe(200);
    server.adminToken = token;
  });
});

describe("catalog files", () => {
  test("apply validates the whole YAML file, names each bad path, and applies nothing", async () => {
    const exported = await cli(["catalog", "export"]);
    expect(exported.code).toBe(0);
    const catalog = Bun.YAML.parse(exported.stdout) as { models: { slug: string; pricing: Record<string, string> }[] };
    catalog.models[2]!.pricing.input_per_1m_tokens = "cheap";
    catalog.models.push({ ...catalog.models[0]!, slug: "cli-added" });
    const file = join(scratch, "catalog.yaml");
    writeFileSync(file, Bun.YAML.stringify(catalog, null, 2));
    const bad = await cli(["catalog", "apply", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`models[2].pricing.input_per_1m_tokens: must be a money string`);
    expect((await server.get("/v1/models/cli-added")).status).toBe(404);

    catalog.models[2]!.pricing.input_per_1m_tokens = "0.25";
    writeFileSync(file, Bun.YAML.stringify(catalog, null, 2));
    const good = await cli(["catalog", "apply", file]);
    expect(good.code).toBe(0);
    // The catalog snapshot refreshes on wall time (at most 1 s): poll for it.
    let status = 0;
    for (const deadline = Date.now() + 3000; status !== 200 && Date.now() < deadline; await Bun.sleep(50)) status = (await server.get("/v1/models/cli-added")).status;
    expect(status).toBe(200);
  });
});

// `backup` and `restore` copy the SQLite file; on PostgreSQL they refuse and name pg_dump (tested below).
describe.skipIf(suiteOnPostgres())("backup and restore", () => {
  test("a backup taken while the server writes restores to a working database", async () => {
    // Load: guardrail writes, and executions that hold, capture and release money.
    const payer = server.newOrgKey({ creditMicros: 50_000_000 });
    let writing = true;
    let written = 0;
    let executions = 0;
    let tenCreated = () => {};
    const tenInFlight = new Promise<void>((resolve) => (tenCreated = resolve)); // the copy must catch some of them
    const load = (async () => {
      while (writing && written < 2000) {
        const res = await server.post("/v1/guardrails", { name: `load-${written}`, content_rules: [{ kind: "term", pattern: `t${written}` }] });
        expect(res.status).toBe(201);
        written++;
        if (written % 90 === 0) for (const g of (await json(await server.get("/v1/guardrails?limit=90"))).data) await server.request("DELETE", `/v1/guardrails/${g.id}`);
      }
    })();
    const spend = (async () => {
      while (writing && executions < 2000) {
        const failing = executions % 5 === 0 ? { mock_error: "GENERATION_FAILED" } : {};
        const res = await server.post("/v1/executions", { model: "demo-model", input: { text: `load ${executions}`, mock_latency_ms: executions % 3, ...failing } }, payer.key);
        expect(res.status).toBe(202);
        if (++executions === 10) tenCreated();
      }
    })();
    await tenInFlight;
    const file = join(scratch, "backup.db");
    const backup = await cli(["backup", file]);
    writing = false;
    await Promise.all([load, spend]);
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`to ${file}`);
    expect(written).toBeGreaterThan(0);
    expect(executions).toBeGreaterThan(0);
    expect((statSync(file).mode & 0o777).toString(8)).toBe("600"); // it holds secrets, like the database

    // The copy is a sound database on its own, and its ledger adds up.
    const copy = new Database(file, { readonly: true });
    expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const guardrailsInCopy = (copy.query("SELECT count(*) AS n FROM guardrails").get() as { n: number }).n;
    expect((copy.query("SELECT count(*) AS n FROM executions WHERE org_id = ?").get(payer.orgId) as { n: number }).n).toBeGreaterThan(0);
    invariants(copy, payer.orgId);
    invariants(copy, server.orgId);
    copy.close();

    // Restore refuses the running server's directory and a file that is not a ModelRoute database.
    const busy = await cli(["restore", file]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("stop it first");
    const notDb = join(scratch, "not-a-db.db");
    writeFileSync(notDb, "hello");
    const wrong = await cli(["restore", notDb], join(scratch, "restored"));
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("not an SQLite database");

    // Restored into a fresh directory, a server starts on it and serves the copied keys and guardrails.
    const restoredDir = join(scratch, "restored");
    const restored = await cli(["restore", file], restoredDir);
    expect(restored.code).toBe(0);
    copyFileSync(join(server.dataDir, "bootstrap.json"), join(restoredDir, "bootstrap.json"));
    expect((statSync(restoredDir).mode & 0o777).toString(8)).toBe("700");
    const second = await startTestServer({ dataDir: restoredDir });
    try {
      expect((await second.get("/v1/models")).status).toBe(200);
      // Executions caught running in the copy finish on the restored server; the ledger still adds up.
      let held = "";
      for (let i = 0; i < 200 && held !== "0.000"; i++, await Bun.sleep(20)) held = (await json(await second.get("/v1/balance", payer.key))).held;
      expect(held).toBe("0.000");
      invariants(second.running.ctx.client, payer.orgId);
      const guardrails = await json(await second.get("/v1/guardrails?limit=100"));
      expect(guardrails.data.length).toBe(Math.min(guardrailsInCopy, 100));
      const [event] = (await json(await second.request("GET", "/admin/v1/audit-log?action=restore", { key: null, headers: { authorization: `Bearer ${server.adminToken}` } }))).data;
      expect(event).toMatchObject({ actor: "cli", details: { file } });
    } finally {
      await second.stop();
    }
  });
});
