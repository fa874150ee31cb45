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
};

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
  /** Set when the caller streams: the adapter streams from the upstream and emits canonical events. */
  emit?: Emit;
};

export type TaskRunner = (call: TaskCall) => Promise<ProviderResult>;

export type ProviderAdapter = {
  kind: string;
  /** Safe to call again with the same input after a crash (docs/decisions.md "Crash recovery rule"). */
  idempotent: boolean;
  tasks: Partial<Record<string, TaskRunner>>;
};
