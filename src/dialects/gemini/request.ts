/**
 * A Gemini `generateContent` body as the canonical chat input (docs/compatibility.md "Gemini").
 * Contents of roles `user` and `model` with text, inline or linked images, function calls and
 * function responses; `systemInstruction`; `tools[].functionDeclarations`; `toolConfig`;
 * `generationConfig` (sampling, stops, candidates, seed, penalties, logprobs, structured output,
 * thinking). Every field Google documents is translated, ignored where that changes nothing the
 * caller sees, or refused naming it; an unknown one is refused in Google's words.
 */
import type { ChatInput, ChatMessage, ChatTool, ContentPart, ToolChoice } from "../../canonical/chat";
import { invalidField } from "../../errors";
import { badValue, fieldsOf, listOf } from "./fields";
import { jsonSchemaOf } from "./schema";

const REQUEST = new Set(["model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings", "cachedContent", "labels", "serviceTier", "store", "continuationToken", "modelArmorConfig"]);
/** Documented, harmless to leave out: Google's own storage, tiers, labels and safety filters. */
const REQUEST_IGNORED = new Set(["model", "safetySettings", "labels", "serviceTier", "store", "modelArmorConfig"]);
const REQUEST_REFUSED: Record<string, string> = {
  cachedContent: "Cached contents are not supported; send the contents themselves.",
  continuationToken: "Continuation tokens are not supported: an answer always comes whole.",
};

const GENERATION = new Set([
  "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities", "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed",
  "presencePenalty", "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig", "mediaResolution", "enableEnhancedCivicAnswers", "routingConfig", "modelSelectionConfig",
  "speechConfig", "audioTimestamp", "audioTranscriptionConfig", "enableAffectiveDialog", "imageConfig", "translationConfig", "responseFormat",
]);
const GENERATION_REFUSED: Record<string, string> = {
  speechConfig: "Audio output is not supported.",
  audioTimestamp: "Audio input is not supported.",
  audioTranscriptionConfig: "Audio input is not supported.",
  enableAffectiveDialog: "Affective dialog is not supported.",
  imageConfig: "Image output is not supported.",
  translationConfig: "Translation is not supported.",
  responseFormat: "responseFormat is not supported; use responseMimeType with responseJsonSchema.",
};

const CONTENT = new Set(["role", "parts"]);
const PART = new Set(["text", "inlineData", "fileData", "functionCall", "functionResponse", "thought", "thoughtSignature", "executableCode", "codeExecutionResult", "videoMetadata", "mediaResolution", "partMetadata", "toolCall", "toolResponse", "audioTranscription", "mediaProcessing", "speechMetadata"]);
const PART_REFUSED: Record<string, string> = {
  executableCode: "Code execution is not supported.",
  codeExecutionResult: "Code execution is not supported.",
  videoMetadata: "Video input is not supported.",
  toolCall: "Server-side tool calls are not supported.",
  toolResponse: "Server-side tool calls are not supported.",
  audioTranscription: "Audio input is not supported.",
  speechMetadata: "Audio input is not supported.",
};
const BLOB = new Set(["mimeType", "data", "displayName"]);
const FILE = new Set(["mimeType", "fileUri", "displayName"]);
const CALL = new Set(["id", "name", "args"]);
const RESPONSE = new Set(["id", "name", "response", "parts", "willContinue", "scheduling"]);
const TOOL = new Set(["functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext", "googleMaps", "fileSearch", "computerUse", "mcpServers", "retrieval", "enterpriseWebSearch", "exaAiSearch", "parallelAiSearch"]);
const DECLARATION = new Set(["name", "description", "parameters", "parametersJsonSchema", "response", "responseJsonSchema", "behavior"]);
const TOOL_CONFIG = new Set(["functionCallingConfig", "retrievalConfig", "includeServerSideToolInvocations"]);
const CALLING = new Set(["mode", "allowedFunctionNames", "streamFunctionCallArguments"]);
const THINKING = new Set(["includeThoughts", "thinkingBudget", "thinkingLevel"]);
/** Canonical thinking takes a budget; Google's levels are read as the budgets its models spend at each. */
const LEVEL_BUDGETS: Record<string, number> = { LOW: 1024, MEDIUM: 8192, HIGH: 24576 };
/** The least budget every thinking upstream takes (Anthropic refuses fewer). */
const MIN_THINKING_BUDGET = 1024;

