/**
 * Ollama's error shape, `{"error":"message"}`, with the gateway's HTTP status: the `ollama`
 * client raises a `ResponseError` carrying the message and `status_code` for any non-2xx JSON
 * answer. After a stream has begun, the same object is one NDJSON line. The shape has no
 * `details`, so every field at fault is named in the message, in the request's own terms
 * (`options.num_predict`, not the execution input's `input.max_tokens`).
 */
import type { AppError, FieldIssue } from "../../errors";
import type { RenderedError } from "../errors";

/** Execution input fields as an Ollama request names them. */
const REQUEST_FIELDS: Record<string, string> = {
  max_tokens: "options.num_predict",
  temperature: "options.temperature",
  top_p: "options.top_p",
  seed: "options.seed",
  stop: "options.stop",
  presence_penalty: "options.presence_penalty",
  frequency_penalty: "options.frequency_penalty",
  response_format: "format",
  thinking: "think",
  text: "prompt",
};

export const requestFieldOf = (field: string) => {
  if (!field.startsWith("input.")) return field;
  const path = field.slice("input.".length);
  const head = path.split(/[.[]/)[0]!;
  return (REQUEST_FIELDS[head] ?? head) + path.slice(head.length);
};

function messageOf(error: AppError): string {
  const issues: FieldIssue[] = error.details;
  if (issues.length > 1) return issues.map((i) => `${requestFieldOf(i.field)}: ${i.message}`).join("; ");
  const issue = issues[0];
  if (issue && error.message.startsWith(`${issue.field}: `)) return `${requestFieldOf(issue.field)}: ${error.message.slice(issue.field.length + 2)}`;
  return error.message;
}

export const ollamaError = (error: AppError, _requestId: string): RenderedError => ({ status: error.status, body: { error: messageOf(error) } });
