/**
 * Errors in the shape of the surface a request came in on. The gateway's own envelope is for
 * its own API; a client of a compatible surface gets what its SDK parses into its error classes.
 * The errors plugin asks `dialectErrorFor(path, request)` for every failed request.
 */
import type { AppError } from "../errors";
import { anthropicError } from "./anthropic/errors";
import { geminiError } from "./gemini/errors";
import { ollamaError } from "./ollama/errors";
import { isOllamaPath } from "./ollama/paths";
import { openaiError } from "./openai/errors";
import { fromOpenAISdk } from "./openai/files";
import { openrouterError } from "./openrouter/errors";

export type RenderedError = { status: number; body: unknown; headers?: Record<string, string> };
export type DialectErrorRenderer = (error: AppError, requestId: string) => RenderedError;

const OPENAI_PATHS =
  /^\/v1\/(chat\/completions|completions|embeddings|images\/(generations|edits|variations)|audio\/(speech|transcriptions|translations)|moderations|rerank|responses(\/[^/]+(\/cancel|\/input_items)?)?|batches(\/[^/]+(\/cancel)?)?)\/?$/;
/** OpenRouter serves Anthropic's Messages at /api/v1/messages, with Anthropic's errors. */
const ANTHROPIC_PATHS = /^\/v1\/messages(\/count_tokens|\/batches(\/[^/]+(\/cancel|\/results)?)?)?\/?$|^\/api\/v1\/messages\/?$/;
/** The native files API's paths, shared with OpenAI's Files API (docs/decisions.md "OpenAI files beside the native files API"). */
const FILES_PATHS = /^\/v1\/files(\/|$)/;

/** OpenAI's upload, and any files request from an OpenAI SDK, get OpenAI's errors; the rest the envelope. */
const isOpenAIFilesRequest = (path: string, request: Request) =>
  FILES_PATHS.test(path) && ((request.method === "POST" && /^\/v1\/files\/?$/.test(path)) || fromOpenAISdk(request.headers));

const OPENROUTER_PATHS = /^\/api\/v1\//;
const GEMINI_PATHS = /^\/v1beta\/models(\/|$)/;

export function dialectErrorFor(path: string, request: Request): DialectErrorRenderer | null {
  if (ANTHROPIC_PATHS.test(path)) return anthropicError;
  if (OPENROUTER_PATHS.test(path)) return openrouterError;
  if (GEMINI_PATHS.test(path)) return geminiError;
  if (OPENAI_PATHS.test(path) || isOpenAIFilesRequest(path, request)) return openaiError;
  if (isOllamaPath(path)) return ollamaError;
  return null;
}
