/**
 * Property test of the ledger over real HTTP: a seeded random sequence of creates (ASYNC and
 * SYNC, slow and instant, failing and not, through a key with a spend limit and one without),
 * cancels, waits and operator credits. The invariants hold after every step, and once all is
 * finished nothing stays held. Set LEDGER_SEED to replay a failing sequence.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { invariants } from "../helpers/invariants";
import { startTestServer, type TestServer } from "../helpers/server";

const SEED = Number(process.env.LEDGER_SEED ?? 20261126);
const STEPS = 300;
const TERMINAL = ["COMPLETED", "FAILED", "CANCELLED", "EXPIRED"];

/** mulberry32: small, fast, good enough to pick test actions reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]! };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: { MODELROUTE_RATE_LIMIT_RPM: "0" } });
});
afterAll(() => server.stop());

test(`random sequences keep the ledger invariants after every step (seed ${SEED})`, async () => {
  const rnd = prng(SEED);
  const { orgId, key } = server.newOrgKey({ creditMicros: 300_000 });
  const limited = (await (await server.post("/v1/api-keys", { name: "limited", limits: { spend_limit: "0.200", spend_limit_reset: "daily" } }, key)).json()).key;
  const open = new Set<string>();
  const seen = { accepted: 0, refused: 0, cancelled: 0, failed: 0, completed: 0, credits: 0 };

  const words = () => Array.from({ length: rnd.int(1, 12) }, () => rnd.pick(["fox", "river", "stone", "cloud", "ember"])).join(" ");
  const randomInput = () => {
    const controls: Record<string, unknown> = { mock_latency_ms: rnd.pick([0, 0, 0, 10, 50, 150]) };
    if (rnd.next() < 0.15) controls.mock_error = "CONTENT_MODERATION_REJECTED";
    switch (rnd.int(0, 2)) {
      case 0:
        return { model: "mock-image", input: { prompt: words(), width: 64, height: 64, num_images: rnd.int(1, 2), ...controls } };
      case 1:
        return { model: "demo-model", input: { text: words(), max_tokens: rnd.int(1, 512), ...controls } };
      default:
        return { model: "mock-chat", input: { messages: [{ role: "user", content: words() }], max_tokens: rnd.int(1, 64), ...controls } };
    }
  };
  const note = (execution: { id: string; status: string }) => {
    if (!TERMINAL.includes(execution.status)) return open.add(execution.id);
    open.delete(execution.id);
    if (execution.status === "COMPLETED") seen.completed++;
    if (execution.status === "FAILED") seen.failed++;
    if (execution.status === "CANCELLED") seen.cancelled++;
  };
  const waitFor = async (id: string) => {
    for (let i = 0; i < 500; i++) {
      const execution = await (await server.get(`/v1/executions/${id}`, key)).json();
      if (TERMINAL.includes(execution.status)) return note(execution);
      await Bun.sleep(5);
    }
    throw new Error(`execution ${id} never finished`);
  };

  for (let step = 0; step < STEPS; step++) {
    const roll = rnd.next();
    const as = rnd.next() < 0.3 ? limited : key;
    if (roll < 0.55) {
      const body = { ...randomInput(), mode: roll < 0.42 ? "ASYNC" : "SYNC" };
      const res = await server.post("/v1/executions", body, as);
      if (res.status === 402) seen.refused++;
      else {
        expect([200, 202]).toContain(res.status);
        seen.accepted++;
        note(await res.json());
      }
    } else if (roll < 0.7 && open.size > 0) {
      const id = rnd.pick([...open]);
      const res = await server.post(`/v1/executions/${id}/cancel`, {}, key);
      expect([200, 409]).toContain(res.status);
      note(await (await server.get(`/v1/executions/${id}`, key)).json());
    } else if (roll < 0.8) {
      const res = await server.request("POST", `/admin/v1/orgs/${orgId}/credits`, { key: server.adminToken, body: { amount: `0.${String(rnd.int(1, 150)).padStart(3, "0")}` } });
      expect(res.status).toBe(201);
      seen.credits++;
    } else if (open.size > 0) {
      await waitFor(rnd.pick([...open]));
    }
    try {
      invariants(server.running.ctx.client, orgId);
    } catch (error) {
      throw new Error(`step ${step} (seed ${SEED}): ${(error as Error).message}`);
    }
  }
  for (const id of [...open]) await waitFor(id);
  const end = invariants(server.running.ctx.client, orgId);
  expect(end.heldMicros).toBe(0);
  expect(end.openHolds).toBe(0);
  const balance = await (await server.get("/v1/balance", key)).json();
  expect(balance.held).toBe("0.000");
  // The sequence really went through every path.
  for (const [what, count] of Object.entries(seen)) if (count === 0) throw new Error(`the sequence had no ${what} step (seed ${SEED})`);
}, 60_000);
