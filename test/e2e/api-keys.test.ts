import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestServer, type TestServer } from "../helpers/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

const HOUR_MS = 3_600_000;
let now = Date.UTC(2030, 0, 15, 12, 0, 0);
const clock = { now: () => now };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock });
});
afterAll(() => server.stop());

/** A fresh organization with one full key, so tests do not share the 20-key budget. */
async function newOrg(name: string): Promise<{ orgId: string; key: string }> {
  const admin = { authorization: `Bearer ${server.adminToken}` };
  const org = await json(await server.request("POST", "/admin/v1/orgs", { key: null, headers: admin, body: { name } }));
  const key = await json(await server.request("POST", `/admin/v1/orgs/${org.id}/keys`, { key: null, headers: admin, body: { name: "owner", permission: "full" } }));
  return { orgId: org.id, key: key.key };
}

const createKey = (owner: string, body: Record<string, unknown>) => server.post("/v1/api-keys", body, owner);

describe("create, read, list", () => {
  test("create returns the secret once; get and list show it masked", async () => {
    const { key: owner } = await newOrg("keys-crud");
    const res = await createKey(owner, { name: "backend", limits: { requests_per_minute: 120, spend_limit: "25", spend_limit_reset: "monthly" } });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created).toMatchObject({
      object: "api_key",
      name: "backend",
      permission: "inference",
      status: "active",
      limits: { requests_per_minute: 120, max_concurrent_executions: null, spend_limit: "25.000", spend_limit_reset: "monthly" },
    });
    expect(created.key).toMatch(/^sk_[0-9a-f]{64}_[0-9a-f]{8}$/);
    expect(created.masked_key).toBe(`${created.key.slice(0, 7)}…${created.key.slice(63, 67)}`);

    const fetched = await json(await server.get(`/v1/api-keys/${created.id}`, owner));
    expect(fetched.key).toBeUndefined();
    expect(fetched.masked_key).toBe(created.masked_key);
    const list = await json(await server.get("/v1/api-keys", owner));
    expect(list.data.map((k: { id: string }) => k.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(created.key);

    // The new key works for inference at once.
    expect((await server.get("/v1/models", created.key)).status).toBe(200);
  });

  test("lists page newest first with starting_after / ending_before", async () => {
    const { key: owner } = await newOrg("keys-paging");
    const ids: string[] = [];
    for (const name of ["a", "b", "c"]) ids.push((await json(await createKey(owner, { name }))).id);
    const first = await json(await server.get("/v1/api-keys?limit=2", owner));
    expect(first.data.map((k: { id: string }) => k.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const second = await json(await server.get(`/v1/api-keys?limit=2&starting_after=${ids[1]}`, owner));
    expect(second.data.map((k: { name: string }) => k.name)).toEqual(["a", "owner"]);
    expect(second.has_more).toBe(false);
    const back = await json(await server.get(`/v1/api-keys?limit=1&ending_before=${ids[0]}`, owner));
    expect(back.data.map((k: { id: string }) => k.id)).toEqual([ids[1]]);
    expect(back.has_more).toBe(true);
  });

  test("a malformed or foreign key id is a 404", async () => {
    const { key: owner } = await newOrg("keys-404");
    expect((await server.get("/v1/api-keys/nope", owner)).status).toBe(404);
    const foreign = await json(await server.get("/v1/api-keys", server.apiKey));
    const res = await server.get(`/v1/api-keys/${foreign.data[0].id}`, owner);
    expect(res.status).toBe(404);
    expect((await json(res)).error.code).toBe("NOT_FOUND");
  });
});

describe("validation", () => {
  test("bad limits name each field", async () => {
    const { key: owner } = await newOrg("keys-validation");
    const res = await createKey(owner, { name: "x", limits: { requests_per_minute: 0, spend_limit: "1.2345678" } });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe("INPUT_VALIDATION_ERROR");
    expect(error.details).toEqual([
      { field: "limits.requests_per_minute", code: "out_of_range", message: expect.any(String) },
      { field: "limits.spend_limit", code: "invalid_format", message: expect.any(String) },
    ]);
    const unknown = await json(await createKey(owner, { name: "x", limits: { burst: 5 } }));
    expect(unknown.error.details).toEqual([{ field: "limits.burst", code: "unknown_field", message: expect.any(String) }]);
    const resetAlone = await json(await createKey(owner, { name: "x", limits: { spend_limit_reset: "daily" } }));
    expect(resetAlone.error.details[0]).toMatchObject({ field: "limits.spend_limit", code: "required" });
    const past = await json(await createKey(owner, { name: "x", expires_at: "2020-01-01T00:00:00Z" }));
    expect(past.error.details[0]).toMatchObject({ field: "expires_at", code: "out_of_range" });
    const offset = await json(await createKey(owner, { name: "x", expires_at: "2031-01-01T00:00:00+02:00" }));
    expect(offset.error.details[0]).toMatchObject({ field: "expires_at", code: "invalid_format" });
  });

  test("PATCH merges limits; null removes one", async () => {
    const { key: owner } = await newOrg("keys-patch-limits");
    const created = await json(await createKey(owner, { name: "x", limits: { requests_per_minute: 50, max_concurrent_executions: 3 } }));
    const patched = await json(
      await server.request("PATCH", `/v1/api-keys/${created.id}`, { key: owner, body: { name: "renamed", limits: { requests_per_minute: null, spend_limit: "2.5" } } }),
    );
    expect(patched).toMatchObject({
      name: "renamed",
      limits: { requests_per_minute: null, max_concurrent_executions: 3, spend_limit: "2.500", spend_limit_reset: "none" },
    });
  });
});

describe("permissions", () => {
  test("an inference key gets 403 on key and guardrail management but runs inference", async () => {
    const { key: owner } = await newOrg("keys-permissions");
    const inference = (await json(await createKey(owner, { name: "worker", permission: "inference" }))).key;
    for (const [method, path] of [
      ["GET", "/v1/api-keys"],
      ["POST", "/v1/api-keys"],
      ["GET", "/v1/guardrails"],
      ["POST", "/v1/guardrails"],
      ["GET", "/v1/guardrails/assignments/keys"],
    ] as const) {
      const res = await server.request(method, path, { key: inference, body: method === "POST" ? { name: "x" } : undefined });
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 403`);
      expect((await json(res)).error.code).toBe("FORBIDDEN");
      expect(res.headers.get("x-ratelimit-limit")).not.toBeNull();
    }
    expect((await server.get("/v1/models", inference)).status).toBe(200);
  });
});

describe("lifecycle", () => {
  test("disable, re-enable, revoke and expiry each answer 401 with their own message", async () => {
    const { key: owner } = await newOrg("keys-lifecycle");
    const created = await json(await createKey(owner, { name: "x", expires_at: new Date(now + 2 * HOUR_MS).toISOString() }));
    const messageOf = async (key: string) => {
      const res = await server.get("/v1/models", key);
      return res.status === 200 ? "ok" : (await json(res)).error.message;
    };
    await server.request("PATCH", `/v1/api-keys/${created.id}`, { key: owner, body: { disabled: true } });
    expect(await messageOf(created.key)).toBe("The API key is disabled.");
    await server.request("PATCH", `/v1/api-keys/${created.id}`, { key: owner, body: { disabled: false } });
    expect(await messageOf(created.key)).toBe("ok");
    now += 2 * HOUR_MS;
    expect(await messageOf(created.key)).toBe("The API key has expired.");
    const revoked = await json(await createKey(owner, { name: "y" }));
    const del = await server.request("DELETE", `/v1/api-keys/${revoked.id}`, { key: owner });
    expect(await json(del)).toEqual({ id: revoked.id, object: "api_key", deleted: true });
    expect(await messageOf(revoked.key)).toBe("The API key has been revoked.");
    expect((await server.get(`/v1/api-keys/${revoked.id}`, owner)).status).toBe(404);
  });

  test("the last working full key cannot be deleted or disabled (409), another one unlocks it", async () => {
    const { key: owner } = await newOrg("keys-last-full");
    const self = (await json(await server.get("/v1/api-keys", owner))).data[0];
    for (const res of [
      await server.request("DELETE", `/v1/api-keys/${self.id}`, { key: owner }),
      await server.request("PATCH", `/v1/api-keys/${self.id}`, { key: owner, body: { disabled: true } }),
    ]) {
      expect(res.status).toBe(409);
      expect((await json(res)).error.code).toBe("CONFLICT");
    }
    const second = await json(await createKey(owner, { name: "second admin", permission: "full" }));
    expect((await server.request("DELETE", `/v1/api-keys/${self.id}`, { key: second.key })).status).toBe(200);
    expect((await server.get("/v1/models", owner)).status).toBe(401);
  });

  test("rotation: new secret at once, the old one for exactly 1 h, same id and limits", async () => {
    const { key: owner } = await newOrg("keys-rotation");
    const created = await json(await createKey(owner, { name: "rotating", limits: { max_concurrent_executions: 2 } }));
    const res = await server.post(`/v1/api-keys/${created.id}/rotate`, undefined, owner);
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated).toMatchObject({ id: created.id, limits: created.limits, previous_key_expires_at: new Date(now + HOUR_MS).toISOString() });
    expect(rotated.key).not.toBe(created.key);
    expect(rotated.masked_key).not.toBe(created.masked_key);
    expect((await server.get("/v1/models", rotated.key)).status).toBe(200);
    now += HOUR_MS - 1000;
    expect((await server.get("/v1/models", created.key)).status).toBe(200);
    now += 1000;
    const old = await server.get("/v1/models", created.key);
    expect(old.status).toBe(401);
    expect((await json(old)).error.message).toBe("The API key was rotated and its grace period has ended.");
    expect((await server.get("/v1/models", rotated.key)).status).toBe(200);
    expect((await json(await server.get(`/v1/api-keys/${created.id}`, owner))).previous_key_expires_at).toBeNull();
  });
});

describe("the 20-key limit", () => {
  test("a 21st active key is refused; rotation still works at 20; revoking frees a slot", async () => {
    const { key: owner } = await newOrg("keys-limit");
    const made = [];
    for (let i = 0; i < 19; i++) made.push(await json(await createKey(owner, { name: `k${i}`, permission: i === 0 ? "full" : "inference" })));
    await server.request("PATCH", `/v1/api-keys/${made[1].id}`, { key: owner, body: { disabled: true } }); // disabled keys still count
    const refused = await createKey(owner, { name: "one too many" });
    expect(refused.status).toBe(409);
    const { error } = await json(refused);
    expect(error).toMatchObject({ code: "API_KEY_LIMIT_REACHED", retryable: false });
    expect(error.message).toContain("20");
    const rotated = await server.post(`/v1/api-keys/${made[2].id}/rotate`, undefined, owner);
    expect(rotated.status).toBe(200); // its previous secret, in grace, does not count
    expect((await createKey(owner, { name: "still too many" })).status).toBe(409);
    await server.request("DELETE", `/v1/api-keys/${made[3].id}`, { key: owner });
    expect((await createKey(owner, { name: "fits again" })).status).toBe(201);
  });
});

describe("rate limits", () => {
  test("a key's own requests_per_minute shows in the headers and 429s past it", async () => {
    const { key: owner } = await newOrg("keys-rpm");
    const limited = (await json(await createKey(owner, { name: "slow", limits: { requests_per_minute: 2 } }))).key;
    const a = await server.get("/v1/models", limited);
    const b = await server.get("/v1/models", limited);
    expect([a.headers.get("x-ratelimit-limit"), a.headers.get("x-ratelimit-remaining"), b.headers.get("x-ratelimit-remaining")]).toEqual(["2", "1", "0"]);
    const c = await server.get("/v1/models", limited);
    expect(c.status).toBe(429);
    expect((await json(c)).error.code).toBe("RATE_LIMITED");
    expect(Number(c.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("the stricter of the key's and its guardrail's limit wins", async () => {
    const { key: owner } = await newOrg("keys-rpm-guardrail");
    const created = await json(await createKey(owner, { name: "guarded", limits: { requests_per_minute: 50 } }));
    const guardrail = await json(await server.post("/v1/guardrails", { name: "tight", limits: { requests_per_minute: 5 } }, owner));
    await server.post(`/v1/guardrails/${guardrail.id}/assignments/keys`, { key_ids: [created.id] }, owner);
    expect((await server.get("/v1/models", created.key)).headers.get("x-ratelimit-limit")).toBe("5");
    await server.request("PATCH", `/v1/api-keys/${created.id}`, { key: owner, body: { limits: { requests_per_minute: 3 } } });
    expect((await server.get("/v1/models", created.key)).headers.get("x-ratelimit-limit")).toBe("3");
  });
});

describe("limits under parallel requests", () => {
  const slow = { model: "demo-model", input: { text: "take your time", mock_latency_ms: 10_000 } };
  /** Cancels the org's slow executions, so the server stops without waiting for them. */
  const cancelAll = async (owner: string) => {
    for (const e of (await json(await server.get("/v1/executions?limit=100", owner))).data)
      if (e.status === "PENDING" || e.status === "PROCESSING") await server.post(`/v1/executions/${e.id}/cancel`, {}, owner);
  };

  test("max_concurrent_executions: of 12 parallel creates exactly 3 run, the rest are 429 with Retry-After; a finished one frees its slot", async () => {
    const { key: owner } = server.newOrgKey();
    const limited = await json(await createKey(owner, { name: "three at once", permission: "inference", limits: { max_concurrent_executions: 3 } }));
    const responses = await Promise.all(Array.from({ length: 12 }, () => server.post("/v1/executions", slow, limited.key)));
    const accepted = responses.filter((r) => r.status === 202);
    const refused = responses.filter((r) => r.status === 429);
    expect([accepted.length, refused.length]).toEqual([3, 9]);
    for (const res of refused) {
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await json(res)).error).toMatchObject({ code: "RATE_LIMITED", retryable: true });
    }
    const [first] = await Promise.all(accepted.map(json));
    expect((await server.post(`/v1/executions/${first.id}/cancel`, {}, limited.key)).status).toBe(200);
    expect((await server.post("/v1/executions", slow, limited.key)).status).toBe(202);
    expect((await server.post("/v1/executions", slow, limited.key)).status).toBe(429);
    // Another key of the same org has its own count.
    expect((await server.post("/v1/executions", slow, owner)).status).toBe(202);
    await cancelAll(owner);
  });

  test("a spend limit is never exceeded: of 12 parallel creates holding 0.040 each, exactly 5 fit in 0.200, the rest are 402 naming the limit", async () => {
    const { key: owner } = server.newOrgKey();
    const limited = await json(await createKey(owner, { name: "budget", permission: "inference", limits: { spend_limit: "0.200", spend_limit_reset: "daily" } }));
    const image = { model: "mock-image", input: { prompt: "a fox", width: 64, height: 64, mock_latency_ms: 10_000 } };
    const responses = await Promise.all(Array.from({ length: 12 }, () => server.post("/v1/executions", image, limited.key)));
    expect(responses.filter((r) => r.status === 202)).toHaveLength(5);
    const refused = responses.filter((r) => r.status === 402);
    expect(refused).toHaveLength(7);
    for (const res of refused) {
      const { error } = await json(res);
      expect(error.code).toBe("INSUFFICIENT_BALANCE");
      expect(error.message).toContain("daily spend limit of $0.200");
    }
    expect(await json(await server.get("/v1/balance", owner))).toMatchObject({ available: "9.800", held: "0.200" });
    await cancelAll(owner);
  });
});

test("last_used_at is null until the key is used, then the time of its last request, without waiting for a write", async () => {
  const { key: owner } = await newOrg("keys-last-used");
  const created = await json(await createKey(owner, { name: "fresh" }));
  expect(created.last_used_at).toBeNull();
  expect((await server.get("/v1/models", created.key)).status).toBe(200);
  expect((await json(await server.get(`/v1/api-keys/${created.id}`, owner))).last_used_at).toBe(new Date(now).toISOString());
});
