/**
 * Ollama's `/api/chat` request ⇄ the canonical chat input. Messages of the system, user,
 * assistant and tool roles; `images` (base64) on user messages become image parts; assistant
 * `tool_calls` (arguments an object) become tool_use parts and `thinking` a thinking part. Ollama
 * gives a tool message only the tool's name (`tool_name`), so it answers the first unanswered call
 * of that name in the assistant turn before it (or its `tool_call_id`, when a client sends one);
 * calls without an id get one made from their place in the conversation.
 */
import { appendToolResult, type ChatInput, type ChatMessage, type ContentPart, type ImagePart } from "../../canonical/chat";
import type { Model } from "../../modules/catalog/service";
import { sniffMediaType } from "../../modules/files/sniff";
import { objectBody, ollamaUnknown } from "../body";
import { functionTools, parseArguments } from "../openai/chat";
import { capabilitiesOf } from "./capabilities";
import { invalidField } from "../../errors";
import { addOutputControls, bad, requestOf, samplingOf, SHARED_FIELDS, SHARED_REFUSED, type OllamaRequest } from "./options";

const KNOWN = new Set([...SHARED_FIELDS, "messages", "tools"]);

/** A base64 image as an image part, its media type read from its bytes. */
export function imagesOf(images: unknown, at: string): ImagePart[] {
  if (images === undefined || images === null) return [];
  if (!Array.isArray(images)) throw bad(at, `${at} must be a list of base64-encoded images`);
  return images.map((image, i) => {
    const here = `${at}[${i}]`;
    if (typeof image !== "string" || image === "") throw bad(here, `${here} must be a base64-encoded image`);
    // 64 bytes are enough to tell the format: 88 base64 characters.
    const type = sniffMediaType(Buffer.from(image.slice(0, 88), "base64"));
    if (!type?.startsWith("image/")) throw bad(here, `${here} is not a base64-encoded PNG, JPEG, GIF or WEBP image`);
    return { type: "image", data: image, media_type: type };
  });
}

/** A user's words and images: a plain string when there is no image. */
export const userContent = (text: string, images: ImagePart[]): ChatMessage["content"] => (images.length ? [...(text ? [{ type: "text" as const, text }] : []), ...images] : text);

type Call = { id: string; name: string };

/** An assistant's `tool_calls` as tool_use parts; an `arguments` string (OpenAI's habit) is parsed too. */
function toolUsesOf(calls: unknown, at: string, messageIndex: number): (ContentPart & { type: "tool_use" })[] {
  if (calls === undefined || calls === null) return [];
  if (!Array.isArray(calls)) throw bad(`${at}.tool_calls`, `${at}.tool_calls must be a list`);
  return calls.map((c: any, j: number) => {
    const here = `${at}.tool_calls[${j}]`;
    const fn = c?.function;
    if (typeof fn?.name !== "string" || fn.name === "") throw bad(`${here}.function.name`, `${here}.function.name is required`);
    const input = fn.arguments && typeof fn.arguments === "object" && !Array.isArray(fn.arguments) ? fn.arguments : fn.arguments === undefined ? {} : parseArguments(fn.arguments, `${here}.function.arguments`);
    const id = typeof c.id === "string" && c.id !== "" ? c.id : `call_${messageIndex}_${j}`;
    return { type: "tool_use", id, name: fn.name, input };
  });
}

/** The call a tool message answers, taken off the unanswered ones. */
function answeredCall(pending: Call[], m: any, at: string): string {
  if (typeof m.tool_call_id === "string" && m.tool_call_id !== "") {
    const known = pending.findIndex((c) => c.id === m.tool_call_id);
    if (known >= 0) pending.splice(known, 1);
    return m.tool_call_id;
  }
  const byName = typeof m.tool_name === "string" ? pending.findIndex((c) => c.name === m.tool_name) : -1;
  const index = byName >= 0 ? byName : 0;
  const call = pending[index];
  if (!call) throw bad(at, `${at}: a tool message must answer a tool call of the assistant message before it`);
  pending.splice(index, 1);
  return call.id;
}

function messagesOf(messages: unknown[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  let pending: Call[] = [];
  messages.forEach((m: any, i) => {
    const at = `messages[${i}]`;
    if (!m || typeof m !== "object" || Array.isArray(m)) throw bad(at, `${at} must be an object`);
    const content = m.content ?? "";
    if (typeof content !== "string") throw bad(`${at}.content`, `${at}.content must be a string`);
    if (m.role !== "user" && Array.isArray(m.images) && m.images.length) throw bad(`${at}.images`, `${at}.images: images are taken on user messages only`);
    if (m.role === "system") out.push({ role: "system", content });
    else if (m.role === "user") {
      out.push({ role: "user", content: userContent(content, imagesOf(m.images, `${at}.images`)) });
    } else if (m.role === "assistant") {
      const uses = toolUsesOf(m.tool_calls, at, i);
      pending = uses.map((u) => ({ id: u.id, name: u.name }));
      const thinking = typeof m.thinking === "string" && m.thinking ? [{ type: "thinking" as const, thinking: m.thinking }] : [];
      const parts: ContentPart[] = [...thinking, ...(content ? [{ type: "text" as const, text: content }] : []), ...uses];
      out.push({ role: "assistant", content: thinking.length || uses.length ? parts : content });
    } else if (m.role === "tool") appendToolResult(out, { type: "tool_result", tool_use_id: answeredCall(pending, m, at), content });
    else throw bad(`${at}.role`, `${at}.role must be system, user, assistant or tool`);
  });
  return out;
}

/** The body's checks that need no model: a 400 before the catalog is asked. */
export function parseChatBody(body: unknown): OllamaRequest {
  const b = objectBody(body, { known: KNOWN, refused: SHARED_REFUSED, unknown: ollamaUnknown });
  if (b.messages !== undefined && b.messages !== null && !Array.isArray(b.messages)) throw bad("messages", "messages must be a list");
  return requestOf(b);
}

/** True when there is nothing to generate: Ollama's way to load (or unload) a model. */
export const loadsOnly = (req: OllamaRequest) => !Array.isArray(req.body.messages) || req.body.messages.length === 0;

/** The canonical input for the model; 400 for tools or thinking it does not take. */
export function chatInputOf(req: OllamaRequest, model: Model, name: string): ChatInput {
  const b = req.body;
  const input: ChatInput = { messages: messagesOf(b.messages), ...samplingOf(b.options) };
  if (b.tools !== undefined && b.tools !== null && !Array.isArray(b.tools)) throw bad("tools", "tools must be a list");
  const tools = functionTools(b.tools);
  if (tools) {
    if (!capabilitiesOf(model).includes("tools")) throw invalidField("tools", "unsupported", `"${name}" does not support tools`);
    input.tools = tools;
  }
  return addOutputControls(input, b, model, name);
}
