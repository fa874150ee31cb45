/**
 * The provider adapter contract (docs/architecture.md "Seams for what comes next"): per task a transform from canonical
 * input to a canonical result. Adapters never touch the database; output files come back as
 * bytes and the engine stores them.
 */
export type Usage = { inputTokens: number; outputTokens: number; images?: number; seconds?: number };

export type Artifact = { bytes: Uint8Array; contentType: string; filename: string; meta: Record<string, unknown> };

export type ProviderResult = {
  output: Record<string, unknown>;
  usage: Usage;
  /** Files to store; the engine replaces `{"$artifact": i}` placeholders in output with the stored file ids. */
  artifacts?: Artifact[];
};

export type RouteInfo = {
  id: string;
  upstreamModel: string;
  params: Record<string, unknown>;
  timeoutMs: number;
  provider: { id: string; kind: string; baseUrl: string | null; apiKey: string | null; config: Record<string, unknown> };
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
  signal: AbortSignal;
  /** Streams a piece of text output as it is produced. */
  onDelta?: (text: string) => void;
};

export type TaskRunner = (call: TaskCall) => Promise<ProviderResult>;

export type ProviderAdapter = {
  kind: string;
  /** Safe to call again with the same input after a crash (docs/decisions.md "Crash recovery rule"). */
  idempotent: boolean;
  tasks: Partial<Record<string, TaskRunner>>;
};
