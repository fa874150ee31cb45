/**
 * The canonical chat model: the execution input of the `chat` task and its output, which every
 * client dialect translates to and every provider adapter translates from. It carries what the
 * richest wire needs: typed content parts, several tool calls per turn, tool results, images,
 * thinking with its signature, stop reasons, usage with cache reads and writes (docs/tasks.md).
 * No I/O here.
 */

export type TextPart = { type: "text"; text: string };
/** An image by URL (https or a data: URI) or as base64 bytes with their media type. */
export type ImagePart = { type: "image"; url?: string; data?: string; media_type?: string };
export type ThinkingPart = { type: "thinking"; thinking: string; signature?: string };
export type ToolUsePart = { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };
export type ToolResultPart = { type: "tool_result"; tool_use_id: string; content: string | (TextPart | ImagePart)[]; is_error?: boolean };
export type ContentPart = TextPart | ImagePart | ThinkingPart | ToolUsePart | ToolResultPart;

export type ChatRole = "system" | "user" | "assistant";
export type ChatMessage = { role: ChatRole; content: string | ContentPart[] };

export type ChatTool = { name: string; description?: string; parameters?: Record<string, unknown> };
export type ToolChoice = "auto" | "none" | "required" | { name: string };
export type ResponseFormat =
  | { type: "text" }
  | { type: "json_object" }
  | { type: "json_schema"; json_schema: { name: string; schema?: Record<string, unknown>; strict?: boolean; description?: string } };

export type ChatInput = {
  messages: ChatMessage[];
  tools?: ChatTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  /** Sample from the k likeliest tokens, where the upstream has it (Anthropic, Gemini); ignored elsewhere. */
  top_k?: number;
  stop?: string | string[];
  seed?: number;
  n?: number;
  response_format?: ResponseFormat;
  logprobs?: boolean;
  top_logprobs?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  /** Extended thinking where the upstream has it (Anthropic, Gemini); ignored elsewhere. */
  thinking?: { budget_tokens: number };
  user?: string;
};

/** OpenAI's names, the ones most clients know; adapters map their upstream's reasons onto them. */
export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter";

export type AssistantMessage = { role: "assistant"; content: (TextPart | ThinkingPart | ToolUsePart)[] };

export type ChatChoice = { message: AssistantMessage; finish_reason: FinishReason; logprobs?: unknown };

export type ChatOutput = {
  message: AssistantMessage;
  /** The text parts of `message`, joined: the answer for callers that only want text. */
  text: string;
  finish_reason: FinishReason;
  /** Every choice when the caller asked for `n` > 1 (the first is also `message`). */
  choices?: ChatChoice[];
  logprobs?: unknown;
};

/** The parts of a message, a plain string being one text part. */
export const partsOf = (content: ChatMessage["content"]): ContentPart[] => (typeof content === "string" ? [{ type: "text", text: content }] : content);

/**
 * Adds a tool result to the conversation: consecutive results are one user turn (Anthropic
 * requires it; OpenAI-compatible upstreams split them again).
 */
export function appendToolResult(messages: ChatMessage[], result: ToolResultPart): void {
  const last = messages.at(-1);
  if (last?.role === "user" && Array.isArray(last.content) && last.content.every((p) => p.type === "tool_result")) last.content.push(result);
  else messages.push({ role: "user", content: [result] });
}

/** The text of a message's parts (tool results and images left out). */
export const textOf = (content: ChatMessage["content"] | ToolResultPart["content"]): string =>
  typeof content === "string"
    ? content
    : (content as ContentPart[])
        .filter((p): p is TextPart => p.type === "text")
        .map((p) => p.text)
        .join("");

/** Builds the canonical output from the first choice (and keeps all when there are several). */
export function chatOutput(choices: ChatChoice[]): ChatOutput {
  const first = choices[0] ?? { message: { role: "assistant", content: [] }, finish_reason: "stop" as const };
  return {
    message: first.message,
    text: textOf(first.message.content as ContentPart[]),
    finish_reason: first.finish_reason,
    ...(first.logprobs !== undefined ? { logprobs: first.logprobs } : {}),
    ...(choices.length > 1 ? { choices } : {}),
  };
}

/** Every string of the input a model reads, for estimating tokens when the upstream reports none. */
export function promptText(input: ChatInput): string {
  const pieces: string[] = [];
  for (const m of input.messages) {
    for (const p of partsOf(m.content)) {
      if (p.type === "text") pieces.push(p.text);
      else if (p.type === "tool_result") pieces.push(textOf(p.content));
      else if (p.type === "tool_use") pieces.push(p.name, JSON.stringify(p.input));
      else if (p.type === "thinking") pieces.push(p.thinking);
    }
  }
  for (const t of input.tools ?? []) pieces.push(t.name, t.description ?? "", JSON.stringify(t.parameters ?? {}));
  return pieces.join("\n");
}
