/**
 * Canonical chat output as Gemini's `GenerateContentResponse`, whole or as the chunks of a
 * stream, the way `@google/genai` reads them: `candidates[].content` of role `model` with text,
 * thought and `functionCall` parts, `finishReason` (STOP, MAX_TOKENS, SAFETY), `usageMetadata`,
 * `modelVersion` (the model's slug) and `responseId` (the execution's id). A function call is sent
 * whole, in one part, as Gemini sends it. Thought parts are shown only with `includeThoughts`; a
 * signature with no thought text (the model's state, as Gemini attaches it to a function call)
 * rides on the part that follows it, so the client can send it back.
 */
import type { ChatOutput, FinishReason } from "../../canonical/chat";
import type { StreamEvent } from "../../canonical/stream";
import type { Usage } from "../../canonical/usage";

export type GeminiPart = Record<string, unknown>;
export type RenderOptions = { responseId: string; modelVersion: string; includeThoughts: boolean };

export function finishReasonOf(reason: FinishReason | undefined): string {
  if (reason === "length") return "MAX_TOKENS";
  if (reason === "content_filter") return "SAFETY";
  return "STOP"; // Gemini ends a turn of function calls with STOP too
}

/** Canonical usage in Gemini's terms: thoughts are counted apart from the candidates, cached tokens within the prompt. */
export function usageMetadataOf(usage: Usage | null | undefined) {
  const u = usage ?? { inputTokens: 0, outputTokens: 0 };
  const thoughts = u.reasoningTokens ?? 0;
  return {
    promptTokenCount: u.inputTokens,
    candidatesTokenCount: Math.max(0, u.outputTokens - thoughts),
    totalTokenCount: u.inputTokens + u.outputTokens,
    ...(u.cachedInputTokens ? { cachedContentTokenCount: u.cachedInputTokens } : {}),
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
  };
}

/** Arguments streamed as JSON text, as the object a functionCall carries. */
function argsOf(text: string): Record<string, unknown> {
  try {
    const value = text.trim() ? JSON.parse(text) : {};
    return value && typeof value === "object" && !Array.isArray(value) ? value : { value };
  } catch {
    return { _unparsed_arguments: text };
  }
}

type OpenAiLogprob = { token: string; logprob: number; top_logprobs?: { token: string; logprob: number }[] };

/** Logprobs in the canonical (OpenAI) shape as Gemini's `logprobsResult` and `avgLogprobs`; nothing for another shape. */
function logprobsOf(logprobs: unknown): Record<string, unknown> {
  const content = (logprobs as { content?: OpenAiLogprob[] } | null)?.content;
  if (!Array.isArray(content) || content.length === 0) return {};
  const candidate = (t: { token: string; logprob: number }) => ({ token: t.token, logProbability: t.logprob });
  return {
    avgLogprobs: content.reduce((sum, t) => sum + t.logprob, 0) / content.length,
    logprobsResult: { chosenCandidates: content.map(candidate), topCandidates: content.map((t) => ({ candidates: (t.top_logprobs ?? []).map(candidate) })) },
  };
}

/** The parts of a canonical assistant message. */
export function partsOf(content: ChatOutput["message"]["content"], includeThoughts: boolean): GeminiPart[] {
  const parts: GeminiPart[] = [];
  let signature: string | undefined;
  for (const p of content) {
    if (p.type === "thinking") {
      if (p.thinking) {
        if (includeThoughts) parts.push({ text: p.thinking, thought: true, ...(p.signature ? { thoughtSignature: p.signature } : {}) });
      } else if (p.signature) signature = p.signature;
      continue;
    }
    const signed = signature ? { thoughtSignature: signature } : {};
    signature = undefined;
    if (p.type === "text") parts.push({ text: p.text, ...signed });
    else parts.push({ functionCall: { id: p.id, name: p.name, args: p.input }, ...signed });
  }
  if (signature) parts.push({ text: "", thoughtSignature: signature });
  return parts;
}

/** A finished execution's output as a GenerateContentResponse. */
export function generateResponseOf(output: ChatOutput, usage: Usage | null, opts: RenderOptions) {
  const choices = output.choices ?? [{ message: output.message, finish_reason: output.finish_reason, logprobs: output.logprobs }];
  return {
    candidates: choices.map((c, index) => ({
      content: { role: "model", parts: partsOf(c.message.content, opts.includeThoughts) },
      finishReason: finishReasonOf(c.finish_reason),
      index,
      ...logprobsOf(c.logprobs),
    })),
    usageMetadata: usageMetadataOf(usage),
    modelVersion: opts.modelVersion,
    responseId: opts.responseId,
  };
}

/** Renders canonical stream events as GenerateContentResponse chunks of one candidate. */
export class ChunkWriter {
  private call: { index: number; id: string; name: string; args: string } | null = null;
  private signature: string | undefined;
  /** Parts whose thought text was streamed (shown or not): their signature belongs to that text. */
  private thoughtful = new Set<number>();

  constructor(private opts: RenderOptions) {}

  private chunk(parts: GeminiPart[], extra: Record<string, unknown> = {}, tail: Record<string, unknown> = {}) {
    return {
      candidates: [{ ...(parts.length ? { content: { role: "model", parts } } : {}), ...extra, index: 0 }],
      ...tail,
      modelVersion: this.opts.modelVersion,
      responseId: this.opts.responseId,
    };
  }

  /** A part carrying the pending signature, if any. */
  private signed(part: GeminiPart): GeminiPart {
    if (!this.signature) return part;
    const withSignature = { ...part, thoughtSignature: this.signature };
    this.signature = undefined;
    return withSignature;
  }

  /** The function call being gathered, whole, once its arguments are complete. */
  private flushCall(): GeminiPart[] {
    if (!this.call) return [];
    const { id, name, args } = this.call;
    this.call = null;
    return [this.signed({ functionCall: { id, name, args: argsOf(args) } })];
  }

  event(event: StreamEvent): unknown[] {
    switch (event.type) {
      case "text_delta": {
        const parts = [...this.flushCall(), this.signed({ text: event.text })];
        return [this.chunk(parts)];
      }
      case "thinking_delta": {
        this.thoughtful.add(event.index);
        const parts = this.flushCall();
        if (this.opts.includeThoughts) parts.push({ text: event.thinking, thought: true });
        return parts.length ? [this.chunk(parts)] : [];
      }
      case "thinking_signature": {
        if (!this.thoughtful.has(event.index)) {
          this.signature = event.signature; // the model's state for the part that follows
          return [];
        }
        return this.opts.includeThoughts ? [this.chunk([{ text: "", thought: true, thoughtSignature: event.signature }])] : [];
      }
      case "tool_call_start": {
        const parts = this.flushCall();
        this.call = { index: event.index, id: event.id, name: event.name, args: "" };
        return parts.length ? [this.chunk(parts)] : [];
      }
      case "tool_call_delta":
        if (this.call?.index === event.index) this.call.args += event.arguments;
        return [];
      default:
        return [];
    }
  }

  /** The last chunk: what is left of the answer, the finish reason and the usage. */
  end(finishReason: FinishReason | undefined, usage: Usage | null): unknown {
    const parts = this.flushCall();
    if (this.signature) parts.push(this.signed({ text: "" }));
    return this.chunk(parts, { finishReason: finishReasonOf(finishReason) }, { usageMetadata: usageMetadataOf(usage) });
  }
}