export type GenerateRequest = {
  input: ChatInput;
  /** `thinkingConfig.includeThoughts`: thought parts are shown only when asked for, as on Gemini. */
  includeThoughts: boolean;
};

function refuseSet(fields: Record<string, any>, refused: Record<string, string>, at: string) {
  for (const [key, why] of Object.entries(refused)) if (fields[key] !== undefined && fields[key] !== null && fields[key] !== false) throw invalidField(at ? `${at}.${key}` : key, "unsupported", why);
}

/** Ids for function calls that came without one, so each response finds its call (Gemini pairs them by name, in order). */
class CallIds {
  private pending = new Map<string, string[]>();
  private count = 0;
  call(name: string, id: unknown): string {
    const chosen = typeof id === "string" && id ? id : `call_${++this.count}_${name}`;
    this.pending.set(name, [...(this.pending.get(name) ?? []), chosen]);
    return chosen;
  }
  response(name: string, id: unknown): string {
    const queue = this.pending.get(name) ?? [];
    if (typeof id === "string" && id) {
      const at = queue.indexOf(id);
      if (at >= 0) queue.splice(at, 1);
      return id;
    }
    return queue.shift() ?? `call_${name}`;
  }
}

function imageOf(blob: Record<string, any>, at: string, field: "data" | "fileUri"): ContentPart {
  const mime = blob.mimeType;
  if (typeof mime !== "string" || typeof blob[field] !== "string") throw badValue(at, `mimeType and ${field} are required.`);
  if (!mime.startsWith("image/")) throw invalidField(`${at}.mimeType`, "unsupported", `Only images are supported as input media, not ${mime}.`);
  return field === "data" ? { type: "image", data: blob.data, media_type: mime } : { type: "image", url: blob.fileUri, media_type: mime };
}

/** A function response's `response` object as the canonical tool result's text (JSON, so it can come back whole). */
const resultText = (response: unknown) => (typeof response === "string" ? response : JSON.stringify(response ?? {}));

function partsOf(content: unknown, at: string, ids: CallIds): ContentPart[] {
  const c = fieldsOf(content, at, CONTENT);
  const parts: ContentPart[] = [];
  listOf(c.parts, `${at}.parts`).forEach((raw, i) => {
    const here = `${at}.parts[${i}]`;
    const p = fieldsOf(raw, here, PART);
    refuseSet(p, PART_REFUSED, here);
    const signature = typeof p.thoughtSignature === "string" && p.thoughtSignature ? p.thoughtSignature : undefined;
    if (p.thought === true) return void parts.push({ type: "thinking", thinking: typeof p.text === "string" ? p.text : "", ...(signature ? { signature } : {}) });
    // A signature on any other part is the model's state for that part: kept just before it.
    if (signature) parts.push({ type: "thinking", thinking: "", signature });
    if (typeof p.text === "string") parts.push({ type: "text", text: p.text });
    else if (p.inlineData !== undefined) parts.push(imageOf(fieldsOf(p.inlineData, `${here}.inlineData`, BLOB), `${here}.inlineData`, "data"));
    else if (p.fileData !== undefined) parts.push(imageOf(fieldsOf(p.fileData, `${here}.fileData`, FILE), `${here}.fileData`, "fileUri"));
    else if (p.functionCall !== undefined) {
      const call = fieldsOf(p.functionCall, `${here}.functionCall`, CALL);
      if (typeof call.name !== "string" || !call.name) throw badValue(`${here}.functionCall.name`, "a function call needs a name.");
      const args = call.args ?? {};
      if (typeof args !== "object" || Array.isArray(args)) throw badValue(`${here}.functionCall.args`, "must be an object.");
      parts.push({ type: "tool_use", id: ids.call(call.name, call.id), name: call.name, input: args });
    } else if (p.functionResponse !== undefined) {
      const response = fieldsOf(p.functionResponse, `${here}.functionResponse`, RESPONSE);
      if (typeof response.name !== "string" || !response.name) throw badValue(`${here}.functionResponse.name`, "a function response needs a name.");
      parts.push({ type: "tool_result", tool_use_id: ids.response(response.name, response.id), content: resultText(response.response) });
    } else if (!signature) throw badValue(here, "a part needs text, inlineData, fileData, functionCall or functionResponse.");
  });
  return parts;
}

