/**
 * OpenRouter's error shape, `{"error":{"code":<status>,"message","metadata"}}`. A 402 names its
 * `limit_source`: the organization's credits, or a spend limit of the key or its guardrail.
 */
import type { AppError } from "../../errors";
import type { RenderedError } from "../errors";

export function openrouterError(error: AppError, _requestId: string): RenderedError {
  const status = error.status;
  const metadata: Record<string, unknown> = {};
  if (error.code === "INSUFFICIENT_BALANCE") metadata.limit_source = /spend limit/i.test(error.message) ? (/guardrail/i.test(error.message) ? "guardrail" : "key") : "credits";
  if (error.details[0]) metadata.param = error.details[0].field.replace(/^input\./, "");
  return { status, body: { error: { code: status, message: error.message, ...(Object.keys(metadata).length ? { metadata } : {}) } } };
}
