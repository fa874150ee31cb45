import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors";
import { checkExecution } from "../../src/modules/guardrails/service";
import { startTestServer, type TestServer } from "../helpers/server";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (res: Response): Promise<any> => res.json();

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.stop());

const createGuardrail = (body: Record<string, unknown>) => server.post("/v1/guardrails", body);
const newKey = async (name: string) => json(await server.post("/v1/api-keys", { name }));

/** Runs checkExecution as executions will, and returns the AppError it throws (or null). */
function rejection(guardrailId: string | null, model: string, input: unknown, maxCostMicros = 0): AppError | null {
  try {
    checkExecution(server.running.ctx, { guardrailId }, model, input, maxCostMicros);
    return null;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
}

describe("CRUD", () => {
  test("create, get, list, patch and delete a guardrail", async () => {
    const res = await createGuardrail({
      name: "interns",
      description: "cheap models only",
      allowed_models: ["mock-*"],
      blocked_models: ["mock-image"],
      max_cost_per_execution: "0.05",
      content_rules: [{ kind: "term", pattern: "secret project" }],
      limits: { max_concurrent_executions: 2 },
    });
    expect(res.status).toBe(201);
    const created = await json(res);
    expect(created).toMatchObject({
      object: "guardrail",
      name: "interns",
      allowed_models: ["mock-*"],
      blocked_models: ["mock-image"],
      max_cost_per_execution: "0.050",
      content_rules: [{ kind: "term", pattern: "secret project" }],
      limits: { max_concurrent_executions: 2, requests_per_minute: null, spend_limit: null, spend_limit_reset: null },
    });
    expect(await json(await server.get(`/v1/guardrails/${created.id}`))).toEqual(created);
    const list = await json(await server.get("/v1/guardrails"));
    expect(list.data.map((g: { id: string }) => g.id)).toContain(created.id);

    const patched = await json(
      await server.request("PATCH", `/v1/guardrails/${created.id}`, { body: { allowed_models: null, max_cost_per_execution: null, limits: { spend_limit: "1" } } }),
    );
    expect(patched).toMatchObject({ allowed_models: null, blocked_models: ["mock-image"], max_cost_per_execution: null, limits: { spend_limit: "1.000", max_concurrent_executions: 2 } });

    const deleted = await server.request("DELETE", `/v1/guardrails/${created.id}`);
    expect(await json(deleted)).toEqual({ id: created.id, object: "guardrail", deleted: true });
    expect((await server.get(`/v1/guardrails/${created.id}`)).status).toBe(404);
    expect((await server.get("/v1/guardrails/grd_not-an-id")).status).toBe(404);
  });

  test("bad regexes, money and model lists are 400s naming the field", async () => {
    const res = await createGuardrail({
      name: "bad",
      allowed_models: [],
      max_cost_per_execution: "five",
      content_rules: [
        { kind: "term", pattern: "fine" },
        { kind: "regex", pattern: "([a-z" },
        { kind: "regex", pattern: "(\\w+)*$" },
        { kind: "regex", pattern: "\\d{3}-\\d{4}" },
      ],
    });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.details.map((d: { field: string; code: string }) => `${d.field} ${d.code}`)).toEqual([
      "allowed_models too_short",
      "max_cost_per_execution invalid_format",
      "content_rules[1].pattern invalid_format",
      "content_rules[2].pattern invalid_format",
    ]);
    const unknownKind = await json(await createGuardrail({ name: "x", content_rules: [{ kind: "glob", pattern: "x" }] }));
    expect(unknownKind.error.details[0].field).toBe("content_rules[0].kind");
  });
});

