/**
 * A mixed load against one gateway whose process may die at any moment: executions in every mode
 * and through the OpenAI and Anthropic dialects, some with webhooks, some on an asynchronous
 * upstream that calls back, some with an Idempotency-Key retried until an answer comes; cancels,
 * file uploads, small batches and operator credits (each credit with its own Idempotency-Key).
 * It records what the gateway *accepted* (any answer that names an id), which is what must
 * survive. Connection errors are expected while the process is down and are not failures; an
 * answer of 5xx, or one that is not the surface's own shape, is recorded as a problem.
 */
import { randomBytes } from "node:crypto";
import { sha256Hex } from "../helpers/files";
import { seeded } from "../helpers/seeded";

export type LoadTarget = {
  /** The gateway's base URL now (the port stays the same across restarts). */
  url: () => string;
  apiKey: string;
  adminToken: string;
  orgId: string;
  /** Where executions send their webhooks. */
  webhookUrl: string;
  /** A model on an asynchronous upstream that calls back (or null to leave those out). */
  asyncModel: string | null;
};

export type Accepted = {
  /** Every execution id an answer named, with whether it asked for a webhook. */
  executions: Map<string, { webhook: boolean; op: string }>;
  /** Idempotency-Key → the execution ids its answers named (must be exactly one). */
  idempotentCreates: Map<string, Set<string>>;
  /** Idempotency-Key of each credit → its amount in micro-USD, once any answer was a 201. */
  credits: Map<string, number>;
  /** Credits whose answer never came: retried with the same key until one does. */
  pendingCredits: Map<string, number>;
  /** File id → the SHA-256 (hex) of the bytes uploaded. */
  files: Map<string, string>;
  batches: Map<string, number>;
  cancels: number;
  /** Answers that break a promise (a 5xx, a shape that is not the surface's). */
  problems: string[];
  /** Requests answered, by operation. */
  answered: Record<string, number>;
};

export type MixedLoad = {
  accepted: Accepted;
  /** Milliseconds to each answer's headers since the last call (and forgets them). */
  takeLatencies(): number[];
  stop(): Promise<void>;
};

export type LoadOptions = {
  workers: number;
  seed: number;
  /** Operations started per second, all workers together; unset: each worker goes as fast as it is answered. */
  ratePerSecond?: number;
};

const EXEC_ID = /exec_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const CREDIT_MICROS = 10_000;

