/**
 * Every parameter the installed `openai`, `@anthropic-ai/sdk` and `ollama` clients document is
 * known to the gateway: translated, ignored or refused with its reason, never answered as an
 * unknown parameter ("Unrecognized request argument", "Extra inputs are not permitted"). The list is read from the SDK's own type
 * declarations, so a parameter a new SDK adds fails here until it is decided.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError } from "../../src/errors";
import { parseMessagesRequest } from "../../src/dialects/anthropic/messages";
import { parseGenerateRequest } from "../../src/dialects/gemini/request";
import { parseChatRequest } from "../../src/dialects/openai/chat";
import { parseResponsesRequest } from "../../src/dialects/openai/responses/request";
import { parseChatBody } from "../../src/dialects/ollama/chat";
import { parseEmbedBody, parseEmbeddingsBody } from "../../src/dialects/ollama/embed";
import { parseGenerateBody } from "../../src/dialects/ollama/generate";
import { parseShowBody } from "../../src/dialects/ollama/models";
import { samplingOf } from "../../src/dialects/ollama/options";

function documented(file: string, iface: string, sdk = "openai"): string[] {
  const text = readFileSync(join(dirname(require.resolve(`${sdk}/package.json`)), file), "utf8");
  const body = text.slice(text.indexOf(`interface ${iface} {`)); // `export interface` in most SDKs, plain `interface` in ollama's bundle
  const end = body.indexOf("\n}");
  return [...body.slice(0, end).matchAll(/^ {4}([a-z_]+)\??:/gm)].map((m) => m[1]!);
}

function verdict(parse: () => unknown): string {
  try {
    parse();
    return "accepted";
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    return e.details[0]?.code === "unknown_field" ? "unknown" : "refused";
  }
}

test("chat completions: every documented parameter is known", () => {
  const names = documented("resources/chat/completions/completions.d.ts", "ChatCompletionCreateParamsBase");
  expect(names.length).toBeGreaterThan(30);
  const unknown = names.filter((name) => verdict(() => parseChatRequest({ model: "m", messages: [{ role: "user", content: "x" }], [name]: (name === "model" ? "m" : name === "messages" ? [{ role: "user", content: "x" }] : null) })) === "unknown");
  expect(unknown).toEqual([]);
});

test("responses: every documented parameter is known", () => {
  const names = documented("resources/responses/responses.d.ts", "ResponseCreateParamsBase");
  expect(names.length).toBeGreaterThan(25);
  const unknown = names.filter((name) => verdict(() => parseResponsesRequest({ model: "m", input: "x", ...(name === "model" || name === "input" ? {} : { [name]: null }) })) === "unknown");
  expect(unknown).toEqual([]);
});

test("anthropic messages: every documented body parameter is known", () => {
  // user_profile_id and workspace_id are header parameters in the SDK's list.
  const names = documented("resources/messages/messages.d.ts", "MessageCreateParamsBase", "@anthropic-ai/sdk").filter((name) => name !== "user_profile_id" && name !== "workspace_id");
  expect(names.length).toBeGreaterThan(12);
  const base = { model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] };
  const unknown = names.filter((name) => verdict(() => parseMessagesRequest({ ...base, ...(name in base ? {} : { [name]: null }) })) === "unknown");
  expect(unknown).toEqual([]);
});

/** The fields of an interface of `@google/genai`'s type declarations (its camelCase wire names). */
function googleFields(iface: string): string[] {
  const text = readFileSync(join(dirname(require.resolve("@google/genai")), "..", "genai.d.ts"), "utf8");
  const body = text.slice(text.indexOf(`export declare interface ${iface} {`));
  return [...body.slice(0, body.indexOf("\n}")).matchAll(/^ {4}([A-Za-z_]+)\??:/gm)].map((m) => m[1]!);
}

test("gemini generateContent: every generationConfig, part, tool and declaration field the @google/genai SDK documents is known", () => {
  const user = (part: Record<string, unknown>) => ({ contents: [{ role: "user", parts: [{ text: "x", ...part }] }] });
  const cases: [string, (name: string) => unknown][] = [
    ["GenerationConfig", (name) => ({ ...user({}), generationConfig: { [name]: null } })],
    ["Part", (name) => user(name === "text" ? {} : { [name]: null })],
    ["Tool", (name) => ({ ...user({}), tools: [{ [name]: null }] })],
    ["FunctionDeclaration", (name) => ({ ...user({}), tools: [{ functionDeclarations: [{ name: "f", ...(name === "name" ? {} : { [name]: null }) }] }] })],
    ["ThinkingConfig", (name) => ({ ...user({}), generationConfig: { thinkingConfig: { [name]: null } } })],
    ["FunctionCallingConfig", (name) => ({ ...user({}), toolConfig: { functionCallingConfig: { [name]: null } } })],
  ];
  for (const [iface, body] of cases) {
    const names = googleFields(iface);
    expect(names.length).toBeGreaterThan(2);
    expect({ iface, unknown: names.filter((name) => verdict(() => parseGenerateRequest(body(name))) === "unknown") }).toEqual({ iface, unknown: [] });
  }
});

test("ollama: every documented field of chat, generate, embed, embeddings, show and options is known", () => {
  const known = (iface: string, parse: (body: Record<string, unknown>) => unknown, base: Record<string, unknown>, least: number) => {
    const names = documented("dist/browser.d.ts", iface, "ollama");
    expect(names.length).toBeGreaterThanOrEqual(least);
    return names.filter((name) => verdict(() => parse({ ...base, ...(name in base ? {} : { [name]: null }) })) === "unknown");
  };
  expect(known("ChatRequest", parseChatBody, { model: "m" }, 9)).toEqual([]);
  expect(known("GenerateRequest", parseGenerateBody, { model: "m", prompt: "x" }, 15)).toEqual([]);
  expect(known("EmbedRequest", parseEmbedBody, { model: "m", input: "x" }, 5)).toEqual([]);
  expect(known("EmbeddingsRequest", parseEmbeddingsBody, { model: "m", prompt: "x" }, 3)).toEqual([]);
  expect(known("ShowRequest", parseShowBody, { model: "m" }, 3)).toEqual([]);
  const options = documented("dist/browser.d.ts", "Options", "ollama");
  expect(options.length).toBeGreaterThan(25);
  expect(options.filter((name) => verdict(() => samplingOf({ [name]: null })) === "unknown")).toEqual([]);
});

test("a parameter no SDK documents is refused as unknown, in each API's words", () => {
  expect(verdict(() => parseChatRequest({ model: "m", messages: [{ role: "user", content: "x" }], frobnicate: 1 }))).toBe("unknown");
  expect(verdict(() => parseResponsesRequest({ model: "m", input: "x", frobnicate: 1 }))).toBe("unknown");
  expect(verdict(() => parseMessagesRequest({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }], frobnicate: 1 }))).toBe("unknown");
  expect(verdict(() => parseGenerateRequest({ contents: [{ parts: [{ text: "x" }] }], generationConfig: { frobnicate: 1 } }))).toBe("unknown");
  expect(verdict(() => parseChatBody({ model: "m", messages: [], frobnicate: 1 }))).toBe("unknown");
  expect(verdict(() => samplingOf({ frobnicate: 1 }))).toBe("unknown");
});
