/**
 * The faulty-upstream scenarios: one model per scenario, each with a faulty primary route and a
 * healthy fallback behind it, both on fake OpenAI-compatible servers (test/helpers/fake-openai.ts).
 * `primary(nth)` is what the primary does on its nth call for that model; `expect` is what the
 * client, the upstreams and the ledger must show (docs/routing.md says why each is right).
 */
import type { Behaviour } from "../../helpers/fake-openai";

/** What one call showed: the client's side, then the execution's. */
export type Observed = {
  client: ClientOutcome | { kind: "other"; detail: string };
  /** How the client saw it, in a few words (the scorecard's column). */
  seen: string;
  executionId: string | null;
  elapsedMs: number;
};

export type ClientOutcome =
  /** A whole answer, from the named route. */
  | { kind: "answer"; from: "primary" | "fallback"; finish?: string }
  /** An HTTP error before any content: status and OpenAI `code`. */
  | { kind: "error"; status: number; code: string }
  /** Content, then an explicit error in the stream (never a clean end with a truncated answer). */
  | { kind: "error-after-content" };

export type Scenario = {
  name: string;
  /** What the primary does, in a few words (the scorecard's second column). */
  fault: string;
  stream: boolean;
  primary: (nth: number) => Behaviour | undefined;
  /** What the fallback does (healthy unless given). */
  fallback?: (nth: number) => Behaviour | undefined;
  /** Route settings of the primary beside the defaults (retries 1, first token 1 s, idle 600 ms, total 800 ms). */
  route?: Record<string, unknown>;
  /** Run after the others: its megabytes would slow the gateway's reading of their streams. */
  heavy?: boolean;
  /** Several calls instead of one (a cooled or flapping primary); the one it returns is judged. */
  drive?: (call: () => Promise<Observed>) => Promise<Observed>;
  expect: {
    client: ClientOutcome;
    primaryCalls: number;
    fallbackCalls: number;
    status: "COMPLETED" | "FAILED";
    /** usage: what the upstream reported; produced: an estimate of what was streamed; nothing. */
    charged: "usage" | "produced" | "nothing";
    minMs?: number;
    maxMs: number;
  };
};

const httpDate = (msFromNow: number) => new Date(Date.now() + msFromNow).toUTCString();
const LONG_TEXT = Array.from({ length: 400 }, (_, i) => `word${i}`).join(" ");
/** Bigger than the gateway's upstream answer limit the runner sets (MODELROUTE_UPSTREAM_MAX_BYTES). */
export const UPSTREAM_MAX_BYTES = 1 << 20;
const HUGE_TEXT = "x".repeat(3 * UPSTREAM_MAX_BYTES);
const HUGE_WORDS = Array.from({ length: 6 }, () => "y".repeat(UPSTREAM_MAX_BYTES / 2)).join(" ");
export const STREAM_MAX_MS = 1_500;

const always = (b: Behaviour) => () => b;
const first = (n: number, b: Behaviour) => (nth: number) => (nth < n ? b : undefined);

