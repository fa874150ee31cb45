/**
 * The first checks of every compatible request body: a JSON object, and only parameters the
 * endpoint knows. A parameter the surface documents but the gateway cannot honour is refused
 * with its reason; an unknown one with the surface's own wording. Each names its `param`.
 */
import { invalidField } from "../errors";

export type BodyRules = {
  known: ReadonlySet<string>;
  /** Documented parameters that cannot be honoured, with why; `null`, `false` or the default passes. */
  refused?: Readonly<Record<string, string>>;
  /** The surface's message for a parameter it does not know. */
  unknown: (param: string) => string;
};

export function objectBody(body: unknown, rules: BodyRules): Record<string, any> {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw invalidField("body", "invalid_format", "The body must be a JSON object.");
  const b = body as Record<string, any>;
  for (const key of Object.keys(b)) {
    const refusal = rules.refused?.[key];
    if (refusal !== undefined) {
      if (b[key] !== null && b[key] !== false) throw invalidField(key, "unsupported", refusal);
    } else if (!rules.known.has(key)) throw invalidField(key, "unknown_field", rules.unknown(key));
  }
  return b;
}

/** OpenAI's wording for a parameter it does not know. */
export const openaiUnknown = (param: string) => `Unrecognized request argument supplied: ${param}`;

/** Go's wording for a field it does not know (Ollama's server is written in Go). */
export const ollamaUnknown = (param: string) => `json: unknown field "${param}"`;
