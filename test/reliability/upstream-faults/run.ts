/**
 * Runs the faulty-upstream scenarios through the OpenAI dialect with the official `openai` SDK
 * (its own retries off, so what it sees is the gateway's doing) and judges each one:
 *   pass    the client saw what it should, and the calls, the status and the charge are right;
 *   partial the client saw what it should, but something behind it is not (listed);
 *   fail    the client saw something else.
 * One gateway, one fake primary and one fake fallback for all scenarios; each scenario has its
 * own model (so its own routes and breakers) and its own org (so its own executions and balance).
 */
import OpenAI from "openai";
import { startFakeOpenAI, type FakeOpenAI } from "../../helpers/fake-openai";
import { startTestServer, type TestServer } from "../../helpers/server";
import { SCENARIOS, STREAM_MAX_MS, UPSTREAM_MAX_BYTES, type ClientOutcome, type Observed, type Scenario } from "./scenarios";

export type Verdict = "pass" | "partial" | "fail";
export type ScorecardRow = {
  name: string;
  fault: string;
  verdict: Verdict;
  seen: string;
  route: "primary" | "fallback" | "none";
  primaryCalls: number;
  fallbackCalls: number;
  status: string;
  chargedMicros: number;
  elapsedMs: number;
  /** What differs from the expectation (empty on a pass). */
  problems: string[];
};

const CREDIT_MICROS = 5_000_000;
/** Prices the runner's models carry: 1 micro-USD per input token, 2 per output token. */
const costOf = (usage: { input_tokens?: number; output_tokens?: number } | null) => (usage ? (usage.input_tokens ?? 0) * 1 + (usage.output_tokens ?? 0) * 2 : 0);

const PRIMARY_ROUTE = { retries: 1, total_ms: 800, first_token_ms: 1_000, idle_ms: 600 };

export async function runScenarios(only?: (s: Scenario) => boolean): Promise<ScorecardRow[]> {
  const scenarios = SCENARIOS.filter(only ?? (() => true));
  const byName = new Map(scenarios.map((s) => [s.name, s]));
  const primary = await startFakeOpenAI({ byModel: (model, nth) => byName.get(model)?.primary(nth) });
  const fallback = await startFakeOpenAI({ byModel: (model, nth) => byName.get(model.replace(/^spare-/, ""))?.fallback?.(nth) });
  const server = await startTestServer({ env: { MODELROUTE_STREAM_MAX_MS: String(STREAM_MAX_MS), MODELROUTE_UPSTREAM_MAX_BYTES: String(UPSTREAM_MAX_BYTES) } });
  try {
    const applied = await server.applyCatalog(catalogFor(scenarios, primary, fallback));
    if (applied.status !== 200) throw new Error(`catalog refused: ${applied.status} ${await applied.text()}`);
    const routes = await routeProviders(server);
    const light = await Promise.all(scenarios.filter((s) => !s.heavy).map((s) => judge(server, s, routes, primary, fallback)));
    const heavy = await Promise.all(scenarios.filter((s) => s.heavy).map((s) => judge(server, s, routes, primary, fallback)));
    const rows = new Map([...light, ...heavy].map((r) => [r.name, r]));
    return scenarios.map((s) => rows.get(s.name)!);
  } finally {
    await server.stop();
    await primary.stop();
    await fallback.stop();
  }
}

function catalogFor(scenarios: Scenario[], primary: FakeOpenAI, fallback: FakeOpenAI) {
  return {
    providers: [
      { id: "faulty", kind: "openai", base_url: primary.url },
      // The flapping primary's own provider: a breaker quick enough to watch it open and close.
      { id: "flappy", kind: "openai", base_url: primary.url, config: { breaker: { consecutive_failures: 2, cooldown_ms: 400 } } },
      { id: "spare", kind: "openai", base_url: fallback.url },
    ],
    models: scenarios.map((s) => ({
      slug: s.name,
      task: "chat",
      pricing: { input_per_1m_tokens: "1.00", output_per_1m_tokens: "2.00" },
      max_output_tokens: 1024,
      routes: [
        { provider: s.name === "flapping-primary" ? "flappy" : "faulty", upstream_model: s.name, ...PRIMARY_ROUTE, ...s.route },
        { provider: "spare", upstream_model: `spare-${s.name}`, retries: 0 },
      ],
    })),
  };
}

/** route id → which side it is, from the operator's route list. */
async function routeProviders(server: TestServer): Promise<Map<string, "primary" | "fallback">> {
  const res = await server.request("GET", "/admin/v1/routes", { key: null, headers: { authorization: `Bearer ${server.adminToken}` } });
  const { data } = (await res.json()) as { data: { id: string; provider: string }[] };
  return new Map(data.map((r) => [r.id, r.provider === "spare" ? "fallback" : "primary"] as const));
}