export function startMixedLoad(target: LoadTarget, opts: LoadOptions): MixedLoad {
  const random = seeded(opts.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const accepted: Accepted = { executions: new Map(), idempotentCreates: new Map(), credits: new Map(), pendingCredits: new Map(), files: new Map(), batches: new Map(), cancels: 0, problems: [], answered: {} };
  let stopping = false;
  const auth = { authorization: `Bearer ${target.apiKey}` };
  const json = { ...auth, "content-type": "application/json" };
  const messages = (i: number) => [{ role: "user", content: `mixed load request ${i}` }];
  let n = 0;
  let latencies: number[] = [];
  /** fetch, timing the answer's headers. */
  const timed = async (url: string, init: RequestInit) => {
    const started = performance.now();
    const res = await fetch(url, init);
    latencies.push(performance.now() - started);
    return res;
  };
  const answer = async (res: Response) => (await res.json()) as { id: string; type?: string };
  // Pacing: the next operation's start, so that starts come at the rate asked for.
  let nextStart = performance.now();
  const pace = async () => {
    if (!opts.ratePerSecond) return;
    const slot = Math.max(nextStart, performance.now());
    nextStart = slot + 1000 / opts.ratePerSecond;
    const wait = slot - performance.now();
    if (wait > 0) await Bun.sleep(wait);
  };

  const note = (op: string, res: Response) => {
    accepted.answered[op] = (accepted.answered[op] ?? 0) + 1;
    if (res.status >= 500 && res.status !== 503) accepted.problems.push(`${op}: ${res.status}`);
  };
  const keep = (op: string, id: string | undefined, webhook: boolean) => {
    if (id && EXEC_ID.test(id)) accepted.executions.set(id, { webhook, op });
  };
  /** Reads a stream until it names the execution, then either reads on or drops it. */
  const idFromStream = async (res: Response, readAll: boolean) => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
        const id = EXEC_ID.exec(text)?.[0];
        if (id && !readAll) return id;
      }
    } catch {
      // the process died mid-stream: what was read is what was accepted
    } finally {
      reader.cancel().catch(() => {});
    }
    return EXEC_ID.exec(text)?.[0];
  };

  const ops: Record<string, () => Promise<void>> = {
    async nativeAsync() {
      const i = n++;
      const res = await timed(`${target.url()}/v1/executions`, { method: "POST", headers: json, body: JSON.stringify({ model: "mock-chat", mode: "ASYNC", input: { messages: messages(i), mock_latency_ms: 50 + Math.floor(random() * 600) }, webhook_url: `${target.webhookUrl}/done` }) });
      note("nativeAsync", res);
      if (res.status === 202) keep("nativeAsync", (await answer(res)).id, true);
    },
    async nativeSync() {
      const res = await timed(`${target.url()}/v1/executions`, { method: "POST", headers: json, body: JSON.stringify({ model: "demo-model", mode: "SYNC", input: { text: `sync ${n++}`, mock_latency_ms: Math.floor(random() * 300) } }) });
      note("nativeSync", res);
      if (res.status === 200 || res.status === 202) keep("nativeSync", (await answer(res)).id, false);
    },
    async nativeStream() {
      const res = await timed(`${target.url()}/v1/executions`, { method: "POST", headers: json, body: JSON.stringify({ model: "mock-chat", mode: "STREAMING", input: { messages: messages(n++), mock_latency_ms: 200 } }) });
      note("nativeStream", res);
      if (res.status === 200) keep("nativeStream", await idFromStream(res, random() < 0.7), false);
    },
    async openaiChat() {
      const stream = random() < 0.5;
      const res = await timed(`${target.url()}/v1/chat/completions`, { method: "POST", headers: json, body: JSON.stringify({ model: "mock-chat", messages: messages(n++), stream }) });
      note("openaiChat", res);
      if (res.status !== 200) return;
      keep("openaiChat", stream ? await idFromStream(res, true) : (await answer(res)).id, false);
    },
    async anthropicMessages() {
      const res = await timed(`${target.url()}/v1/messages`, { method: "POST", headers: { "x-api-key": target.apiKey, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: JSON.stringify({ model: "mock-chat", max_tokens: 64, messages: messages(n++) }) });
      note("anthropicMessages", res);
      if (res.status === 200) keep("anthropicMessages", (await answer(res)).id, false);
      else if (res.status >= 400 && res.status !== 503 && (await answer(res)).type !== "error") accepted.problems.push(`anthropicMessages: ${res.status} not in Anthropic's shape`);
    },
    async idempotentCreate() {
      // Retried with the same key until any answer names an execution: exactly one may exist.
      const key = `kill-${randomBytes(8).toString("hex")}`;
      const body = JSON.stringify({ model: "mock-chat", mode: "ASYNC", input: { messages: messages(n++), mock_latency_ms: 300 } });
      for (let attempt = 0; attempt < 200 && !stopping; attempt++) {
        const res = await timed(`${target.url()}/v1/executions`, { method: "POST", headers: { ...json, "idempotency-key": key }, body }).catch(() => null);
        if (!res) {
          await Bun.sleep(50);
          continue;
        }
        note("idempotentCreate", res);
        if (res.status === 409) {
          await Bun.sleep(100); // the first request with this key is still being processed
          continue;
        }
        if (res.status !== 202) return;
        const id = (await answer(res)).id;
        keep("idempotentCreate", id, false);
        if (!accepted.idempotentCreates.has(key)) accepted.idempotentCreates.set(key, new Set());
        accepted.idempotentCreates.get(key)!.add(id);
        if (random() < 0.5) return;
        // A client that did not trust its first answer: the replay must name the same execution.
      }
    },
    async asyncUpstream() {
      if (!target.asyncModel) return;
      const res = await timed(`${target.url()}/v1/executions`, { method: "POST", headers: json, body: JSON.stringify({ model: target.asyncModel, mode: "ASYNC", input: { prompt: `a lighthouse ${n++}` }, webhook_url: `${target.webhookUrl}/done` }) });
      note("asyncUpstream", res);
      if (res.status === 202) keep("asyncUpstream", (await answer(res)).id, true);
    },
    async cancel() {
      const ids = [...accepted.executions.keys()];
      if (ids.length === 0) return;
      const res = await timed(`${target.url()}/v1/executions/${pick(ids.slice(-20))}/cancel`, { method: "POST", headers: auth });
      note("cancel", res);
      if (res.status === 200) accepted.cancels++;
    },
    async upload() {
      const bytes = new Uint8Array(randomBytes(1 + Math.floor(random() * 200_000)));
      const form = new FormData();
      form.set("purpose", "user_data");
      form.set("file", new File([bytes], "load.bin", { type: "application/octet-stream" }));
      const res = await timed(`${target.url()}/v1/files`, { method: "POST", headers: auth, body: form });
      note("upload", res);
      if (res.status === 200 || res.status === 201) accepted.files.set((await answer(res)).id, sha256Hex(bytes));
    },
    async batch() {
      const lines = 3 + Math.floor(random() * 5);
      const text = Array.from({ length: lines }, (_, i) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "mock-chat", messages: messages(i), max_tokens: 16 } })).join("\n");
      const form = new FormData();
      form.set("purpose", "batch");
      form.set("file", new File([text], "batch.jsonl"));
      const file = await timed(`${target.url()}/v1/files`, { method: "POST", headers: auth, body: form });
      note("batch", file);
      if (file.status !== 200 && file.status !== 201) return;
      const res = await timed(`${target.url()}/v1/batches`, { method: "POST", headers: json, body: JSON.stringify({ input_file_id: (await answer(file)).id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
      note("batch", res);
      if (res.status === 200 || res.status === 201) accepted.batches.set((await answer(res)).id, lines);
    },
    async credit() {
      const key = `credit-${randomBytes(8).toString("hex")}`;
      accepted.pendingCredits.set(key, CREDIT_MICROS);
      await sendCredit(key);
    },
  };

  async function sendCredit(key: string) {
    const res = await timed(`${target.url()}/admin/v1/orgs/${target.orgId}/credits`, {
      method: "POST",
      headers: { authorization: `Bearer ${target.adminToken}`, "content-type": "application/json", "idempotency-key": key },
      body: JSON.stringify({ amount: (CREDIT_MICROS / 1e6).toFixed(3), note: "mixed load" }),
    });
    note("credit", res);
    if (res.status === 201 || res.status === 200) {
      accepted.credits.set(key, accepted.pendingCredits.get(key)!);
      accepted.pendingCredits.delete(key);
    }
  }

  const weights: [string, number][] = [["nativeAsync", 5], ["nativeSync", 3], ["nativeStream", 2], ["openaiChat", 3], ["anthropicMessages", 2], ["idempotentCreate", 2], ["asyncUpstream", 2], ["cancel", 2], ["upload", 1], ["batch", 1], ["credit", 1]];
  const bag = weights.flatMap(([op, w]) => Array.from({ length: w }, () => op));

  const worker = async () => {
    while (!stopping) {
      await pace();
      if (stopping) break;
      const op = pick(bag);
      try {
        await ops[op]!();
      } catch {
        await Bun.sleep(20); // the process is down: try again in a moment
      }
    }
  };
  const running = Array.from({ length: opts.workers }, worker);

  return {
    accepted,
    takeLatencies() {
      const taken = latencies;
      latencies = [];
      return taken;
    },
    async stop() {
      stopping = true;
      await Promise.all(running);
      // Credits whose answer was lost: the same key again gives the first result, or applies it once.
      for (const key of [...accepted.pendingCredits.keys()]) {
        for (let i = 0; i < 50 && accepted.pendingCredits.has(key); i++) await sendCredit(key).catch(() => Bun.sleep(100));
      }
    },
  };
}
