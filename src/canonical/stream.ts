/**
 * Canonical stream events: what an adapter emits while an upstream streams, and what the
 * execution stream and the compatible surfaces render in their own framing. `index` numbers the
 * parts of the assistant message in the order they start (text, thinking, tool calls).
 * Only content events commit a stream: before the first one the router may still fail over.
 */
import type { FinishReason } from "./chat";
import type { Usage } from "./usage";

export type StreamEvent =
  | { type: "text_delta"; index: number; text: string }
  | { type: "thinking_delta"; index: number; thinking: string }
  | { type: "thinking_signature"; index: number; signature: string }
  | { type: "tool_call_start"; index: number; id: string; name: string }
  | { type: "tool_call_delta"; index: number; arguments: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; finishReason: FinishReason };

/** Events that carry content the caller sees: after one of these a stream cannot be replaced. */
export const isContentEvent = (event: StreamEvent) =>
  event.type === "text_delta" || event.type === "thinking_delta" || event.type === "tool_call_start" || event.type === "tool_call_delta";

export type Emit = (event: StreamEvent) => void;