async function judge(server: TestServer, s: Scenario, routes: Map<string, "primary" | "fallback">, primary: FakeOpenAI, fallback: FakeOpenAI): Promise<ScorecardRow> {
  const { key } = server.newOrgKey({ creditMicros: CREDIT_MICROS });
  const client = new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 20_000 });
  const call = () => callOnce(client, s);
  const observed = await (s.drive ? s.drive(call) : call());

  const execution = await latestExecution(server, key);
  const routeId: string | null = execution?.served_by?.route_id ?? null;
  const route = routeId ? (routes.get(routeId) ?? "none") : "none";
  const primaryCalls = primary.requests.filter((r) => r.body?.model === s.name).length;
  const fallbackCalls = fallback.requests.filter((r) => r.body?.model === `spare-${s.name}`).length;
  const balance: any = await (await server.get("/v1/balance", key)).json();
  const spentMicros = CREDIT_MICROS - micros(balance.available) - micros(balance.held);
  const chargedMicros = execution?.cost ? micros(execution.cost) : 0;

  const problems: string[] = [];
  const clientRight = sameOutcome(observed.client, s.expect.client, route);
  if (!clientRight) problems.push(`client saw ${observed.seen}`);
  if (primaryCalls !== s.expect.primaryCalls) problems.push(`primary called ${primaryCalls} times, expected ${s.expect.primaryCalls}`);
  if (fallbackCalls !== s.expect.fallbackCalls) problems.push(`fallback called ${fallbackCalls} times, expected ${s.expect.fallbackCalls}`);
  if (execution?.status !== s.expect.status) problems.push(`execution ${execution?.status ?? "missing"}, expected ${s.expect.status}`);
  if (micros(balance.held) !== 0) problems.push(`${balance.held} still held`);
  // A charge never passes the hold (an upstream that ignores max_tokens is charged up to it).
  const held = execution ? ((server.running.ctx.client.query("SELECT hold_micros FROM executions WHERE id = ?").get(execution.id) as { hold_micros: number } | null)?.hold_micros ?? 0) : 0;
  const expectedCharge = s.expect.charged === "nothing" ? 0 : Math.min(held, costOf(execution?.usage ?? null));
  if (chargedMicros !== expectedCharge) problems.push(`charged ${chargedMicros} µ$, expected ${expectedCharge}`);
  if (s.expect.charged !== "nothing" && chargedMicros <= 0) problems.push("nothing charged for what was produced");
  if (s.expect.charged === "produced" && execution?.usage?.estimated !== true) problems.push("the charge for a cut stream is not marked as an estimate");
  if (s.expect.charged === "usage" && execution?.usage?.estimated) problems.push("charged an estimate where the upstream reported usage");
  if (!s.drive && spentMicros !== chargedMicros) problems.push(`the balance moved by ${spentMicros} µ$ for a charge of ${chargedMicros}`);
  if (observed.elapsedMs > s.expect.maxMs) problems.push(`took ${observed.elapsedMs} ms, bound ${s.expect.maxMs}`);
  if (s.expect.minMs !== undefined && observed.elapsedMs < s.expect.minMs) problems.push(`took ${observed.elapsedMs} ms, under ${s.expect.minMs} (a wait was not taken)`);

  return {
    name: s.name,
    fault: s.fault,
    verdict: !clientRight ? "fail" : problems.length ? "partial" : "pass",
    seen: observed.seen,
    route,
    primaryCalls,
    fallbackCalls,
    status: execution?.status ?? "missing",
    chargedMicros,
    elapsedMs: observed.elapsedMs,
    problems,
  };
}

function sameOutcome(seen: Observed["client"], expected: ClientOutcome, route: string): boolean {
  if (seen.kind !== expected.kind) return false;
  if (expected.kind === "answer" && seen.kind === "answer") return route === expected.from && (expected.finish ?? "stop") === seen.finish;
  if (expected.kind === "error" && seen.kind === "error") return seen.status === expected.status && seen.code === expected.code;
  return true;
}

async function callOnce(client: OpenAI, s: Scenario): Promise<Observed> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const messages = [{ role: "user" as const, content: `scenario ${s.name}: say something` }];
  try {
    if (!s.stream) {
      const completion = await client.chat.completions.create({ model: s.name, messages });
      const finish = completion.choices[0]?.finish_reason ?? "none";
      const text = completion.choices[0]?.message.content ?? "";
      return { client: { kind: "answer", from: "primary", finish }, seen: `200, ${text.length} chars, finish \`${finish}\``, executionId: completion.id, elapsedMs: elapsed() };
    }
    const stream = await client.chat.completions.create({ model: s.name, messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let finish = "none";
    try {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? "";
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
    } catch (error) {
      if (text.length === 0) throw error;
      const message = error instanceof OpenAI.APIError ? ((error.error as { code?: string })?.code ?? error.message) : String(error);
      return { client: { kind: "error-after-content" }, seen: `stream of ${text.length} chars, then error \`${message}\``, executionId: null, elapsedMs: elapsed() };
    }
    return { client: { kind: "answer", from: "primary", finish }, seen: `stream of ${text.length} chars, finish \`${finish}\`, [DONE]`, executionId: null, elapsedMs: elapsed() };
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status) {
      const code = String((error.error as { code?: string } | undefined)?.code ?? "none");
      return { client: { kind: "error", status: error.status, code }, seen: `${error.status} \`${code}\``, executionId: null, elapsedMs: elapsed() };
    }
    return { client: { kind: "other", detail: String(error) }, seen: `no answer: ${String(error).slice(0, 120)}`, executionId: null, elapsedMs: elapsed() };
  }
}

async function latestExecution(server: TestServer, key: string): Promise<any> {
  const list: any = await (await server.get("/v1/executions?limit=1", key)).json();
  const id = list.data?.[0]?.id;
  return id ? await (await server.get(`/v1/executions/${id}`, key)).json() : null;
}

const micros = (usd: string) => Math.round(Number(usd) * 1_000_000);

/** The scorecard as the markdown table in docs/reliability.md. */
export function scorecardMarkdown(rows: ScorecardRow[]): string {
  const lines = [
    "| scenario | the primary does | client sees | route that answered | calls (primary + fallback) | execution | charged | verdict |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const charged = r.chargedMicros ? `${r.chargedMicros} µ$` : "nothing";
    const verdict = r.problems.length ? `${r.verdict}: ${r.problems.join("; ")}` : r.verdict;
    lines.push(`| ${r.name} | ${r.fault} | ${r.seen.replace(/\d+ chars/, "text")} | ${r.route} | ${r.primaryCalls} + ${r.fallbackCalls} | ${r.status} | ${charged} | ${verdict} |`);
  }
  return lines.join("\n");
}