function messagesOf(body: Record<string, any>, ids: CallIds): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (body.systemInstruction !== undefined && body.systemInstruction !== null) {
    const system = partsOf(typeof body.systemInstruction === "string" ? { parts: [{ text: body.systemInstruction }] } : body.systemInstruction, "systemInstruction", ids);
    const text = system.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
    if (text) messages.push({ role: "system", content: text });
  }
  const contents = listOf(body.contents, "contents");
  if (contents.length === 0) throw invalidField("contents", "required", "* GenerateContentRequest.contents: contents is not specified");
  contents.forEach((content, i) => {
    const role = (content as { role?: unknown } | null)?.role ?? "user";
    if (role !== "user" && role !== "model" && role !== "function") throw badValue(`contents[${i}].role`, 'role must be "user" or "model".');
    const parts = partsOf(content, `contents[${i}]`, ids);
    if (parts.length === 0) throw invalidField(`contents[${i}].parts`, "required", `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.`);
    messages.push({ role: role === "model" ? "assistant" : "user", content: parts });
  });
  return messages;
}

function toolsOf(tools: unknown): ChatTool[] {
  const out: ChatTool[] = [];
  listOf(tools, "tools").forEach((raw, i) => {
    const tool = fieldsOf(raw, `tools[${i}]`, TOOL);
    for (const [name, value] of Object.entries(tool))
      if (name !== "functionDeclarations" && value !== null && value !== undefined) throw invalidField(`tools[${i}].${name}`, "unsupported", `The ${name} tool is not supported; declare functions instead.`);
    listOf(tool.functionDeclarations, `tools[${i}].functionDeclarations`).forEach((d, j) => {
      const at = `tools[${i}].functionDeclarations[${j}]`;
      const decl = fieldsOf(d, at, DECLARATION);
      if (typeof decl.name !== "string" || !decl.name) throw badValue(`${at}.name`, "a function declaration needs a name.");
      const parameters = decl.parametersJsonSchema ?? (decl.parameters ? jsonSchemaOf(decl.parameters) : undefined);
      out.push({ name: decl.name, ...(typeof decl.description === "string" && decl.description ? { description: decl.description } : {}), ...(parameters ? { parameters: parameters as Record<string, unknown> } : {}) });
    });
  });
  return out;
}

/** `toolConfig.functionCallingConfig`: AUTO, ANY (with one allowed name: that function), NONE; allowed names narrow the tools. */
function choiceOf(config: unknown, tools: ChatTool[]): { choice?: ToolChoice; tools: ChatTool[] } {
  const toolConfig = fieldsOf(config, "toolConfig", TOOL_CONFIG);
  const calling = fieldsOf(toolConfig.functionCallingConfig, "toolConfig.functionCallingConfig", CALLING);
  const allowed = listOf(calling.allowedFunctionNames, "toolConfig.functionCallingConfig.allowedFunctionNames");
  if (allowed.some((n) => typeof n !== "string")) throw badValue("toolConfig.functionCallingConfig.allowedFunctionNames", "must be a list of names.");
  const narrowed = allowed.length ? tools.filter((t) => allowed.includes(t.name)) : tools;
  const mode = calling.mode ?? "AUTO";
  if (mode === "MODE_UNSPECIFIED" || mode === "AUTO" || mode === "VALIDATED") return { choice: calling.mode === undefined ? undefined : "auto", tools: narrowed };
  if (mode === "NONE") return { choice: "none", tools };
  if (mode === "ANY") return { choice: narrowed.length === 1 ? { name: narrowed[0]!.name } : "required", tools: narrowed };
  throw badValue("toolConfig.functionCallingConfig.mode", `unknown mode ${JSON.stringify(mode)}; use AUTO, ANY or NONE.`);
}