describe("assignments", () => {
  test("bulk assign, list, move and unassign keys", async () => {
    const a = await newKey("assign-a");
    const b = await newKey("assign-b");
    const g1 = await json(await createGuardrail({ name: "g1" }));
    const g2 = await json(await createGuardrail({ name: "g2" }));
    const assigned = await json(await server.post(`/v1/guardrails/${g1.id}/assignments/keys`, { key_ids: [a.id, b.id, a.id] }));
    expect(assigned).toEqual({ assigned_count: 2 });
    expect((await json(await server.get(`/v1/api-keys/${a.id}`))).guardrail_id).toBe(g1.id);
    const ofG1 = await json(await server.get(`/v1/guardrails/${g1.id}/assignments/keys`));
    expect(ofG1.data).toEqual([
      { object: "guardrail_assignment", guardrail_id: g1.id, key_id: b.id, key_name: "assign-b", masked_key: b.masked_key },
      { object: "guardrail_assignment", guardrail_id: g1.id, key_id: a.id, key_name: "assign-a", masked_key: a.masked_key },
    ]);

    // A key has one guardrail: assigning it to g2 moves it.
    await server.post(`/v1/guardrails/${g2.id}/assignments/keys`, { key_ids: [a.id] });
    const all = await json(await server.get("/v1/guardrails/assignments/keys"));
    const byKey = Object.fromEntries(all.data.map((x: { key_id: string; guardrail_id: string }) => [x.key_id, x.guardrail_id]));
    expect(byKey[a.id]).toBe(g2.id);
    expect(byKey[b.id]).toBe(g1.id);

    // Removing from g1 leaves a (now under g2) alone.
    expect(await json(await server.post(`/v1/guardrails/${g1.id}/assignments/keys/remove`, { key_ids: [a.id, b.id] }))).toEqual({ unassigned_count: 1 });
    expect((await json(await server.get(`/v1/api-keys/${b.id}`))).guardrail_id).toBeNull();

    // Deleting g2 detaches a.
    await server.request("DELETE", `/v1/guardrails/${g2.id}`);
    expect((await json(await server.get(`/v1/api-keys/${a.id}`))).guardrail_id).toBeNull();
  });

  test("an unknown or malformed key id is a 400 naming its index", async () => {
    const g = await json(await createGuardrail({ name: "g-unknown" }));
    const key = await newKey("known");
    const res = await server.post(`/v1/guardrails/${g.id}/assignments/keys`, { key_ids: [key.id, "key_01932c5e-7a1b-7000-8000-000000000001", "nope"] });
    expect(res.status).toBe(400);
    expect((await json(res)).error.details.map((d: { field: string }) => d.field)).toEqual(["key_ids[1]", "key_ids[2]"]);
    expect((await json(await server.get(`/v1/api-keys/${key.id}`))).guardrail_id).toBeNull(); // nothing half-applied
  });
});

