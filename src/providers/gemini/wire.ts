/**
 * Canonical chat ⇄ Gemini's `generateContent`: the request body and the error shape. Gemini
 * keeps the system prompt apart (`systemInstruction`), calls the assistant `model`, pairs a
 * `functionResponse` with its call by name (and id), takes tool parameters as JSON Schema in
 * `parametersJsonSchema` and wants a thought signature back on the part it came with.
 */
import { partsOf, textOf, type ChatInput, type ContentPart, type ImagePart } from "../../canonical/chat";
import type { ErrorHints } from "../http";

type Part = Record<string, unknown>;
type Content = { role: "user" | "model"; parts: Part[] };

/** The message of Google's error body `{"error":{"code","message","status"}}`. */
export function errorMessage(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown; status?: unknown } } | null)?.error;
  if (typeof e?.message !== "string") return undefined;
  return typeof e.status === "string" ? `${e.status}: ${e.message}` : e.message;
}

type Detail = { "@type"?: string; reason?: string; retryDelay?: string };

/** Google answers a bad key with 400 `API_KEY_INVALID`, and tells a 429's wait in `RetryInfo.retryDelay` ("20s", "1.5s"). */
export function errorHints(_status: number, body: unknown): ErrorHints {
  const details = ((body as { error?: { details?: Detail[] } } | null)?.error?.details ?? []) as Detail[];
  if (!Array.isArray(details)) return {};
  const hints: ErrorHints = {};
  if (details.some((d) => d?.reason === "API_KEY_INVALID" || d?.reason === "API_KEY_SERVICE_BLOCKED")) hints.failure = "auth";
  const delay = details.find((d) => d?.["@type"]?.endsWith("google.rpc.RetryInfo"))?.retryDelay;
  const seconds = typeof delay === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(delay)?.[1] : undefined;
  if (seconds !== undefined) hints.retryAfterMs = Math.ceil(Number(seconds) * 1000);
  return hints;
}

/** A media type Gemini needs for a linked image; guessed from the link's extension when the part gives none. */
function mimeOf(part: ImagePart): string {
  if (part.media_type) return part.media_type;
  const ext = /\.(png|jpe?g|webp|gif|heic|heif)(?:$|[?#])/i.exec(part.url ?? "")?.[1]?.toLowerCase();
  return ext === "jpg" ? "image/jpeg" : ext ? `image/${ext}` : "image/jpeg";
}

function imagePart(part: ImagePart): Part {
  const dataUri = part.url?.match(/^data:([^;,]+);base64,(.*)$/s);
  if (dataUri) return { inlineData: { mimeType: dataUri[1], data: dataUri[2] } };
  if (part.url) return { fileData: { mimeType: mimeOf(part), fileUri: part.url } };
  return { inlineData: { mimeType: part.media_type ?? "image/png", data: part.data } };
}

/** A tool result's text as the object Gemini wants: the JSON object it encodes, else `{result}` (`{error}` for a failure). */
function responseOf(content: string, isError: boolean | undefined): Record<string, unknown> {
  try {
    const value = JSON.parse(content);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch {
    // plain text
  }
  return isError ? { error: content } : { result: content };
}

function partsFor(content: ContentPart[], callNames: Map<string, string>): Part[] {
  const parts: Part[] = [];
  let signature: string | undefined;
  const push = (part: Part) => {
    parts.push(signature ? { ...part, thoughtSignature: signature } : part);
    signature = undefined;
  };
  for (const p of content) {
    if (p.type === "thinking") {
      // Thought text is not sent back; a signature is, when it is Gemini's state (a thinking part without
      // text, as the reader below keeps it), not another provider's signature of its own thinking.
      if (!p.thinking && p.signature) signature = p.signature;
      continue;
    }
    if (p.type === "text") {
      if (p.text) push({ text: p.text });
    } else if (p.type === "image") push(imagePart(p));
    else if (p.type === "tool_use") push({ functionCall: { id: p.id, name: p.name, args: p.input } });
    else push({ functionResponse: { id: p.tool_use_id, name: callNames.get(p.tool_use_id) ?? p.tool_use_id, response: responseOf(textOf(p.content), p.is_error) } });
  }
  if (signature) parts.push({ text: "", thoughtSignature: signature });
  return parts;
}

function toolConfigOf(input: ChatInput): Record<string, unknown> | undefined {
  const choice = input.tool_choice;
  if (choice === undefined || !input.tools?.length) return undefined;
  if (choice === "auto") return { functionCallingConfig: { mode: "AUTO" } };
  if (choice === "none") return { functionCallingConfig: { mode: "NONE" } };
  if (choice === "required") return { functionCallingConfig: { mode: "ANY" } };
  return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [choice.name] } };
}

function generationConfigOf(input: ChatInput): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  const put = (key: string, value: unknown) => void (value !== undefined && (config[key] = value));
  put("temperature", input.temperature);
  put("topP", input.top_p);
  put("topK", input.top_k);
  put("maxOutputTokens", input.max_tokens);
  put("candidateCount", input.n);
  put("seed", input.seed);
  put("presencePenalty", input.presence_penalty);
  put("frequencyPenalty", input.frequency_penalty);
  if (input.stop !== undefined) config.stopSequences = Array.isArray(input.stop) ? input.stop : [input.stop];
  if (input.logprobs) {
    config.responseLogprobs = true;
    put("logprobs", input.top_logprobs);
  }
  const format = input.response_format;
  if (format?.type === "json_object") config.responseMimeType = "application/json";
  if (format?.type === "json_schema") Object.assign(config, { responseMimeType: "application/json", responseJsonSchema: format.json_schema.schema ?? { type: "object" } });
  if (input.thinking) config.thinkingConfig = { thinkingBudget: input.thinking.budget_tokens, includeThoughts: true };
  return config;
}

/** The generateContent body; route params are merged last, `generationConfig` key by key. */
export function generateRequest(input: ChatInput, params: Record<string, unknown>): Record<string, unknown> {
  const callNames = new Map<string, string>();
  for (const m of input.messages) for (const p of partsOf(m.content)) if (p.type === "tool_use") callNames.set(p.id, p.name);
  const system = input.messages.filter((m) => m.role === "system").map((m) => textOf(m.content)).join("\n\n");
  const contents: Content[] = [];
  for (const m of input.messages) {
    if (m.role === "system") continue;
    const role = m.role === "assistant" ? "model" : "user";
    const parts = partsFor(partsOf(m.content), callNames);
    if (parts.length === 0) continue;
    const last = contents.at(-1);
    // A user turn of tool results then text, or two assistant messages, are one Gemini turn.
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  }
  const body: Record<string, unknown> = { contents };
  if (system) body.systemInstruction = { parts: [{ text: system }] };
  if (input.tools?.length)
    body.tools = [{ functionDeclarations: input.tools.map((t) => ({ name: t.name, ...(t.description ? { description: t.description } : {}), parametersJsonSchema: t.parameters ?? { type: "object", properties: {} } })) }];
  const toolConfig = toolConfigOf(input);
  if (toolConfig) body.toolConfig = toolConfig;
  const { generationConfig: routeConfig, ...routeParams } = params as { generationConfig?: Record<string, unknown> };
  const generationConfig = { ...generationConfigOf(input), ...routeConfig };
  if (Object.keys(generationConfig).length) body.generationConfig = generationConfig;
  return { ...body, ...routeParams };
}
