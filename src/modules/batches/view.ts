/** A batch row as each surface shows it: OpenAI's Batch object and Anthropic's MessageBatch. */
import type { BatchRow } from "./store";

const unix = (ms: number | null) => (ms === null ? null : Math.floor(ms / 1000));
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function openaiBatchView(b: BatchRow) {
  return {
    id: b.id,
    object: "batch" as const,
    endpoint: b.endpoint,
    errors: b.errors ? { object: "list" as const, data: b.errors } : null,
    input_file_id: b.inputFileId ?? "",
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    created_at: unix(b.createdAt)!,
    in_progress_at: unix(b.inProgressAt),
    expires_at: unix(b.expiresAt),
    finalizing_at: unix(b.finalizingAt),
    completed_at: unix(b.completedAt),
    failed_at: unix(b.failedAt),
    expired_at: unix(b.expiredAt),
    cancelling_at: unix(b.cancellingAt),
    cancelled_at: unix(b.cancelledAt),
    // `failed` counts every line of the error file: errored, cancelled and expired ones.
    request_counts: { total: b.total, completed: b.succeeded, failed: b.errored + b.canceled + b.expired },
    metadata: b.metadata ?? null,
  };
}

/** Anthropic's three processing statuses over ours. */
const processingStatus = (b: BatchRow) =>
  b.status === "cancelling" ? "canceling" : b.status === "validating" || b.status === "in_progress" || b.status === "finalizing" ? "in_progress" : "ended";

export function anthropicBatchView(b: BatchRow, baseUrl: string) {
  const status = processingStatus(b);
  const endedAt = b.completedAt ?? b.cancelledAt ?? b.expiredAt ?? b.failedAt;
  return {
    id: b.id,
    type: "message_batch" as const,
    processing_status: status,
    request_counts: {
      processing: b.total - b.succeeded - b.errored - b.canceled - b.expired,
      succeeded: b.succeeded,
      errored: b.errored,
      canceled: b.canceled,
      expired: b.expired,
    },
    ended_at: status === "ended" ? iso(endedAt) : null,
    created_at: iso(b.createdAt)!,
    expires_at: iso(b.expiresAt)!,
    archived_at: null,
    cancel_initiated_at: iso(b.cancellingAt),
    results_url: status === "ended" && b.outputFileId ? `${baseUrl}/v1/messages/batches/${b.id}/results` : null,
  };
}
