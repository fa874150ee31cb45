/**
 * What a batch line is on each endpoint a batch may name: the endpoint's own dialect code turns
 * the line's body into the execution's canonical input, and the finished execution into the
 * response body the endpoint would have answered, or its error in the surface's shape. Nothing
 * here is batch-specific translation: it calls the same functions as the live routes.
 */
import type { ChatInput, ChatOutput } from "../canonical/chat";
import type { AppContext } from "../context";
import { AppError, invalidField } from "../errors";
import type { ExecutionRow } from "../modules/executions/store";
import { anthropicError } from "./anthropic/errors";
import { messageOf, parseMessagesRequest } from "./anthropic/messages";
import { completionOf, parseChatRequest } from "./openai/chat";
import { completionOf as legacyCompletionOf, inputFor, parseCompletionRequest } from "./openai/completions";
import { embeddingsResponse, parseEmbeddingsRequest } from "./openai/embeddings";
import { openaiError } from "./openai/errors";
import { responseOf } from "./openai/responses/render";
import { parseResponsesRequest, type ResponsesEcho } from "./openai/responses/request";
import { modelFor } from "./run";

/** A line's request as stored: the execution's model and input, and what rendering its answer needs. */
export type LineRequest = { model: string; input: Record<string, unknown>; render?: Record<string, unknown> };

export type BatchEndpoint = {
  /** The body of one line → the execution to run; throws the endpoint's own 400/404. */
  parse(ctx: AppContext, body: unknown): LineRequest;
  /** A COMPLETED execution → the endpoint's response body. */
  render(row: ExecutionRow, render: Record<string, unknown> | undefined): unknown;
  /** An error → its status and body in the surface's shape. */
  error(error: AppError, requestId: string): { status: number; body: unknown };
};

const notStreamed = (stream: boolean) => {
  if (stream) throw invalidField("stream", "unsupported", "Batch lines cannot stream; leave stream out.");
};

const asInput = (input: ChatInput) => input as unknown as Record<string, unknown>;

/** The endpoints `POST /v1/batches` accepts, by their `endpoint` value (also each line's `url`). */
export const OPENAI_BATCH_ENDPOINTS: Record<string, BatchEndpoint> = {
  "/v1/chat/completions": {
    parse(ctx, body) {
      const req = parseChatRequest(body);
      notStreamed(req.stream);
      modelFor(ctx, req.model, ["chat"], "chat completions");
      return { model: req.model, input: asInput(req.input) };
    },
    render: (row) => completionOf(row.id, row.model, row.createdAt, row.output as unknown as ChatOutput, row.usage),
    error: openaiError,
  },
  "/v1/completions": {
    parse(ctx, body) {
      const req = parseCompletionRequest(body);
      notStreamed(req.stream);
      return { model: req.model, input: inputFor(modelFor(ctx, req.model, ["text-generation", "chat"], "completions"), req) };
    },
    render: (row) => legacyCompletionOf(row.id, row.model, row.createdAt, row.output, row.usage),
    error: openaiError,
  },
  "/v1/embeddings": {
    parse(ctx, body) {
      const req = parseEmbeddingsRequest(body);
      modelFor(ctx, req.model, ["embedding"], "embeddings");
      return { model: req.model, input: req.input, render: { encoding: req.encoding } };
    },
    render: (row, render) => embeddingsResponse(row, render?.encoding === "base64" ? "base64" : "float"),
    error: openaiError,
  },
  "/v1/responses": {
    parse(ctx, body) {
      const req = parseResponsesRequest(body);
      notStreamed(req.stream);
      if (req.background) throw invalidField("background", "unsupported", "Batch lines run in the background already; leave background out.");
      if (req.previousResponseId) throw invalidField("previous_response_id", "unsupported", "Batch lines cannot continue a stored response.");
      modelFor(ctx, req.model, ["chat"], "responses");
      return { model: req.model, input: asInput(req.input), render: { instructions: req.instructions, echo: req.echo } };
    },
    // Batch responses are not stored: they live in the output file.
    render: (row, render) =>
      responseOf(row, { instructions: (render?.instructions as string | null) ?? null, previousResponseId: null, store: false, echo: render?.echo as ResponsesEcho }),
    error: openaiError,
  },
};

/** Anthropic's Message Batches: each request's `params` is a Messages body. */
export const ANTHROPIC_MESSAGES: BatchEndpoint = {
  parse(ctx, body) {
    const req = parseMessagesRequest(body);
    notStreamed(req.stream);
    modelFor(ctx, req.model, ["chat"], "messages");
    return { model: req.model, input: asInput(req.input) };
  },
  render: (row) => messageOf(row.id, row.model, row.output as unknown as ChatOutput, row.usage),
  error: anthropicError,
};

/** The endpoint of a batch row: OpenAI's by name, or Anthropic's messages. */
export function endpointOf(dialect: "openai" | "anthropic", endpoint: string): BatchEndpoint {
  const found = dialect === "anthropic" ? ANTHROPIC_MESSAGES : OPENAI_BATCH_ENDPOINTS[endpoint];
  if (!found) throw new Error(`no batch endpoint ${endpoint}`);
  return found;
}
