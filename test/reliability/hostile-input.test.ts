/**
 * Hostile input from the server's own /openapi.json, against a real server process: every
 * operation in turn gets a seeded mutation of a valid request (wrong types, missing and extra
 * fields, huge strings and bodies, deep nesting, bad UTF-8 and JSON, content types, multipart,
 * path ids, query values, numbers, Idempotency-Key and other headers, HTTP/1.0, Host), with a
 * valid key, none or a bad one, and raw-socket garbage between them (hostile-input/).
 * Every answer must be under 500, in its surface's error shape when it is an error, and carry
 * nothing of the server's insides; a health probe, the server's RSS and a last valid request
 * check that it stayed well. docs/reliability.md "Hostile input" has the figures of a 10k run.
 *
 *   MODELROUTE_FUZZ_REQUESTS=10000 bun test test/reliability/hostile-input.test.ts
 *   MODELROUTE_FUZZ_SEED=<seed> [MODELROUTE_FUZZ_ONLY=<index>,…] to replay a run or some of its requests
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { suiteOnPostgres } from "../helpers/postgres";
import { rawRequest } from "../helpers/raw-http";
import { requestAt, runFuzz, startFuzzed, summaryTable, type Fuzzed } from "./hostile-input/run";

const COUNT = Number(process.env.MODELROUTE_FUZZ_REQUESTS ?? 2_500);
const SEED = Number(process.env.MODELROUTE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const ONLY = process.env.MODELROUTE_FUZZ_ONLY?.split(",").map(Number);

let f: Fuzzed;
beforeAll(async () => {
  f = await startFuzzed();
});
afterAll(() => f?.stop());

test(`${ONLY?.length ?? COUNT} hostile requests (seed ${SEED}): no 5xx, every error in its surface's shape, no leak; the server stays well`, async () => {
  console.log(`hostile input: seed ${SEED} (replay with MODELROUTE_FUZZ_SEED=${SEED})`);
  const report = await runFuzz(f, { seed: SEED, count: COUNT, only: ONLY });
  const { outcomes, probe, rss } = report;
  console.log(summaryTable(outcomes));
  const kinds = new Map<string, number>();
  for (const o of outcomes) if (o.kind !== "valid" && typeof o.status === "number" && o.status < 300) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
  console.log(`2xx to a mutated request, by mutation: ${[...kinds].map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`);
  console.log(
    `${outcomes.length} requests in ${(report.elapsedMs / 1000).toFixed(1)} s; /healthz ${probe.count} probes: p50 ${probe.p50.toFixed(1)} ms, ` +
      `p99 ${probe.p99.toFixed(1)} ms, max ${probe.max.toFixed(1)} ms; RSS ${rss.beforeMb.toFixed(0)} MB cold, ${rss.warmMb.toFixed(0)} MB warmed up, ` +
      `${rss.afterMb.toFixed(0)} MB after (${(rss.afterMb - rss.warmMb).toFixed(0)} MB growth), ${rss.peakMb.toFixed(0)} MB at peak`,
  );

  const failures = outcomes.filter((o) => o.problem);
  for (const o of failures.slice(0, 30)) console.log(`#${o.index} ${o.describe}\n    → ${o.problem}`);
  expect(failures.map((o) => `#${o.index} ${o.describe}: ${o.problem}`).slice(0, 10)).toEqual([]);

  if (!ONLY) {
    // Every operation of /openapi.json was fuzzed, not only the easy ones.
    const covered = new Set(Array.from({ length: COUNT }, (_, i) => requestAt(f, SEED, i)).flatMap((m) => (m.kind === "op" ? [`${m.req.op.method} ${m.req.op.path}`] : [])));
    expect(covered.size).toBe(f.ops.length);
  }

  // The process never logged an unexpected exception, even after an answer was sent.
  expect(f.output.filter((line) => /unhandled|uncaught|panic|Segmentation/i.test(line)).slice(0, 5)).toEqual([]);

  // The probe: every one answered, none stalled. The bounds are generous (CI shares two cores
  // with other work); the figures printed above are the measurement, docs/reliability.md.
  expect(probe.failures).toEqual([]);
  expect(probe.p99).toBeLessThanOrEqual(250);
  expect(probe.max).toBeLessThanOrEqual(1000);
  expect(rss.afterMb - rss.warmMb).toBeLessThan(150);

  // Alive, and a valid request is answered correctly.
  expect(f.server.proc.exitCode).toBeNull();
  const res = await fetch(`${f.server.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${f.ctx.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "mock-chat", messages: [{ role: "user", content: "Still there?" }] }),
  });
  expect(res.status).toBe(200);
  const completion = (await res.json()) as { object: string; choices: { message: { role: string; content: string } }[] };
  expect(completion.object).toBe("chat.completion");
  expect(completion.choices[0]!.message.role).toBe("assistant");
  expect(completion.choices[0]!.message.content.length).toBeGreaterThan(0);
}, 60_000 + (ONLY?.length ?? COUNT) * 25);

test("what the fuzzer found stays fixed: a dot-segment id gets its route's shape, a NUL is no 500 on PostgreSQL, an ignored Range is not Bun's 416 (files and batch results), a catalog alias named __proto__ is a 400", async () => {
  const { port } = f.server;
  const send = (method: string, target: string) =>
    rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${f.ctx.apiKey}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  // Bun routes on the target as sent but resolves `%2e%2e` and `\` in request.url: the error used to come in the envelope.
  const openai = await send("POST", "/v1/responses/%2e%2e/cancel");
  expect(openai.status).toBe(404);
  expect(JSON.parse(openai.body).error).toMatchObject({ type: "invalid_request_error", code: "not_found" });
  const anthropic = await send("GET", "/v1/messages/batches/..\\..\\windows");
  expect(anthropic.status).toBe(404);
  expect(JSON.parse(anthropic.body)).toMatchObject({ type: "error", error: { type: "not_found_error" } });

  // PostgreSQL cannot store U+0000: its driver's refusal was a 500. An id with one is a 404 on both
  // databases; a name with one is stored by SQLite and refused by PostgreSQL.
  const nulId = await send("GET", "/v1/executions/a%00b/result");
  expect(nulId.status).toBe(404);
  expect(JSON.parse(nulId.body).error.code).toBe("NOT_FOUND");
  // A key of an org of its own: the fuzzing before may have used up or revoked the others.
  const admin = (path: string, body: unknown) =>
    fetch(`${f.server.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${f.ctx.adminToken}`, "content-type": "application/json" }, body: JSON.stringify(body) }).then(
      (r) => r.json() as Promise<{ id: string; key: string }>,
    );
  const org = await admin("/admin/v1/orgs", { name: "nul-names" });
  const orgKey = (await admin(`/admin/v1/orgs/${org.id}/keys`, { name: "nul", permission: "full" })).key;
  const nulName = await fetch(`${f.server.url}/v1/api-keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${orgKey}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "a\u0000b" }),
  });
  expect(nulName.status).toBe(suiteOnPostgres() ? 400 : 201);

  // A file and a batch of that org's own: the fuzzing may have deleted the fixture's (a DELETE
  // sent to a GET's path is one of its mutations, and it is answered as a DELETE).
  await admin(`/admin/v1/orgs/${org.id}/credits`, { amount: "10.00" });
  const orgHeaders = { authorization: `Bearer ${orgKey}`, "content-type": "application/json" };
  const upload = (await (await fetch(`${f.server.url}/v1/files/upload`, { method: "POST", headers: orgHeaders, body: JSON.stringify({ filename: "a.txt", content_type: "text/plain", size_bytes: 5 }) })).json()) as { file_id: string; upload_url: string };
  expect((await fetch(upload.upload_url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } })).ok).toBe(true);

  // Bun applied `Range: bytes=5-1` itself to the 5-byte file this server sends whole (RFC 9110 ignores it): a bare 416.
  const download = await fetch(`${f.server.url}/v1/files/${upload.file_id}/download`, { headers: { authorization: `Bearer ${orgKey}`, range: "bytes=5-1" } });
  expect(download.status).toBe(200);
  expect(await download.text()).toBe("hello");
  // The same with `bytes=-0` on an Anthropic batch's results, which are always sent whole.
  const anthropicHeaders = { "x-api-key": orgKey, "anthropic-version": "2023-06-01", "content-type": "application/json" };
  const created = (await (
    await fetch(`${f.server.url}/v1/messages/batches`, {
      method: "POST",
      headers: anthropicHeaders,
      body: JSON.stringify({ requests: [{ custom_id: "r1", params: { model: "mock-chat", max_tokens: 16, messages: [{ role: "user", content: "hi" }] } }] }),
    })
  ).json()) as { id: string };
  const batchPath = `${f.server.url}/v1/messages/batches/${created.id}`;
  // Its lines give way to interactive calls for a while, and the fuzzing just before was 2,500 of them.
  let status = "";
  for (let i = 0; i < 300 && (status = ((await (await fetch(batchPath, { headers: anthropicHeaders })).json()) as { processing_status: string }).processing_status) !== "ended"; i++)
    await Bun.sleep(50);
  expect(status).toBe("ended");
  const results = await fetch(`${batchPath}/results`, { headers: { ...anthropicHeaders, range: "bytes=-0" } });
  expect(results.status).toBe(200);
  expect(JSON.parse((await results.text()).trim().split("\n")[0]!)).toMatchObject({ custom_id: "r1", result: { type: "succeeded" } });

  // The aliases record checked only the names its pattern matched; `"__proto__": "x"` reached the code as a list: 500.
  for (const aliases of ['{"__proto__":"x"}', '{"bad name":["mock-chat"]}']) {
    const res = await fetch(`${f.server.url}/admin/v1/catalog`, {
      method: "PUT",
      headers: { authorization: `Bearer ${f.ctx.adminToken}`, "content-type": "application/json" },
      body: `{"aliases":${aliases}}`,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("INPUT_VALIDATION_ERROR");
  }
}, 30_000);