export const SCENARIOS: Scenario[] = [
  {
    name: "429-retry-after-seconds",
    fault: "429 with `Retry-After: 1`, then healthy",
    stream: false,
    primary: first(1, { status: 429, headers: { "retry-after": "1" } }),
    expect: { client: { kind: "answer", from: "primary" }, primaryCalls: 2, fallbackCalls: 0, status: "COMPLETED", charged: "usage", minMs: 950, maxMs: 3_000 },
  },
  {
    name: "429-retry-after-date",
    fault: "429 with `Retry-After` as an HTTP date 2 s ahead, then healthy",
    stream: false,
    primary: (nth) => (nth === 0 ? { status: 429, headers: { "retry-after": httpDate(2_000) } } : undefined),
    expect: { client: { kind: "answer", from: "primary" }, primaryCalls: 2, fallbackCalls: 0, status: "COMPLETED", charged: "usage", minMs: 900, maxMs: 4_000 },
  },
  {
    name: "429-retry-after-long",
    fault: "429 with `Retry-After: 120` (longer than a wait worth taking)",
    stream: false,
    primary: always({ status: 429, headers: { "retry-after": "120" } }),
    drive: async (call) => (await call(), call()),
    // The second call skips the cooled primary without calling it.
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 1, fallbackCalls: 2, status: "COMPLETED", charged: "usage", maxMs: 1_000 },
  },
  {
    name: "429-storm",
    fault: "429 on every call, no `Retry-After`",
    stream: false,
    primary: always({ status: 429 }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", maxMs: 2_000 },
  },
  {
    name: "500-once",
    fault: "one 500, then healthy",
    stream: false,
    primary: first(1, { status: 500 }),
    expect: { client: { kind: "answer", from: "primary" }, primaryCalls: 2, fallbackCalls: 0, status: "COMPLETED", charged: "usage", maxMs: 2_000 },
  },
  {
    name: "503-persistent",
    fault: "503 on every call",
    stream: true,
    primary: always({ status: 503 }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", maxMs: 2_000 },
  },
  {
    name: "connection-reset",
    fault: "the connection is reset without an answer",
    stream: false,
    primary: always({ reset: true }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", maxMs: 2_000 },
  },
  {
    name: "never-answers",
    fault: "accepts the connection and never answers",
    stream: false,
    primary: always({ hang: true }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", minMs: 1_500, maxMs: 4_000 },
  },
  {
    name: "slow-first-token",
    fault: "stream headers after 2 s (first-token limit 1 s)",
    stream: true,
    primary: always({ delayMs: 2_000 }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", minMs: 1_900, maxMs: 4_000 },
  },
  {
    name: "error-after-role-chunk",
    fault: "stream: the role chunk, then an error event, before any content",
    stream: true,
    primary: always({ errorAfterRole: { message: "upstream exploded" } }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", maxMs: 2_000 },
  },
  {
    name: "stream-cut-after-content",
    fault: "stream: 3 content chunks, then the connection is cut",
    stream: true,
    primary: always({ cutAfterChunks: 3 }),
    expect: { client: { kind: "error-after-content" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "produced", maxMs: 2_000 },
  },
  {
    name: "stream-stalls",
    fault: "stream: 3 content chunks, then nothing (idle limit 600 ms)",
    stream: true,
    primary: always({ stallAfterChunks: 3 }),
    expect: { client: { kind: "error-after-content" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "produced", minMs: 550, maxMs: 2_500 },
  },
  {
    name: "malformed-chunk",
    fault: "stream: a `data:` line that is not JSON, after content",
    stream: true,
    primary: always({ malformedChunk: true }),
    expect: { client: { kind: "error-after-content" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "produced", maxMs: 2_000 },
  },
  {
    name: "no-done",
    fault: "stream: every chunk and the usage, but no `[DONE]`",
    stream: true,
    primary: always({ noDone: true }),
    expect: { client: { kind: "answer", from: "primary" }, primaryCalls: 1, fallbackCalls: 0, status: "COMPLETED", charged: "usage", maxMs: 1_000 },
  },
  {
    name: "context-length-exceeded",
    fault: "400 `context_length_exceeded`",
    stream: false,
    primary: always({
      status: 400,
      errorBody: { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9120 tokens.", type: "invalid_request_error", param: "messages", code: "context_length_exceeded" } },
    }),
    expect: { client: { kind: "error", status: 400, code: "input_validation_error" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "nothing", maxMs: 1_000 },
  },
  {
    name: "content-policy-refusal",
    fault: "400 `content_policy_violation` (the request was refused)",
    stream: false,
    primary: always({
      status: 400,
      errorBody: { error: { message: "Your request was rejected as a result of our safety system.", type: "invalid_request_error", param: null, code: "content_policy_violation" } },
    }),
    expect: { client: { kind: "error", status: 400, code: "content_policy_violation" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "nothing", maxMs: 1_000 },
  },
  {
    name: "content-filter-finish",
    fault: "200 whose answer ends `finish_reason: content_filter`",
    stream: false,
    primary: always({ reply: { text: "I can only say this much", finishReason: "content_filter" } }),
    expect: { client: { kind: "answer", from: "primary", finish: "content_filter" }, primaryCalls: 1, fallbackCalls: 0, status: "COMPLETED", charged: "usage", maxMs: 1_000 },
  },
  {
    name: "flapping-primary",
    fault: "503 on its first 3 calls, then healthy (breaker: 2 failures open it for 400 ms)",
    stream: false,
    primary: (nth) => (nth < 3 ? { status: 503 } : { delayMs: 150 }),
    route: { retries: 0 },
    // Calls 1-2 fail over and open the breaker; 3 skips it; after the cooldown 4 probes and fails;
    // after another, 5 probes alone (3 concurrent: the other 2 skip) and closes it; 6 is served by it.
    drive: async (call) => {
      for (let i = 0; i < 3; i++) await call();
      await Bun.sleep(450);
      await call();
      await Bun.sleep(450);
      await Promise.all([call(), call(), call()]);
      return call();
    },
    expect: { client: { kind: "answer", from: "primary" }, primaryCalls: 5, fallbackCalls: 6, status: "COMPLETED", charged: "usage", maxMs: 3_000 },
  },
  {
    name: "all-routes-down",
    fault: "503 on every call, and the fallback too",
    stream: false,
    primary: always({ status: 503 }),
    fallback: always({ status: 503 }),
    expect: { client: { kind: "error", status: 503, code: "model_overloaded" }, primaryCalls: 2, fallbackCalls: 1, status: "FAILED", charged: "nothing", maxMs: 3_000 },
  },
  {
    name: "slow-drip-stream",
    fault: "stream: one word every 100 ms for 40 s (under the idle limit each time)",
    stream: true,
    primary: always({ chunkDelayMs: 100, reply: { text: LONG_TEXT } }),
    expect: { client: { kind: "error-after-content" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "produced", minMs: STREAM_MAX_MS - 100, maxMs: STREAM_MAX_MS + 1_500 },
  },
  {
    name: "huge-answer",
    heavy: true,
    fault: "a 3 MiB answer (the gateway's limit is 1 MiB)",
    stream: false,
    primary: always({ reply: { text: HUGE_TEXT } }),
    expect: { client: { kind: "answer", from: "fallback" }, primaryCalls: 2, fallbackCalls: 1, status: "COMPLETED", charged: "usage", maxMs: 3_000 },
  },
  {
    name: "huge-stream",
    heavy: true,
    fault: "stream: 3 MiB of content in 512 KiB chunks (limit 1 MiB)",
    stream: true,
    primary: always({ reply: { text: HUGE_WORDS } }),
    expect: { client: { kind: "error-after-content" }, primaryCalls: 1, fallbackCalls: 0, status: "FAILED", charged: "produced", maxMs: 3_000 },
  },
];
