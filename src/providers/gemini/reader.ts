/**
 * Gemini's GenerateContentResponse, whole or as stream chunks, folded into canonical events and
 * a final answer. Each chunk carries only new parts: consecutive text (or thought) pieces are
 * one canonical part, a function call comes whole, a `thoughtSignature` is kept as a thinking
 * part without text just before the part it came on (where the request builder puts it back).
 * Usage: `promptTokenCount` includes the cached tokens; the output is the candidates plus the
 * thoughts, which canonical usage counts as reasoning.
 */
import { chatOutput, type ChatChoice, type FinishReason } from "../../canonical/chat";
import type { Emit } from "../../canonical/stream";
import type { Usage } from "../../canonical/usage";
import { classifyStatus, ProviderError } from "../errors";

type Content = ChatChoice["message"]["content"];
type Candidate = { parts: Content; finish?: string };
type WirePart = { text?: string; thought?: boolean; thoughtSignature?: string; functionCall?: { id?: string; name?: string; args?: Record<string, unknown> } };
type WireUsage = { promptTokenCount?: number; candidatesTokenCount?: number; cachedContentTokenCount?: number; thoughtsTokenCount?: number; toolUsePromptTokenCount?: number };

const FILTERED = new Set(["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"]);

function finishReasonOf(reason: string | undefined, parts: Content): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason && FILTERED.has(reason)) return "content_filter";
  return parts.some((p) => p.type === "tool_use") ? "tool_calls" : "stop";
}

/** Canonical usage from `usageMetadata`; null when the answer has none. */
export function usageFrom(u: WireUsage | undefined): Usage | null {
  if (!u || typeof u.promptTokenCount !== "number") return null;
  const thoughts = u.thoughtsTokenCount ?? 0;
  return {
    inputTokens: u.promptTokenCount + (u.toolUsePromptTokenCount ?? 0),
    outputTokens: (u.candidatesTokenCount ?? 0) + thoughts,
    ...(u.cachedContentTokenCount ? { cachedInputTokens: u.cachedContentTokenCount } : {}),
    ...(thoughts ? { reasoningTokens: thoughts } : {}),
  };
}

export class ResponseReader {
  private candidates = new Map<number, Candidate>();
  private usage: Usage | null = null;
  /** A finish reason arrived: the answer is whole. */
  finished = false;

  /** Only candidate 0 is streamed to the caller; others are kept for the final answer. */
  constructor(private emit: Emit = () => {}) {}

  /** Folds one response (or chunk) in; true when it carried content the caller saw. */
  push(chunk: any): boolean {
    if (chunk?.error) {
      const message = String(chunk.error.message ?? "stream error");
      const status = typeof chunk.error.code === "number" ? chunk.error.code : 500;
      throw new ProviderError(classifyStatus(status, message), `stream error: ${message}`, { status });
    }
    this.usage = usageFrom(chunk?.usageMetadata) ?? this.usage;
    const candidates = Array.isArray(chunk?.candidates) ? chunk.candidates : [];
    const blocked = chunk?.promptFeedback?.blockReason;
    if (blocked && candidates.length === 0) throw new ProviderError("content_policy", `the prompt was blocked (${blocked})`);
    let content = false;
    for (const c of candidates) {
      const index = typeof c?.index === "number" ? c.index : 0;
      let state = this.candidates.get(index);
      if (!state) this.candidates.set(index, (state = { parts: [] }));
      for (const part of (c?.content?.parts ?? []) as WirePart[]) if (this.apply(state, part, index === 0)) content ||= index === 0;
      if (c?.finishReason) {
        state.finish = c.finishReason;
        this.finished = true;
      }
    }
    return content;
  }

  private apply(state: Candidate, part: WirePart, live: boolean): boolean {
    const emit = live ? this.emit : () => {};
    const parts = state.parts;
    const signature = typeof part.thoughtSignature === "string" && part.thoughtSignature ? part.thoughtSignature : undefined;
    if (part.thought) {
      let last = parts.at(-1);
      if (last?.type !== "thinking" || last.signature) parts.push((last = { type: "thinking", thinking: "" }));
      const index = parts.length - 1;
      if (part.text) {
        last.thinking += part.text;
        emit({ type: "thinking_delta", index, thinking: part.text });
      }
      if (signature) {
        last.signature = signature;
        emit({ type: "thinking_signature", index, signature });
      }
      return !!part.text;
    }
    if (signature) {
      parts.push({ type: "thinking", thinking: "", signature });
      emit({ type: "thinking_signature", index: parts.length - 1, signature });
    }
    if (typeof part.text === "string" && part.text) {
      const last = parts.at(-1);
      if (last?.type === "text") last.text += part.text;
      else parts.push({ type: "text", text: part.text });
      emit({ type: "text_delta", index: parts.length - 1, text: part.text });
      return true;
    }
    if (part.functionCall) {
      const call = part.functionCall;
      const id = call.id || `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;
      const input = call.args && typeof call.args === "object" ? call.args : {};
      parts.push({ type: "tool_use", id, name: call.name ?? "", input });
      const index = parts.length - 1;
      emit({ type: "tool_call_start", index, id, name: call.name ?? "" });
      emit({ type: "tool_call_delta", index, arguments: JSON.stringify(input) });
      return true;
    }
    return false;
  }

  /** The whole answer; usage is null when the upstream never sent it. */
  result(): { output: ReturnType<typeof chatOutput>; usage: Usage | null } {
    const indexes = [...this.candidates.keys()].sort((a, b) => a - b);
    if (indexes.length === 0) indexes.push(0);
    const choices: ChatChoice[] = indexes.map((i) => {
      const state = this.candidates.get(i) ?? { parts: [] };
      return { message: { role: "assistant", content: state.parts }, finish_reason: finishReasonOf(state.finish, state.parts) };
    });
    return { output: chatOutput(choices), usage: this.usage };
  }
}
