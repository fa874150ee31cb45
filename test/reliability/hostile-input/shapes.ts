/**
 * What every error answer must look like: the error body of its surface (src/errors.ts for the
 * envelope, src/dialects/<surface>/errors.ts for the compatible surfaces), and nothing of the
 * server's insides in any body.
 */
import { CODES, isErrorCode } from "../../../src/errors";
import type { Shape } from "./spec";

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isText = (v: unknown) => typeof v === "string" && v.length > 0;

/** Why `body` is not an error of `shape` answered with `status`, or null when it is one. */
export function shapeProblem(shape: Shape, status: number, body: unknown): string | null {
  if (!isObject(body)) return "the body is not a JSON object";
  const error = body.error;
  switch (shape) {
    case "envelope": {
      if (!isObject(error)) return "no error object";
      if (typeof error.code !== "string" || !isErrorCode(error.code)) return `error.code ${JSON.stringify(error.code)} is not a code of src/errors.ts`;
      if (CODES[error.code][0] !== status) return `error.code ${error.code} is for ${CODES[error.code][0]}, not ${status}`;
      if (!isText(error.message) || typeof error.retryable !== "boolean" || !isText(error.request_id) || !Array.isArray(error.details))
        return "the envelope lacks message, retryable, request_id or details";
      return null;
    }
    case "openai":
      if (!isObject(error) || !isText(error.message) || !isText(error.type)) return "not {error:{message,type}}";
      if (!("param" in error) || !("code" in error)) return "OpenAI's error lacks param or code";
      return null;
    case "anthropic":
      if (body.type !== "error" || !isObject(error) || !isText(error.type) || !isText(error.message)) return 'not {type:"error",error:{type,message}}';
      return null;
    case "gemini":
      if (!isObject(error) || error.code !== status || !isText(error.message) || !isText(error.status)) return "not {error:{code:<status>,message,status}}";
      return null;
    case "openrouter":
      if (!isObject(error) || error.code !== status || !isText(error.message)) return "not {error:{code:<status>,message}}";
      return null;
    case "ollama":
      return isText(error) ? null : 'not {error:"…"}';
  }
}

/** The answer of a request no route matched: the envelope's 404 on every surface (src/http/errors.ts). */
export const isUnmatched = (status: number, body: unknown) =>
  status === 404 && isObject(body) && isObject(body.error) && body.error.code === "NOT_FOUND" && String(body.error.message).startsWith("No route matches");

/** What a body must never carry; `dataDir` is the server's own data directory. */
export function leakIn(text: string, dataDir: string): string | null {
  const patterns: [string, RegExp][] = [
    ["a stack trace", /\n\s+at |^\s*at .+:\d+:\d+/m],
    ["the data directory", new RegExp(dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))],
    ["a source path", /\/work\/|node_modules|\bsrc\/[\w/-]+\.ts|\.ts:\d+/],
    ["SQL", /\bSELECT\b.*\bFROM\b|\bINSERT INTO\b|\bUPDATE \S+ SET\b|\bDELETE FROM\b/],
    ["a database error", /sqlite|syntax error|\brelation "|duplicate key value|violates .* constraint|invalid byte sequence|invalid input syntax|unterminated|no such (table|column)/i],
    ["an exception", /\b(TypeError|RangeError|ReferenceError|SyntaxError|AggregateError|DrizzleError|PostgresError|DatabaseError)\b|Cannot read propert|is not a function|undefined is not (an object|a function)|JSON Parse error|Unexpected token|Maximum call stack|ERR_[A-Z_]{3,}|\bE(CONNREFUSED|CONNRESET|PIPE|NOENT|ACCES)\b/],
  ];
  for (const [what, pattern] of patterns) {
    const m = pattern.exec(text);
    if (m) return `${what}: ${JSON.stringify(text.slice(Math.max(0, m.index - 60), m.index + 80))}`;
  }
  return null;
}
