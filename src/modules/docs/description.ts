/** The text at the top of the API docs and the tag descriptions of the sidebar. */
export const API_DESCRIPTION = `ModelRoute is a provider-opaque AI execution gateway. Send canonical input for a model slug,
get canonical output back — synchronously, asynchronously (poll \`/result\` or receive a signed
webhook) or as a stream. Every call is metered against a prepaid balance.

**Authentication.** Every \`/v1\` request carries \`Authorization: Bearer sk_<64 hex>_<8 hex CRC32>\`.
A first run prints a key and writes it to \`<data-dir>/bootstrap.json\`.

**Errors.** Every non-2xx response has the same envelope:
\`{"error":{"code","message","retryable","request_id","details":[{"field","code","message"}]}}\`.
\`retryable\` tells whether the same request may succeed later.

**Rate limits.** Authenticated responses carry \`X-RateLimit-Limit\`, \`X-RateLimit-Remaining\` and
\`X-RateLimit-Reset\` (unix seconds). Over the limit: 429 \`RATE_LIMITED\` with \`Retry-After\`.

**Money** is a decimal string in USD with at least three decimals: \`"0.040"\`.`;

export const API_TAGS = [
  { name: "Executions", description: "Run a model: create, poll, stream, cancel, fetch the result." },
  { name: "Files", description: "Upload inputs (up to 150 MiB) through presigned links, download outputs; reference them as `file_…` ids in execution input." },
  { name: "Models", description: "The catalog of model slugs, their input schemas and pricing." },
  { name: "Operations", description: "Liveness, readiness and Prometheus metrics (no auth)." },
];
