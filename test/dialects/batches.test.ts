/**
 * OpenAI Files and Batches, and Anthropic Message Batches, through the official `openai` and
 * `@anthropic-ai/sdk` clients (only base URL and key changed) against a real server whose
 * models run on the mock and on a fake OpenAI-compatible upstream. Batches complete with exact
 * counts and charges at the batch discount, fail validation with OpenAI's errors list, put an
 * upstream failure in the error file, and release every hold when cancelled.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { balanceOf, micros, startDialectUpstreams, type DialectUpstreams } from "../helpers/dialect-upstreams";
import type { FakeOpenAI } from "../helpers/fake-openai";
import type { TestServer } from "../helpers/server";

let upstreams: DialectUpstreams;
let server: TestServer;
let upstream: FakeOpenAI;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  upstreams = await startDialectUpstreams();
  ({ server, openai: upstream } = upstreams);
  openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: server.apiKey, maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: server.url, apiKey: server.apiKey, maxRetries: 0 });
});
afterAll(() => upstreams.stop());

/** The error a call rejected with (the SDKs' promises are not native ones, so `expect().rejects` does not see them). */
const err = (p: PromiseLike<unknown>) => Promise.resolve(p).then(() => null, (e: unknown) => e);
const jsonl = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
const chatLine = (customId: string, model: string, content: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  method: "POST",
  url: "/v1/chat/completions",
  body: { model, messages: [{ role: "user", content }], ...extra },
});
const upload = (text: string, name = "requests.jsonl") => openai.files.create({ file: new File([text], name), purpose: "batch" });
const execution = async (id: string) => (await server.get(`/v1/executions/${id}`)).json();
const held = async () => (await (await server.get("/v1/balance")).json()).held as string;

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await Bun.sleep(25);
  }
}
const settled = (id: string) => until(() => openai.batches.retrieve(id), (b) => ["completed", "failed", "cancelled", "expired"].includes(b.status));
const outputLines = async (fileId: string) => (await (await openai.files.content(fileId)).text()).trim().split("\n").map((l) => JSON.parse(l));

/** What a line costs on gpt-mini (0.15 / 0.60 USD per 1M tokens) at the default 50 % batch discount, rounded up once. */
const discountedCost = (usage: { input_tokens: number; output_tokens: number }) => Math.ceil(((usage.input_tokens * 150_000 + usage.output_tokens * 600_000) * 50) / (100 * 1_000_000));

