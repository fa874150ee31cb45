/** Wire shapes of an execution and of its result (the API reference at /docs; docs/decisions.md "Foundation and executions engine"). */
import { formatUsd } from "../../money";
import { isTerminal, type ExecutionRow, type ResultRow } from "./store";
import { iso } from "../../time";


export function usageView(row: Pick<ExecutionRow, "usage">) {
  if (!row.usage) return null;
  const u = row.usage;
  return {
    input_tokens: u.inputTokens,
    output_tokens: u.outputTokens,
    ...(u.cachedInputTokens ? { cached_input_tokens: u.cachedInputTokens } : {}),
    ...(u.cacheWriteTokens ? { cache_write_tokens: u.cacheWriteTokens } : {}),
    ...(u.reasoningTokens ? { reasoning_tokens: u.reasoningTokens } : {}),
    ...(u.images !== undefined ? { images: u.images } : {}),
    ...(u.seconds !== undefined ? { seconds: u.seconds } : {}),
    ...(u.characters !== undefined ? { characters: u.characters } : {}),
    ...(u.estimated ? { estimated: true as const } : {}),
  };
}

const latencyOf = (row: Pick<ExecutionRow, "createdAt" | "completedAt">) => (row.completedAt === null ? null : row.completedAt - row.createdAt);
const errorOf = (row: Pick<ExecutionRow, "errorCode" | "errorMessage">) => (row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? "" } : null);
const costOf = (row: Pick<ExecutionRow, "costMicros">) => (row.costMicros === null ? null : formatUsd(row.costMicros));

export function executionView(row: ExecutionRow) {
  return {
    id: row.id,
    object: "execution" as const,
    model: row.model,
    status: row.status,
    mode: row.mode,
    input: row.input,
    output: row.output,
    error: errorOf(row),
    usage: usageView(row),
    cost: costOf(row),
    metadata: row.metadata ?? {},
    webhook_url: row.webhookUrl,
    created_at: iso(row.createdAt)!,
    started_at: iso(row.startedAt),
    completed_at: iso(row.completedAt),
    latency_ms: latencyOf(row),
    served_by: servedByOf(row),
    cached: row.cacheStatus === "hit" || row.cacheStatus === "semantic_hit",
    cache: cacheOf(row),
  };
}

/** The model that answered: recorded at the end, or implied by the route of an execution from before it was. */
const servedByOf = (row: ExecutionRow) => {
  const model = row.servedModel ?? (row.routeId ? row.model : null);
  return model ? { model, route_id: row.routeId } : null;
};

function cacheOf(row: ExecutionRow) {
  if (!row.cacheStatus) return null;
  if (row.cacheStatus === "miss") return { status: "MISS" as const, match: null, source_execution_id: null, saved: null };
  return {
    status: "HIT" as const,
    match: row.cacheStatus === "hit" ? ("exact" as const) : ("semantic" as const),
    source_execution_id: row.cacheSource,
    saved: formatUsd(row.cacheSavedMicros ?? 0),
  };
}

/** The polling guide's result body; only for terminal executions. */
export function resultView(row: ResultRow) {
  const terminal = isTerminal(row.status);
  return {
    execution_id: row.id,
    status: row.status,
    output: row.status === "COMPLETED" ? row.output : null,
    ...(row.errorCode ? { error: errorOf(row) } : {}),
    usage: terminal ? usageView(row) : null,
    cost: terminal ? costOf(row) : null,
    latency_ms: terminal ? latencyOf(row) : null,
  };
}

/**
 * The execution as its create answered it (PENDING, nothing run yet): what an idempotent replay
 * of an ASYNC create returns, so a retry sees exactly the first response.
 */
export const asCreated = (row: ExecutionRow): ExecutionRow => ({
  ...row,
  servedModel: null,
  routeId: null,
  status: "PENDING",
  output: null,
  errorCode: null,
  errorMessage: null,
  usage: null,
  costMicros: null,
  startedAt: null,
  completedAt: null,
});
