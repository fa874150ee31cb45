/**
 * Ollama's error shape, `{"error":"message"}`, with the gateway's HTTP status: the `ollama`
 * client raises a `ResponseError` carrying the message and `status_code` for any non-2xx JSON
 * answer. After a stream has begun, the same object is one NDJSON line.
 */
import type { AppError } from "../../errors";
import type { RenderedError } from "../errors";

export const ollamaError = (error: AppError, _requestId: string): RenderedError => ({ status: error.status, body: { error: error.message } });
