/**
 * OpenAI Responses requests ⇄ the canonical chat input. `input` is a string or a list of items
 * (messages with input_text / input_image / output_text parts, function calls, function call
 * outputs, reasoning); `instructions` becomes the first system message; function tools are flat
 * (`{type, name, parameters}`); `text.format` is the response format. Hosted tools (web search,
 * file search, code interpreter, …) and prompt templates cannot be honoured on an arbitrary
 * upstream and are refused naming their `param`.
 */
import type { ChatInput, ChatMessage, ContentPart, ResponseFormat, ToolChoice } from "../../../canonical/chat";
import { invalidField } from "../../../errors";
import { objectBody, openaiUnknown } from "../../body";
import { parseArguments } from "../chat";

const TRANSLATED = new Set([
  "model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "text",
  "top_logprobs", "previous_response_id", "store", "stream", "background", "metadata", "user", "reasoning",
]);
/** Accepted and ignored: about OpenAI's own storage, caching, tiers and extra output it would include. */
const IGNORED = new Set(["include", "service_tier", "prompt_cache_key", "safety_identifier", "truncation", "stream_options", "max_tool_calls", "prompt_cache_retention", "prompt_cache_options"]);
const REFUSED: Record<string, string> = {
  prompt: "Prompt templates are not supported; send the input itself.",
  conversation: "Conversations are not supported; continue a response with previous_response_id.",
  context_management: "Context management (compaction) is not supported.",
  moderation: "Moderated responses are not supported.",
};
const ACCEPTED = new Set([...TRANSLATED, ...IGNORED]);

/** What the Responses object echoes back, as sent (defaults filled in when rendered). */
export type ResponsesEcho = {
  tools?: unknown[];
  tool_choice?: unknown;
  parallel_tool_calls?: boolean;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  text?: unknown;
  top_logprobs?: number | null;
  metadata?: Record<string, string>;
  user?: string | null;
  reasoning?: unknown;
  background?: boolean;
};

export type ResponsesRequest = {
  model: string;
  /** The canonical input of this turn: instructions first, then the items (the previous turns are added by the route). */
  input: ChatInput;
  instructions: string | null;
  previousResponseId: string | null;
  store: boolean;
  stream: boolean;
  background: boolean;
  echo: ResponsesEcho;
};

const bad = (param: string, message: string) => invalidField(param, "invalid_format", message);

function partsOf(content: unknown, at: string, role: string): string | ContentPart[] {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw bad(at, `${at} must be a string or an array of content parts.`);
  return content.map((part: any, i): ContentPart => {
    const here = `${at}[${i}]`;
    const type = part?.type;
    if ((type === "input_text" || type === "output_text" || type === "text") && typeof part.text === "string") return { type: "text", text: part.text };
    if (type === "refusal" && typeof part.refusal === "string") return { type: "text", text: part.refusal };
    if (type === "input_image") {
      if (role === "assistant") throw bad(`${here}.type`, `${here}: an assistant message cannot carry an image.`);
      if (typeof part.image_url !== "string") throw bad(`${here}.image_url`, `${here}.image_url must be a URL or a data: URI (file_id is not supported).`);
      return { type: "image", url: part.image_url };
    }
    throw bad(`${here}.type`, `${here}: unsupported content part type ${JSON.stringify(type)}.`);
  });
}

/** Appends a part to the last message when it has the role (one assistant turn, one user turn of tool results). */
function append(out: ChatMessage[], role: "user" | "assistant", part: ContentPart, joins: (p: ContentPart) => boolean) {
  const last = out.at(-1);
  if (last?.role === role && Array.isArray(last.content) && last.content.every(joins)) last.content.push(part);
  else out.push({ role, content: [part] });
}

/** The input items as canonical messages. */
export function itemsToMessages(input: unknown): ChatMessage[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  if (!Array.isArray(input) || input.length === 0) throw bad("input", "input must be a string or a non-empty array of input items.");
  const out: ChatMessage[] = [];
  input.forEach((item: any, i) => {
    const at = `input[${i}]`;
    const type = item?.type ?? (item?.role ? "message" : undefined);
    if (type === "message") {
      const role = item.role;
      if (role === "system" || role === "developer") out.push({ role: "system", content: partsOf(item.content, `${at}.content`, role) });
      else if (role === "user") out.push({ role: "user", content: partsOf(item.content, `${at}.content`, role) });
      else if (role === "assistant") {
        const content = partsOf(item.content, `${at}.content`, role);
        for (const part of typeof content === "string" ? [{ type: "text", text: content } as ContentPart] : content)
          append(out, "assistant", part, (p) => p.type !== "tool_result");
      } else throw bad(`${at}.role`, `${at}.role must be user, assistant, system or developer.`);
    } else if (type === "function_call") {
      if (typeof item.call_id !== "string" || typeof item.name !== "string") throw bad(at, `${at} needs a call_id and a name.`);
      append(out, "assistant", { type: "tool_use", id: item.call_id, name: item.name, input: parseArguments(item.arguments, `${at}.arguments`) }, (p) => p.type !== "tool_result");
    } else if (type === "function_call_output") {
      if (typeof item.call_id !== "string") throw bad(`${at}.call_id`, `${at}.call_id is required.`);
      const output = typeof item.output === "string" ? item.output : partsOf(item.output, `${at}.output`, "user");
      const content = typeof output === "string" ? output : (output.filter((p: ContentPart) => p.type === "text" || p.type === "image") as never);
      // Consecutive results are one user turn, as Anthropic requires (OpenAI upstreams split them again).
      append(out, "user", { type: "tool_result", tool_use_id: item.call_id, content }, (p) => p.type === "tool_result");
    } else if (type === "reasoning") {
      // Reasoning given back: its text (and the upstream's signature, kept in encrypted_content) continues the turn.
      const text = [...(Array.isArray(item.content) ? item.content : []), ...(Array.isArray(item.summary) ? item.summary : [])]
        .map((p: any) => (typeof p?.text === "string" ? p.text : ""))
        .join("");
      if (text || item.encrypted_content)
        append(out, "assistant", { type: "thinking", thinking: text, ...(typeof item.encrypted_content === "string" ? { signature: item.encrypted_content } : {}) }, (p) => p.type !== "tool_result");
    } else if (type === "item_reference") throw bad(`${at}.type`, `${at}: item references are not supported; use previous_response_id or send the items.`);
    else throw bad(`${at}.type`, `${at}: unsupported input item type ${JSON.stringify(type)}.`);
  });
  return out;
}