function structuredOutput(config: Record<string, any>): ChatInput["response_format"] | undefined {
  const mime = config.responseMimeType;
  const schema = config.responseJsonSchema ?? (config.responseSchema ? jsonSchemaOf(config.responseSchema) : undefined);
  if (mime === undefined || mime === null || mime === "text/plain") {
    if (schema) throw badValue("generationConfig.responseMimeType", "a response schema needs responseMimeType application/json.");
    return undefined;
  }
  if (mime !== "application/json") throw invalidField("generationConfig.responseMimeType", "unsupported", `responseMimeType ${JSON.stringify(mime)} is not supported; use text/plain or application/json.`);
  return schema ? { type: "json_schema", json_schema: { name: "response", schema: schema as Record<string, unknown> } } : { type: "json_object" };
}

function thinkingOf(config: unknown): { budget?: number; include: boolean } {
  const thinking = fieldsOf(config, "generationConfig.thinkingConfig", THINKING);
  const include = thinking.includeThoughts === true;
  const budget = typeof thinking.thinkingBudget === "number" ? thinking.thinkingBudget : LEVEL_BUDGETS[String(thinking.thinkingLevel)];
  // 0 turns thinking off and -1 leaves it to the model: neither asks for a budget.
  return { budget: budget !== undefined && budget > 0 ? Math.max(MIN_THINKING_BUDGET, budget) : undefined, include };
}

function number(config: Record<string, any>, key: string): number | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) throw badValue(`generationConfig.${key}`, "must be a number.");
  return value;
}

function generationOf(raw: unknown, input: ChatInput): boolean {
  const config = fieldsOf(raw, "generationConfig", GENERATION);
  refuseSet(config, GENERATION_REFUSED, "generationConfig");
  const modalities = listOf(config.responseModalities, "generationConfig.responseModalities");
  if (modalities.some((m) => m !== "TEXT")) throw invalidField("generationConfig.responseModalities", "unsupported", "Only TEXT output is supported.");
  const set = <K extends keyof ChatInput>(key: K, value: ChatInput[K] | undefined) => void (value !== undefined && (input[key] = value));
  set("temperature", number(config, "temperature"));
  set("top_p", number(config, "topP"));
  set("top_k", number(config, "topK"));
  set("max_tokens", number(config, "maxOutputTokens"));
  set("n", number(config, "candidateCount"));
  set("seed", number(config, "seed"));
  set("presence_penalty", number(config, "presencePenalty"));
  set("frequency_penalty", number(config, "frequencyPenalty"));
  const stops = listOf(config.stopSequences, "generationConfig.stopSequences");
  if (stops.some((s) => typeof s !== "string")) throw badValue("generationConfig.stopSequences", "must be a list of strings.");
  if (stops.length) input.stop = stops as string[];
  if (config.responseLogprobs === true) {
    input.logprobs = true;
    set("top_logprobs", number(config, "logprobs"));
  }
  set("response_format", structuredOutput(config));
  const thinking = thinkingOf(config.thinkingConfig);
  if (thinking.budget !== undefined) input.thinking = { budget_tokens: thinking.budget };
  return thinking.include;
}

/** The body of `:generateContent` / `:streamGenerateContent` as a canonical input, or a 400 naming the field. */
export function parseGenerateRequest(body: unknown): GenerateRequest {
  if (body === undefined || body === null) throw invalidField("body", "invalid_format", "The body must be a JSON object.");
  const b = fieldsOf(body, "", REQUEST);
  refuseSet(b, REQUEST_REFUSED, "");
  for (const key of REQUEST_IGNORED) delete b[key];
  const input: ChatInput = { messages: messagesOf(b, new CallIds()) };
  const tools = toolsOf(b.tools);
  const { choice, tools: offered } = choiceOf(b.toolConfig, tools);
  if (offered.length) input.tools = offered;
  if (choice !== undefined && offered.length) input.tool_choice = choice;
  const includeThoughts = generationOf(b.generationConfig, input);
  return { input, includeThoughts };
}
