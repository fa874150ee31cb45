/**
 * The provider adapter contract (docs/architecture.md "Seams for what comes next"): per task a
 * transform from canonical input to a canonical result, over one upstream call. Adapters never
 * touch the database and never retry: they throw a ProviderError that says what went wrong and
 * the router decides. Output files come back as bytes and the engine stores them.
 */
import type { Emit } from "../canonical/stream";
import type { Usage } from "../canonical/usage";

export type { Usage };

export type Artifact = { bytes: Uint8Array; contentType: string; filename: string; meta: Record<string, unknown> };

export type ProviderResult = {
  output: Record<string, unknown>;
  usage: Usage;
  /** Files to store; the engine replaces `{"$artifact": i}` placeholders in output with the stored file ids. */
  artifacts?: Artifact[];
  /** An asynchronous upstream accepted the job and will report later: the execution waits for it. */
  pending?: AsyncJob;
};

/** What the gateway keeps of a job an asynchronous upstream runs (Cog, Replicate). */
export type AsyncJob = {
  /** The upstream's id of the job. */
  ref: string;
  /** Where to poll for it and to cancel it, when the upstream gives links. */
  pollUrl?: string;
  cancelUrl?: string;
};

/** Where an asynchronous job stands, from a callback or a poll. */
export type AsyncOutcome =
  | { state: "running" }
  | { state: "done"; result: ProviderResult }
  | { state: "failed"; message: string }
  | { state: "canceled" };

export type RouteTimeouts = {
  /** A call that is not streamed: the whole call. */
  totalMs: number;
  /** A streamed call: until the first content event. */
  firstTokenMs: number;
  /** A streamed call: between two events once content flows. */
  idleMs: number;
};

export type RouteInfo = {
  id: string;
  upstreamModel: string;
  params: Record<string, unknown>;
  timeouts: RouteTimeouts;
  /** Attempts on this route after the first one. */
  retries: number;
  maxConcurrency: number | null;
  maxQueue: number;
  /** The model's output limit: the default `max_tokens` for upstreams that require one. */
  maxOutputTokens: number | null;
  provider: { id: string; kind: string; baseUrl: string | null; config: Record<string, unknown> };
  /** The provider's keys in pool order, read at use (environment, file, stored); empty for none. */
  apiKeys: () => string[];
  /** The secret the provider signs its callbacks with, read at use; null when it signs none. */
  webhookSecret: () => string | null;
};

/** A `file_…` input the engine resolved: a link to hand upstream, or the bytes. */
export type InputFile = {
  /** Where it was referenced: `input.image`, `input.images[1]`. */
  field: string;
  fileId: string;
  contentType: string;
  sizeBytes: number;
  /** A presigned GET link, valid for a while (for providers that fetch the file themselves). */
  url: string;
  bytes(): Promise<Uint8Array>;
};

export type TaskCall = {
  input: Record<string, unknown>;
  /** The input's files, in the order they appear. */
  files: InputFile[];
  route: RouteInfo;
  /** The key of the provider's pool this attempt uses; null when the provider needs none. */
  apiKey: string | null;
  signal: AbortSignal;
  /** The largest answer (or whole stream) the adapter may read; more is the upstream's failure. */
  maxAnswerBytes: number;
  /** Set when the caller streams: the adapter streams from the upstream and emits canonical events. */
  emit?: Emit;
  /** For asynchronous upstreams: the job's stable id (a retried create reuses it) and where to call back. */
  async?: { jobId: string; callbackUrl: string };
};

/** A call about a job already submitted (poll, cancel), on the route that took it. */
export type JobCall = { route: RouteInfo; apiKey: string | null; job: AsyncJob; task: string; input: Record<string, unknown>; signal: AbortSignal };

export type TaskRunner = (call: TaskCall) => Promise<ProviderResult>;

export type ProviderAdapter = {
  kind: string;
  /** Safe to call again with the same input after a crash (docs/decisions.md "Crash recovery rule"). */
  idempotent: boolean;
  tasks: Partial<Record<string, TaskRunner>>;
  /** Asynchronous upstreams: following a submitted job until it ends. */
  async?: {
    /** False when the upstream cannot be asked about a job (Cog): only its callback or the deadline ends it. */
    pollable: boolean;
    poll(call: JobCall): Promise<AsyncOutcome>;
    /**
     * What a callback says; null when it does not prove it came from the upstream (a bad or
     * missing signature where the provider signs its callbacks).
     */
    callback(call: Omit<JobCall, "signal" | "apiKey">, body: unknown, raw: string, headers: Headers, secret: string | null): Promise<AsyncOutcome | null>;
    cancel(call: JobCall): Promise<void>;
  };
};