describe("checkExecution", () => {
  test("no guardrail lets everything through", () => {
    expect(rejection(null, "anything", { prompt: "secret" }, 10 ** 9)).toBeNull();
  });

  test("models outside allowed_models or in blocked_models are 403 FORBIDDEN on `model`", async () => {
    const g = await json(await createGuardrail({ name: "models", allowed_models: ["mock-*", "demo-model"], blocked_models: ["mock-image"] }));
    expect(rejection(g.id, "mock-chat", {})).toBeNull();
    expect(rejection(g.id, "demo-model", {})).toBeNull();
    for (const model of ["mock-image", "other-model"]) {
      const error = rejection(g.id, model, {});
      expect(error).toMatchObject({ code: "FORBIDDEN", status: 403, details: [{ field: "model", code: "unsupported" }] });
      expect(error!.message).toContain(model);
    }
  });

  test("a maximum cost above max_cost_per_execution is 403 FORBIDDEN on `input`", async () => {
    const g = await json(await createGuardrail({ name: "cost", max_cost_per_execution: "0.050" }));
    expect(rejection(g.id, "mock-image", {}, 50_000)).toBeNull();
    const error = rejection(g.id, "mock-image", {}, 80_000);
    expect(error).toMatchObject({ code: "FORBIDDEN", details: [{ field: "input", code: "out_of_range" }] });
    expect(error!.message).toContain("0.080");
  });

  test("content rules scan every string of the input: terms as whole words, case-insensitive; regexes", async () => {
    const g = await json(
      await createGuardrail({
        name: "content",
        content_rules: [
          { kind: "term", pattern: "Project Falcon" },
          { kind: "regex", pattern: "\\b\\d{3}-\\d{2}-\\d{4}\\b" },
        ],
      }),
    );
    const chat = (text: string) => ({ messages: [{ role: "system", content: "be nice" }, { role: "user", content: text }] });
    expect(rejection(g.id, "mock-chat", chat("tell me about falconry projects"))).toBeNull();
    const term = rejection(g.id, "mock-chat", chat("What is PROJECT   falcon?"));
    expect(term).toMatchObject({ code: "CONTENT_MODERATION_REJECTED", status: 400, details: [{ field: "input.messages[1].content" }] });
    expect(term!.message).toContain("content rule 1");
    expect(term!.message).not.toContain("Falcon"); // the pattern itself is not revealed
    const regex = rejection(g.id, "mock-image", { prompt: "ok", extra: { notes: ["fine", "ssn 123-45-6789"] } });
    expect(regex).toMatchObject({ code: "CONTENT_MODERATION_REJECTED", details: [{ field: "input.extra.notes[1]" }] });
  });

  test("a guardrail change applies to the next check", async () => {
    const g = await json(await createGuardrail({ name: "changing" }));
    expect(rejection(g.id, "mock-chat", { text: "forbidden" })).toBeNull();
    await server.request("PATCH", `/v1/guardrails/${g.id}`, { body: { content_rules: [{ kind: "term", pattern: "forbidden" }] } });
    expect(rejection(g.id, "mock-chat", { text: "forbidden" })?.code).toBe("CONTENT_MODERATION_REJECTED");
  });
});

describe("executions through a guarded key", () => {
  test("a content rule or a blocked model refuses the create before anything is held: the refusal costs nothing", async () => {
    const { key: owner } = server.newOrgKey({ creditMicros: 1_000_000 });
    const guarded = await json(await server.post("/v1/api-keys", { name: "guarded", permission: "inference" }, owner));
    const g = await json(
      await server.post("/v1/guardrails", { name: "strict", blocked_models: ["mock-image"], content_rules: [{ kind: "term", pattern: "Project Falcon" }] }, owner),
    );
    expect((await server.post(`/v1/guardrails/${g.id}/assignments/keys`, { key_ids: [guarded.id] }, owner)).status).toBe(200);

    const moderated = await server.post("/v1/executions", { model: "mock-chat", mode: "SYNC", input: { messages: [{ role: "user", content: "plans for project falcon" }] } }, guarded.key);
    expect(moderated.status).toBe(400);
    expect((await json(moderated)).error).toMatchObject({ code: "CONTENT_MODERATION_REJECTED", details: [{ field: "input.messages[0].content" }] });
    const blocked = await server.post("/v1/executions", { model: "mock-image", input: { prompt: "a fox", width: 64, height: 64 } }, guarded.key);
    expect(blocked.status).toBe(403);
    expect((await json(blocked)).error).toMatchObject({ code: "FORBIDDEN", details: [{ field: "model" }] });

    expect(await json(await server.get("/v1/balance", owner))).toMatchObject({ available: "1.000", held: "0.000", total: "1.000" });
    expect((await json(await server.get("/v1/balance/transactions", owner))).data.map((t: { type: string }) => t.type)).toEqual(["credit"]);
    expect((await json(await server.get("/v1/executions", owner))).data).toEqual([]);

    // The owner's unguarded key, and the guarded key with clean input, still run.
    const clean = await server.post("/v1/executions", { model: "mock-chat", mode: "SYNC", input: { messages: [{ role: "user", content: "plans for the weekend" }] } }, guarded.key);
    expect((await json(clean)).status).toBe("COMPLETED");
    expect((await server.post("/v1/executions", { model: "mock-image", input: { prompt: "project falcon", width: 64, height: 64 } }, owner)).status).toBe(202);
  });
});
