import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const admin = (method: string, path: string, body?: unknown, token = server.adminToken) =>
  server.request(method, `/admin/v1${path}`, { key: null, headers: { authorization: `Bearer ${token}` }, body });

const auditOf = async (action: string) => (await json(await admin("GET", `/audit-log?action=${action}`))).data;

describe("operator token", () => {
  test("no token, an API key or a wrong token: 401; the operator token: 200", async () => {
    expect((await server.request("GET", "/admin/v1/stats", { key: null })).status).toBe(401);
    const withApiKey = await server.request("GET", "/admin/v1/stats", { key: server.apiKey });
    expect(withApiKey.status).toBe(401);
    expect((await json(withApiKey)).error.code).toBe("UNAUTHORIZED");
    const wrong = await admin("GET", "/stats", undefined, `mrt_${"0".repeat(64)}`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("x-ratelimit-limit")).toBeNull();
    const ok = await admin("GET", "/stats");
    expect(ok.status).toBe(200);
    expect(await json(ok)).toMatchObject({ object: "stats", organizations: { total: 1, active: 1, suspended: 0 }, api_keys: { active: 1 } });
  });
});

describe("organizations and their keys", () => {
  test("create, list, get; names are unique; each action is audited", async () => {
    const res = await admin("POST", "/orgs", { name: "acme" });
    expect(res.status).toBe(201);
    const org = await json(res);
    expect(org).toMatchObject({ object: "organization", name: "acme", status: "active" });
    expect((await admin("POST", "/orgs", { name: "acme" })).status).toBe(409);
    expect(await json(await admin("GET", `/orgs/${org.id}`))).toEqual(org);
    expect((await json(await admin("GET", "/orgs"))).data[0]).toEqual(org);
    expect((await admin("GET", "/orgs/org_nope")).status).toBe(404);
    const [event] = await auditOf("org.create");
    expect(event).toMatchObject({ object: "audit_event", actor: "operator", action: "org.create", target: org.id, details: { name: "acme" } });
  });

  test("keys of any org: create, list, revoke (audited), the revoked key answers 401", async () => {
    const org = await json(await admin("POST", "/orgs", { name: "keys-inc" }));
    const created = await admin("POST", `/orgs/${org.id}/keys`, { name: "first", permission: "full" });
    expect(created.status).toBe(201);
    const key = await json(created);
    expect(key).toMatchObject({ object: "api_key", permission: "full", name: "first" });
    expect((await server.get("/v1/api-keys", key.key)).status).toBe(200);
    const list = await json(await admin("GET", `/orgs/${org.id}/keys`));
    expect(list.data.map((k: { id: string }) => k.id)).toEqual([key.id]);
    // The operator may revoke even the org's last full key.
    expect(await json(await admin("DELETE", `/orgs/${org.id}/keys/${key.id}`))).toEqual({ id: key.id, object: "api_key", deleted: true });
    const after = await server.get("/v1/models", key.key);
    expect(after.status).toBe(401);
    expect((await json(after)).error.message).toBe("The API key has been revoked.");
    expect((await auditOf("api_key.create"))[0]).toMatchObject({ target: org.id, details: { name: "first", permission: "full" } });
    expect((await auditOf("api_key.revoke"))[0]).toMatchObject({ target: key.id, details: { org_id: org.id } });
    expect((await admin("DELETE", `/orgs/${org.id}/keys/${key.id}`)).status).toBe(404);
  });

  test("a suspended organization's keys answer 401; unsuspending restores them", async () => {
    const org = await json(await admin("POST", "/orgs", { name: "suspendable" }));
    const key = (await json(await admin("POST", `/orgs/${org.id}/keys`, { name: "k" }))).key;
    expect((await server.get("/v1/models", key)).status).toBe(200);
    expect(await json(await admin("POST", `/orgs/${org.id}/suspend`))).toMatchObject({ status: "suspended" });
    const refused = await server.get("/v1/models", key);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.message).toBe("The organization is suspended.");
    expect((await server.get("/v1/models")).status).toBe(200); // other orgs are unaffected
    await admin("POST", `/orgs/${org.id}/unsuspend`);
    expect((await server.get("/v1/models", key)).status).toBe(200);
    expect((await auditOf("org.suspend"))[0]).toMatchObject({ actor: "operator", target: org.id });
  });
});