function toolsOf(tools: unknown): ChatInput["tools"] {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw bad("tools", "tools must be an array.");
  return tools.map((t: any, i) => {
    if (t?.type !== "function") throw invalidField(`tools[${i}].type`, "unsupported", `tools[${i}]: only function tools are supported, not ${JSON.stringify(t?.type)}.`);
    if (typeof t.name !== "string" || t.name === "") throw bad(`tools[${i}].name`, `tools[${i}].name is required.`);
    return { name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) };
  });
}

function toolChoiceOf(choice: any): ToolChoice | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (choice === "auto" || choice === "none" || choice === "required") return choice;
  if (choice?.type === "function" && typeof choice.name === "string") return { name: choice.name };
  throw bad("tool_choice", 'tool_choice must be "auto", "none", "required" or {"type":"function","name":…}.');
}

function formatOf(text: any): ResponseFormat | undefined {
  const format = text?.format;
  if (format === undefined || format === null) return undefined;
  if (format.type === "text" || format.type === "json_object") return { type: format.type };
  if (format.type === "json_schema") {
    if (typeof format.name !== "string") throw bad("text.format.name", "text.format.name is required for json_schema.");
    return { type: "json_schema", json_schema: { name: format.name, schema: format.schema, ...(format.strict !== undefined ? { strict: format.strict } : {}), ...(format.description ? { description: format.description } : {}) } };
  }
  throw bad("text.format.type", 'text.format.type must be "text", "json_object" or "json_schema".');
}

const number = (b: Record<string, any>, key: string): number | undefined => {
  const value = b[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw bad(key, `${key} must be a number.`);
  return value;
};

/** The body of `POST /v1/responses`, or a 400 naming the param. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  const b = objectBody(body, { known: ACCEPTED, refused: REFUSED, unknown: openaiUnknown });
  if (typeof b.model !== "string" || b.model === "") throw bad("model", "model is required.");
  if (b.instructions !== undefined && b.instructions !== null && typeof b.instructions !== "string") throw bad("instructions", "instructions must be a string.");
  if (b.previous_response_id !== undefined && b.previous_response_id !== null && typeof b.previous_response_id !== "string")
    throw bad("previous_response_id", "previous_response_id must be a string.");
  const instructions: string | null = b.instructions ?? null;
  const store = b.store !== false;
  const stream = b.stream === true;
  const background = b.background === true;
  if (background && !store) throw bad("background", "A background response must be stored: store cannot be false.");
  if (background && stream) throw bad("stream", "Streaming a background response is not supported; poll GET /v1/responses/{id}.");
  const messages = [...(instructions !== null ? [{ role: "system" as const, content: instructions }] : []), ...itemsToMessages(b.input)];
  const input: ChatInput = { messages };
  const tools = toolsOf(b.tools);
  if (tools?.length) input.tools = tools;
  const choice = toolChoiceOf(b.tool_choice);
  if (choice !== undefined) input.tool_choice = choice;
  if (typeof b.parallel_tool_calls === "boolean") input.parallel_tool_calls = b.parallel_tool_calls;
  const maxTokens = number(b, "max_output_tokens");
  if (maxTokens !== undefined) input.max_tokens = maxTokens;
  const temperature = number(b, "temperature");
  if (temperature !== undefined) input.temperature = temperature;
  const topP = number(b, "top_p");
  if (topP !== undefined) input.top_p = topP;
  const topLogprobs = number(b, "top_logprobs");
  if (topLogprobs !== undefined && topLogprobs > 0) Object.assign(input, { logprobs: true, top_logprobs: topLogprobs });
  const format = formatOf(b.text);
  if (format) input.response_format = format;
  if (typeof b.user === "string") input.user = b.user;
  if (b.metadata !== undefined && b.metadata !== null && (typeof b.metadata !== "object" || Array.isArray(b.metadata))) throw bad("metadata", "metadata must be an object of strings.");
  const echo: ResponsesEcho = {};
  for (const key of ["tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "top_p", "text", "top_logprobs", "metadata", "user", "reasoning"] as const)
    if (b[key] !== undefined && b[key] !== null) (echo as Record<string, unknown>)[key] = b[key];
  if (background) echo.background = true;
  return { model: b.model, input, instructions, previousResponseId: b.previous_response_id ?? null, store, stream, background, echo };
}