describe("OpenAI files", () => {
  test("create, retrieve, content, list and delete through the SDK; the native API sees the same file", async () => {
    const text = jsonl([chatLine("a", "mock-chat", "hello")]);
    const created = await upload(text);
    expect(created).toMatchObject({ object: "file", bytes: Buffer.byteLength(text), filename: "requests.jsonl", purpose: "batch", status: "processed" });
    expect(typeof created.created_at).toBe("number");
    expect(await openai.files.retrieve(created.id)).toEqual(created);
    expect(await (await openai.files.content(created.id)).text()).toBe(text);

    const listed = [];
    for await (const file of openai.files.list({ purpose: "batch", limit: 2 })) listed.push(file.id);
    expect(listed).toContain(created.id);

    // The native API, without an OpenAI client: the same bytes, and the file keeps OpenAI's shape (it has a purpose).
    const native = await server.get(`/v1/files/${created.id}`);
    expect(await native.json()).toMatchObject({ id: created.id, purpose: "batch", bytes: Buffer.byteLength(text) });
    expect(await (await server.get(`/v1/files/${created.id}/download`)).text()).toBe(text);

    expect(await openai.files.delete(created.id)).toEqual({ id: created.id, object: "file", deleted: true });
    expect(await err(openai.files.retrieve(created.id))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("a native upload keeps the native shape for native clients; the OpenAI list shows it as user_data", async () => {
    const res = await server.post("/v1/files/upload", { filename: "note.txt", content_type: "text/plain", size_bytes: 5 });
    const { file_id, upload_url } = await res.json();
    expect((await fetch(upload_url, { method: "PUT", body: "hello", headers: { "content-type": "text/plain" } })).status).toBe(200);
    const native = await (await server.get(`/v1/files/${file_id}`)).json();
    expect(native).toMatchObject({ id: file_id, size_bytes: 5, content_type: "text/plain" });
    expect(typeof native.created_at).toBe("string");
    const page = await (await server.get("/v1/files?limit=100")).json();
    expect(page.first_id).toBeUndefined();
    const openaiPage = await openai.files.list({ order: "desc" });
    expect(openaiPage.data.find((f) => f.id === file_id)).toMatchObject({ purpose: "user_data", bytes: 5 });
  });

  test("the upload names what is wrong in OpenAI's shape", async () => {
    expect(await err(openai.files.create({ file: new File(["x"], "a.jsonl"), purpose: "nope" as never }))).toMatchObject({ status: 400, param: "purpose" });
    const noFile = await fetch(`${server.url}/v1/files`, { method: "POST", headers: { authorization: `Bearer ${server.apiKey}` }, body: (() => { const f = new FormData(); f.set("purpose", "batch"); return f; })() });
    expect(noFile.status).toBe(400);
    expect((await noFile.json()).error).toMatchObject({ param: "file", type: "invalid_request_error" });
  });
});

describe("OpenAI batches", () => {
  test("a batch of valid lines completes: exact counts, an output file in OpenAI's format, each line charged at half price", async () => {
    const before = micros(await balanceOf(server));
    const lines = [chatLine("first", "gpt-mini", "one two three"), chatLine("second", "gpt-mini", "four five"), chatLine("third", "gpt-mini", "six")];
    const file = await upload(jsonl(lines));
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { job: "test" } });
    expect(created).toMatchObject({ object: "batch", status: "validating", endpoint: "/v1/chat/completions", input_file_id: file.id, metadata: { job: "test" } });
    const batch = await settled(created.id);
    expect(batch.status).toBe("completed");
    expect(batch.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(batch.error_file_id).toBeNull();
    for (const at of [batch.in_progress_at, batch.finalizing_at, batch.completed_at]) expect(typeof at).toBe("number");

    const output = await outputLines(batch.output_file_id!);
    expect(output.map((l) => l.custom_id).sort()).toEqual(["first", "second", "third"]);
    let charged = 0;
    for (const line of output) {
      expect(line.id).toStartWith("batch_req_");
      expect(line.error).toBeNull();
      expect(line.response.status_code).toBe(200);
      expect(line.response.body.object).toBe("chat.completion");
      expect(line.response.body.choices[0].message.role).toBe("assistant");
      const exec = await execution(line.response.body.id);
      expect(exec.status).toBe("COMPLETED");
      expect(exec.metadata).toMatchObject({ dialect: "openai", batch_id: batch.id, custom_id: line.custom_id });
      expect(line.response.request_id).toBe(exec.id);
      expect(micros(exec.cost)).toBe(discountedCost(exec.usage));
      charged += micros(exec.cost);
    }
    expect(before - micros(await balanceOf(server))).toBe(charged);
    expect(await held()).toBe("0.000");
    const ids = [];
    for await (const b of openai.batches.list({ limit: 1 })) ids.push(b.id);
    expect(ids).toContain(batch.id);
  });

  test("validation problems fail the batch with OpenAI's errors list and run nothing", async () => {
    const before = await balanceOf(server);
    const text = [
      JSON.stringify(chatLine("ok", "mock-chat", "fine")),
      "{not json",
      JSON.stringify(chatLine("ok", "mock-chat", "again")),
      JSON.stringify({ ...chatLine("get", "mock-chat", "x"), method: "GET" }),
      JSON.stringify({ ...chatLine("url", "mock-chat", "x"), url: "/v1/embeddings" }),
      JSON.stringify(chatLine("bad-body", "mock-chat", "x", { temperature: "hot", audio: { voice: "x" } })),
      JSON.stringify(chatLine("no-model", "no-such-model", "x")),
    ].join("\n");
    const file = await upload(text);
    const batch = await settled((await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
    expect(batch.status).toBe("failed");
    expect(batch.errors!.object).toBe("list");
    expect(batch.errors!.data.map((e) => [e.line, e.code])).toEqual([
      [2, "invalid_json_line"],
      [3, "duplicate_custom_id"],
      [4, "invalid_method"],
      [5, "invalid_url"],
      [6, "invalid_request"],
      [7, "model_not_found"],
    ]);
    expect(batch.errors!.data[4]!.param).toBe("body.audio");
    expect(batch.request_counts).toEqual({ total: 0, completed: 0, failed: 0 });
    expect(await balanceOf(server)).toBe(before);
  });

  test("the create refuses what OpenAI refuses, naming the param", async () => {
    const file = await upload(jsonl([chatLine("a", "mock-chat", "x")]));
    expect(await err(openai.batches.create({ input_file_id: file.id, endpoint: "/v1/images/generations" as never, completion_window: "24h" }))).toMatchObject({ status: 400, param: "endpoint" });
    expect(await err(openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "48h" as never }))).toMatchObject({ status: 400, param: "completion_window" });
    expect(await err(openai.batches.create({ input_file_id: "file_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d00", endpoint: "/v1/chat/completions", completion_window: "24h" }))).toBeInstanceOf(OpenAI.NotFoundError);
    expect(await err(openai.batches.retrieve("batch_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d00"))).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("a line whose upstream fails goes into the error file with the upstream's error; the others into the output file", async () => {
    upstream.always({ status: 400 });
    try {
      const file = await upload(jsonl([chatLine("good-1", "mock-chat", "hello"), chatLine("upstream-fails", "gpt-mini", "hello"), chatLine("good-2", "mock-chat", "there")]));
      const batch = await settled((await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" })).id);
      expect(batch.status).toBe("completed");
      expect(batch.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
      expect((await outputLines(batch.output_file_id!)).map((l) => l.custom_id).sort()).toEqual(["good-1", "good-2"]);
      const [failed] = await outputLines(batch.error_file_id!);
      expect(failed.custom_id).toBe("upstream-fails");
      expect(failed.response.status_code).toBeGreaterThanOrEqual(400);
      expect(failed.response.body.error.message).toBeString();
      expect((await execution(failed.response.request_id)).status).toBe("FAILED");
      expect(await held()).toBe("0.000");
    } finally {
      upstream.always(null);
    }
  });

  test("embeddings and responses lines are rendered by their endpoints", async () => {
    const embed = await upload(jsonl([{ custom_id: "e", method: "POST", url: "/v1/embeddings", body: { model: "mock-embed", input: "hello world" } }]));
    const eb = await settled((await openai.batches.create({ input_file_id: embed.id, endpoint: "/v1/embeddings", completion_window: "24h" })).id);
    const [e] = await outputLines(eb.output_file_id!);
    expect(e.response.body.object).toBe("list");
    expect(e.response.body.data[0].embedding.length).toBeGreaterThan(0);
    const resp = await upload(jsonl([{ custom_id: "r", method: "POST", url: "/v1/responses", body: { model: "mock-chat", input: "hello", instructions: "Be brief." } }]));
    const rb = await settled((await openai.batches.create({ input_file_id: resp.id, endpoint: "/v1/responses", completion_window: "24h" })).id);
    const [r] = await outputLines(rb.output_file_id!);
    expect(r.response.body).toMatchObject({ object: "response", status: "completed", instructions: "Be brief." });
  });

  test("cancel: lines not started never start, running ones are cancelled, every hold is released", async () => {
    upstream.always({ delayMs: 1500 });
    try {
      const lines = Array.from({ length: 40 }, (_, i) => chatLine(`slow-${i}`, "gpt-mini", `line ${i}`));
      const file = await upload(jsonl(lines));
      const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
      await until(() => held(), (h) => h !== "0.000");
      const cancelling = await openai.batches.cancel(created.id);
      expect(cancelling.status).toBe("cancelling");
      const batch = await settled(created.id);
      expect(batch.status).toBe("cancelled");
      expect(batch.request_counts.total).toBe(40);
      expect(batch.request_counts.completed + batch.request_counts.failed).toBe(40);
      expect(batch.request_counts.failed).toBeGreaterThan(20); // most never started
      expect(await held()).toBe("0.000");
      const errors = await outputLines(batch.error_file_id!);
      expect(errors.some((l) => l.error?.code === "batch_cancelled" && l.response === null)).toBe(true);
      // At most the batch concurrency reached the upstream: the rest never started.
      expect(upstream.requests.filter((r) => JSON.stringify(r.body).includes("line ")).length).toBeLessThanOrEqual(16);
      expect(await err(openai.batches.cancel(created.id))).toMatchObject({ status: 409 });
    } finally {
      upstream.always(null);
    }
  });
});

describe("Anthropic message batches", () => {
  test("create, retrieve, list and results: each request an execution charged at the discount", async () => {
    const created = await anthropic.messages.batches.create({
      requests: [
        { custom_id: "hello", params: { model: "gpt-mini", max_tokens: 64, messages: [{ role: "user", content: "hello there" }] } },
        { custom_id: "unknown-model", params: { model: "nope", max_tokens: 64, messages: [{ role: "user", content: "x" }] } },
      ],
    });
    expect(created).toMatchObject({ type: "message_batch", processing_status: "in_progress", results_url: null });
    expect(created.id).toStartWith("msgbatch_");
    const ended = await until(() => anthropic.messages.batches.retrieve(created.id), (b) => b.processing_status === "ended");
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
    expect(ended.results_url).toBe(`${server.url}/v1/messages/batches/${created.id}/results`);
    const results = [];
    for await (const r of await anthropic.messages.batches.results(created.id)) results.push(r);
    expect(results.map((r) => [r.custom_id, r.result.type])).toEqual([["hello", "succeeded"], ["unknown-model", "errored"]]);
    const message = (results[0]!.result as Anthropic.Messages.MessageBatchSucceededResult).message;
    expect(message.type).toBe("message");
    const exec = await execution(message.id);
    expect(micros(exec.cost)).toBe(discountedCost(exec.usage));
    expect((results[1]!.result as Anthropic.Messages.MessageBatchErroredResult).error.error.type).toBe("not_found_error");
    const ids = [];
    for await (const b of anthropic.messages.batches.list({ limit: 1 })) ids.push(b.id);
    expect(ids).toContain(created.id);
    expect(await anthropic.messages.batches.delete(created.id)).toEqual({ id: created.id, type: "message_batch_deleted" });
    expect(await err(anthropic.messages.batches.retrieve(created.id))).toBeInstanceOf(Anthropic.NotFoundError);
  });

  test("cancel ends the batch with canceled requests and no open hold", async () => {
    upstream.always({ delayMs: 1500 });
    try {
      const requests = Array.from({ length: 30 }, (_, i) => ({ custom_id: `r${i}`, params: { model: "gpt-mini", max_tokens: 32, messages: [{ role: "user" as const, content: `hi ${i}` }] } }));
      const created = await anthropic.messages.batches.create({ requests });
      await until(() => held(), (h) => h !== "0.000");
      expect((await anthropic.messages.batches.cancel(created.id)).processing_status).toBe("canceling");
      const ended = await until(() => anthropic.messages.batches.retrieve(created.id), (b) => b.processing_status === "ended");
      expect(ended.request_counts.canceled).toBeGreaterThan(10);
      expect(ended.request_counts.processing).toBe(0);
      expect(await held()).toBe("0.000");
      const types = new Set<string>();
      for await (const r of await anthropic.messages.batches.results(created.id)) types.add(r.result.type);
      expect(types.has("canceled")).toBe(true);
    } finally {
      upstream.always(null);
    }
  });

  test("a malformed create is a 400 in Anthropic's shape", async () => {
    expect(await err(anthropic.messages.batches.create({ requests: [{ custom_id: "has space", params: { model: "mock-chat", max_tokens: 1, messages: [] } }] }))).toBeInstanceOf(Anthropic.BadRequestError);
  });
});

test("toFile from the SDK uploads too", async () => {
  const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl([chatLine("t", "mock-chat", "x")])), "t.jsonl"), purpose: "batch" });
  expect(file.bytes).toBeGreaterThan(10);
});
