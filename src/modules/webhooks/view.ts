/** Wire shapes of endpoints, the org signing secret, deliveries and attempts (snake_case, ISO times). */
import { maskSecret } from "./signing";
import type { AttemptRow, DeliveryWithEvent, EndpointRow, SecretColumns } from "./store";
import { iso } from "../../time";

/** When the previous secret stops signing; null outside a rotation window. */
const windowEnd = (expiresAt: number | null, now: number) => (expiresAt !== null && expiresAt > now ? iso(expiresAt) : null);

export function endpointView(row: EndpointRow, now: number, opts: { revealSecret?: boolean } = {}) {
  return {
    id: row.id,
    object: "webhook_endpoint" as const,
    url: row.url,
    events: row.events,
    description: row.description,
    enabled: row.enabled,
    disabled_reason: row.enabled ? null : row.disabledReason,
    secret: opts.revealSecret ? row.secret : maskSecret(row.secret),
    previous_secret_expires_at: windowEnd(row.previousSecretExpiresAt, now),
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

export function signingSecretView(columns: SecretColumns & { secret: string }, now: number) {
  return {
    object: "webhook_signing_secret" as const,
    secret: columns.secret,
    previous_secret_expires_at: windowEnd(columns.previousExpiresAt, now),
  };
}

export function attemptView(row: AttemptRow) {
  return {
    attempt: row.attempt,
    at: iso(row.at)!,
    status_code: row.statusCode,
    latency_ms: row.latencyMs,
    error: row.error,
    next_retry_at: iso(row.nextRetryAt),
  };
}

export function deliveryView(row: DeliveryWithEvent) {
  return {
    id: row.id,
    object: "webhook_delivery" as const,
    event_id: row.eventId,
    event_type: row.eventType,
    execution_id: row.executionId,
    endpoint_id: row.endpointId,
    url: row.url,
    status: row.status,
    attempt_count: row.attempts,
    last_status_code: row.lastStatusCode,
    next_attempt_at: row.status === "pending" ? iso(row.nextAttemptAt) : null,
    expires_at: iso(row.deadlineAt)!,
    created_at: iso(row.createdAt)!,
  };
}

export const deliveryDetailView = (row: DeliveryWithEvent, attempts: AttemptRow[]) => ({ ...deliveryView(row), attempts: attempts.map(attemptView) });