describe("catalog", () => {
  test("export then apply round-trips; a change is served at once", async () => {
    const exported = await json(await admin("GET", "/catalog"));
    expect(exported.providers).toEqual([{ id: "mock", kind: "mock", base_url: null, config: {} }]);
    const image = exported.models.find((m: { slug: string }) => m.slug === "mock-image");
    expect(image.pricing).toEqual({ currency: "USD", per_image: "0.040" });
    const changed = { models: [{ ...image, slug: "mock-image-hd", pricing: { per_image: "0.120" } }] };
    const applied = await admin("PUT", "/catalog", changed);
    expect(applied.status).toBe(200);
    expect(await json(applied)).toEqual({ object: "catalog_apply", providers: [], models: ["mock-image-hd"], aliases: [] });
    const model = await json(await server.get("/v1/models/mock-image-hd"));
    expect(model.pricing).toEqual({ currency: "USD", per_image: "0.120" });
    expect((await auditOf("catalog.apply"))[0]).toMatchObject({ details: { models: ["mock-image-hd"] } });
  });

  test("provider API keys are exported only when asked for, and the export is audited", async () => {
    await admin("PUT", "/catalog", { providers: [{ id: "upstream", kind: "mock", api_key: "sk-upstream-secret" }] });
    const plain = await json(await admin("GET", "/catalog"));
    expect(JSON.stringify(plain)).not.toContain("sk-upstream-secret");
    const withSecrets = await json(await admin("GET", "/catalog?include_secrets=true"));
    expect(withSecrets.providers.find((p: { id: string }) => p.id === "upstream").api_key).toBe("sk-upstream-secret");
    // Applying a provider without api_key keeps the stored one.
    await admin("PUT", "/catalog", { providers: [{ id: "upstream", kind: "mock", base_url: "http://127.0.0.1:9" }] });
    const kept = await json(await admin("GET", "/catalog?include_secrets=true"));
    expect(kept.providers.find((p: { id: string }) => p.id === "upstream")).toMatchObject({ api_key: "sk-upstream-secret", base_url: "http://127.0.0.1:9" });
    expect((await auditOf("catalog.export"))[0]).toMatchObject({ actor: "operator", details: { include_secrets: true } });
  });

  test("an invalid file is refused whole, every problem named by path", async () => {
    const exported = await json(await admin("GET", "/catalog"));
    const [first, second] = exported.models;
    const bad = {
      models: [
        { ...first, slug: "new-one" },
        { ...second, pricing: { per_image: "4 cents" }, routes: [{ provider: "ghost", upstream_model: "x" }] },
      ],
    };
    const res = await admin("PUT", "/catalog", bad);
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.details.map((d: { field: string; message: string }) => `${d.field}: ${d.message}`)).toEqual([
      'models[1].pricing.per_image: must be a money string (decimal USD with at most 6 decimals, e.g. "0.040")',
      'models[1].routes[0].provider: no provider "ghost" in this file or the catalog',
    ]);
    expect((await server.get("/v1/models/new-one")).status).toBe(404); // nothing applied
    const structural = await json(await admin("PUT", "/catalog", { models: [{ slug: "x" }], extra: true }));
    expect(structural.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(["extra", "models[0].task", "models[0].routes"]));
  });
});

test("stats count organizations, keys and executions by status", async () => {
  const stats = await json(await admin("GET", "/stats"));
  expect(stats.organizations.total).toBeGreaterThanOrEqual(4);
  expect(stats.organizations.suspended).toBe(0);
  expect(typeof stats.executions.total).toBe("number");
  expect(stats.executions.by_status).toBeObject();
});

test("stats count every organization's executions by status", async () => {
  const before = (await json(await admin("GET", "/stats"))).executions;
  const { key } = server.newOrgKey();
  for (const input of [{ text: "a" }, { text: "b" }, { text: "c", mock_error: "MODEL_OVERLOADED" }])
    expect((await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input }, key)).status).toBe(200);
  expect((await server.post("/v1/executions", { model: "demo-model", mode: "SYNC", input: { text: "d" } })).status).toBe(200);

  const after = (await json(await admin("GET", "/stats"))).executions;
  expect(after.by_status.COMPLETED).toBe((before.by_status.COMPLETED ?? 0) + 3);
  expect(after.by_status.FAILED).toBe((before.by_status.FAILED ?? 0) + 1);
  expect(after.total).toBe(before.total + 4);
  expect(Object.values(after.by_status).reduce((a: number, b) => a + (b as number), 0)).toBe(after.total);
});
