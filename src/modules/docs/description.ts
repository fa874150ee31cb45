/** The text at the top of the API docs and the tag descriptions of the sidebar. */
import { CODES } from "../../errors";

/** Every error code as a Markdown table, from CODES: in the docs' introduction and the README. */
/** Two columns, not four: the introduction's column is narrow, and the "when" text needs the room. */
export function errorCodeTable(): string {
  const rows = Object.entries(CODES).map(
    ([code, [status, retryable, when]]) => `| \`${code}\` | **${status}**, ${retryable ? "retryable" : "not retryable"}. ${when.replace(/\|/g, "\\|")} |`,
  );
  return ["| Code | Status, and when |", "|---|---|", ...rows].join("\n");
}

export const API_DESCRIPTION = `ModelRoute is a provider-opaque AI execution gateway. Send canonical input for a model slug,
get canonical output back — synchronously, asynchronously (poll \`/result\` or receive a signed
webhook) or as a stream. Every call is metered against a prepaid balance.

**Authentication.** Every \`/v1\` request carries \`Authorization: Bearer sk_<64 hex>_<8 hex CRC32>\`.
A first run prints a key and writes it to \`<data-dir>/bootstrap.json\`.

**Errors.** Every non-2xx response has the same envelope:
\`{"error":{"code","message","retryable","request_id","details":[{"field","code","message"}]}}\`.
\`retryable\` tells whether the same request may succeed later. A FAILED or EXPIRED execution
carries one of the same codes in its \`error.code\`.

${errorCodeTable()}

**Rate limits.** Authenticated responses carry \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and
\`X-RateLimit-Reset\` (unix seconds). Over the limit: 429 \`RATE_LIMITED\` with \`Retry-After\`.

**Money** is a decimal string in USD with at least three decimals: \`"0.040"\`.`;

export const API_TAGS = [
  { name: "Executions", description: "Run a model: create, poll, stream, cancel, fetch the result." },
  { name: "Files", description: "Upload inputs (up to 150 MiB) through presigned links, download outputs; reference them as `file_…` ids in execution input." },
  { name: "Models", description: "The catalog of model slugs, their input schemas and pricing." },
  {
    name: "Balance",
    description:
      "The prepaid balance every execution is paid from. Creating an execution **holds** its maximum cost (402 `INSUFFICIENT_BALANCE` when `available` " +
      "cannot cover it, or when it would take an API key past its spend limit); when it ends, its one balance transaction **captures** the actual cost (never " +
      "more than the hold) and releases the rest. FAILED and EXPIRED executions are not charged. Every movement is an append-only balance " +
      "transaction. A low-balance threshold sends `balance.low` to your webhooks once when `available` drops below it.",
  },
  {
    name: "Usage",
    description: "Executions, tokens and cost per UTC day or per model, for dashboards and invoices.",
  },
  {
    name: "Webhooks",
    description:
      "Signed event notifications (full-permission keys only): register endpoints with their own `whsec_` secrets, or give an execution a `webhook_url` " +
      "(signed with the organization's signing secret). Events: `execution.started`, `execution.completed`, `execution.failed`, `execution.cancelled`, " +
      "`execution.expired`, `balance.low`, `webhook.test`. Each POST carries `X-Signature` (hex HMAC-SHA256 over `{timestamp}.{body}`) and the Standard " +
      "Webhooks headers. Failed deliveries are retried after 5 s, 5 min, 30 min, 2 h and 5 h (±10 %, or the receiver's `Retry-After`), never after 24 h; " +
      "a 410 answer disables the endpoint. Every attempt is in the delivery log.",
  },
  { name: "Operations", description: "Liveness, readiness and Prometheus metrics (no auth)." },
  {
    name: "API keys",
    description:
      "Keys of your organization (full-permission keys only): create, list (masked), update limits or disable, revoke, rotate with a 1-hour grace period. At most 20 active keys per organization.",
  },
  {
    name: "Guardrails",
    description:
      "Rules for the keys assigned to them: allowed and blocked models, a cap per execution, content rules on the input, and limits. A rejected request costs nothing.",
  },
  {
    name: "Admin",
    description:
      "The operator's API under /admin/v1, authenticated with the operator token (mrt_…): organizations, their keys, credits and balances, the catalog, stats and the audit log. The `modelroute` CLI has the same powers.",
  },
  { name: "Providers", description: "Where asynchronous upstream providers (Cog, Replicate) call back. Not for API clients." },
  { name: "OpenAI compatible", description: "OpenAI's API for the `openai` SDKs: change the base URL to this server's `/v1` and the key to a ModelRoute key. Every call is an execution." },
  { name: "Rerank", description: "Rerank in the shape Cohere, Jina and Voyage share, at `/v1/rerank`. Every call is an execution; errors in OpenAI's shape." },
  { name: "Anthropic compatible", description: "Anthropic's Messages API for the `@anthropic-ai/sdk` clients: change the base URL to this server and the key to a ModelRoute key. Every call is an execution." },
  { name: "OpenRouter compatible", description: "OpenRouter's account endpoints under `/api/v1` (key, credits, generation, models, providers) for code written against OpenRouter." },
];
