/** Usage per day and model, and daily spend limits, on a server whose clock the test moves forward. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { formatUsd, parseUsd } from "../../src/money";
import { invariants } from "../helpers/invariants";
import { startTestServer, type TestServer } from "../helpers/server";

const DAY_MS = 86_400_000;
let offsetMs = Date.parse("2026-03-10T12:00:00Z") - Date.now();
const clock = { now: () => Date.now() + offsetMs };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ clock, env: { MODELROUTE_RATE_LIMIT_RPM: "0" } });
});
afterAll(() => server.stop());

const image = (extra: Record<string, unknown> = {}) => ({ model: "mock-image", input: { prompt: "a fox", width: 64, height: 64, ...extra } });
const sync = async (body: Record<string, unknown>, key: string) => (await server.post("/v1/executions", { ...body, mode: "SYNC" }, key)).json();
const usage = async (key: string, query: string) => {
  const res = await server.get(`/v1/usage${query}`, key);
  return { status: res.status, body: await res.json() };
};

describe("GET /v1/usage", () => {
  test("per day and per model: completed and charged executions count, failed ones do not", async () => {
    const { key } = server.newOrgKey({ creditMicros: 5_000_000 });
    const picture = await sync(image(), key); // 2026-03-10
    const chat = await sync({ model: "demo-model", input: { text: "one two three" } }, key);
    expect(chat.status).toBe("COMPLETED");
    expect((await sync(image({ mock_error: "CONTENT_MODERATION_REJECTED" }), key)).status).toBe("FAILED");
    offsetMs += DAY_MS; // 2026-03-11
    const pair = await sync(image({ num_images: 2 }), key);

    const byDay = await usage(key, "?from=2026-03-09&to=2026-03-12");
    expect(byDay.status).toBe(200);
    expect(byDay.body).toMatchObject({ object: "list", has_more: false, group_by: "day", from: "2026-03-09T00:00:00.000Z", to: "2026-03-12T00:00:00.000Z" });
    // Nothing here was cacheable (docs/cache.md): no hits, no misses.
    const noCache = { cache_hits: 0, cache_misses: 0, cache_saved: "0.000" };
    expect(byDay.body.data).toEqual([
      { group: "2026-03-09", executions: 0, input_tokens: 0, output_tokens: 0, cost: "0.000", ...noCache },
      {
        group: "2026-03-10",
        executions: 2,
        input_tokens: picture.usage.input_tokens + chat.usage.input_tokens,
        output_tokens: picture.usage.output_tokens + chat.usage.output_tokens,
        cost: formatUsd(40_000 + (parseUsd(chat.cost) ?? NaN)),
        ...noCache,
      },
      { group: "2026-03-11", executions: 1, input_tokens: pair.usage.input_tokens, output_tokens: 0, cost: "0.080", ...noCache },
    ]);

    const byModel = await usage(key, "?from=2026-03-10T00:00:00Z&to=2026-03-12T00:00:00Z&group_by=model");
    expect(byModel.body.data.map((g: { group: string; executions: number; cost: string }) => [g.group, g.executions, g.cost])).toEqual([
      ["demo-model", 1, chat.cost],
      ["mock-image", 2, "0.120"],
    ]);
  });

  test("by default: the last 30 UTC days, today included, oldest first", async () => {
    const { key } = server.newOrgKey();
    const { status, body } = await usage(key, "");
    expect(status).toBe(200);
    expect(body.data).toHaveLength(30);
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    expect(body.data.at(-1).group).toBe(today);
    expect(body.from).toBe(`${new Date(clock.now() - 29 * DAY_MS).toISOString().slice(0, 10)}T00:00:00.000Z`);
  });

  test("bad ranges are 400 naming the parameter", async () => {
    const { key } = server.newOrgKey();
    const cases: [string, string, string][] = [
      ["?from=yesterday", "from", "invalid_format"],
      ["?to=2026-02-30", "to", "invalid_format"],
      ["?from=2026-03-10T00:00:00+02:00", "from", "invalid_format"],
      ["?from=2026-03-10&to=2026-03-10", "from", "out_of_range"],
      ["?from=2024-01-01&to=2026-01-01", "from", "out_of_range"],
    ];
    for (const [query, field, code] of cases) {
      const { status, body } = await usage(key, query);
      expect(status).toBe(400);
      expect(body.error.details).toEqual([expect.objectContaining({ field, code })]);
    }
    expect((await usage(key, "?group_by=week")).status).toBe(400);
  });
});

describe("spend limits per key", () => {
  test("a daily spend limit counts running holds, answers 402 naming the limit, and resets the next UTC day", async () => {
    const { orgId, key } = server.newOrgKey({ creditMicros: 5_000_000 });
    const res = await server.post("/v1/api-keys", { name: "limited", limits: { spend_limit: "0.100", spend_limit_reset: "daily" } }, key);
    expect(res.status).toBe(201);
    const limited = (await res.json()).key;
    // Two running executions hold 0.080 of the 0.100; a third would make 0.120.
    for (let i = 0; i < 2; i++) expect((await server.post("/v1/executions", image({ mock_latency_ms: 200 }), limited)).status).toBe(202);
    const refused = await server.post("/v1/executions", image(), limited);
    expect(refused.status).toBe(402);
    const { error } = await refused.json();
    expect(error.code).toBe("INSUFFICIENT_BALANCE");
    expect(error.message).toContain("daily spend limit of $0.100");
    expect(error.message).toContain("$0.080 spent or held");
    // The organization's other keys are not limited.
    expect((await server.post("/v1/executions", image(), key)).status).toBe(202);
    // A cheaper execution that fits in the remaining 0.020 passes.
    expect((await server.post("/v1/executions", { model: "demo-model", input: { text: "hi", max_tokens: 10 } }, limited)).status).toBe(202);
    offsetMs += DAY_MS;
    expect((await server.post("/v1/executions", image(), limited)).status).toBe(202);
    invariants(server.running.ctx.client, orgId);
  });

  test("a failed execution's released hold no longer counts against the limit", async () => {
    const { key } = server.newOrgKey({ creditMicros: 5_000_000 });
    const limited = (await (await server.post("/v1/api-keys", { name: "l", limits: { spend_limit: "0.040" } }, key)).json()).key;
    expect((await sync(image({ mock_error: "CONTENT_MODERATION_REJECTED" }), limited)).status).toBe("FAILED");
    expect((await sync(image(), limited)).status).toBe("COMPLETED");
    const over = await server.post("/v1/executions", image(), limited);
    expect(over.status).toBe(402);
    expect((await over.json()).error.message).toContain("total spend limit of $0.040");
  });
});
