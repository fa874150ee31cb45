/**
 * What `/api/chat` and `/api/generate` share: the body rules, `options` (sampling), `format`
 * (structured output), `think` and `keep_alive`. Ollama's runtime and load options (GPU layers,
 * threads, context size, mirostat, …) steer a local llama.cpp runner the gateway does not have:
 * they are accepted and ignored. An option Ollama does not document is refused, so a typo is not
 * silently dropped.
 */
import type { ChatInput, ResponseFormat } from "../../canonical/chat";
import { invalidField } from "../../errors";
import type { Model } from "../../modules/catalog/service";
import { capabilitiesOf } from "./capabilities";

export const bad = (param: string, message: string) => invalidField(param, "invalid_format", message);

/** Options that become canonical parameters. */
const TRANSLATED_OPTIONS = ["temperature", "top_p", "seed", "stop", "num_predict", "presence_penalty", "frequency_penalty"];
/** Options of a local runner (load, hardware, sampler internals) that no upstream of the gateway takes. */
const IGNORED_OPTIONS = [
  "numa", "num_ctx", "num_batch", "num_gpu", "main_gpu", "low_vram", "f16_kv", "logits_all", "vocab_only", "use_mmap", "use_mlock", "embedding_only", "num_thread",
  "num_keep", "top_k", "min_p", "tfs_z", "typical_p", "repeat_last_n", "repeat_penalty", "mirostat", "mirostat_tau", "mirostat_eta", "penalize_newline",
];
export const KNOWN_OPTIONS = new Set([...TRANSLATED_OPTIONS, ...IGNORED_OPTIONS]);

export type Sampling = Pick<ChatInput, "max_tokens" | "temperature" | "top_p" | "seed" | "stop" | "presence_penalty" | "frequency_penalty">;

const number = (value: unknown, at: string) => {
  if (typeof value !== "number" || !Number.isFinite(value)) throw bad(at, `${at} must be a number`);
  return value;
};

/** `options` as canonical sampling parameters; `num_predict` ≤ 0 (Ollama's "no limit") leaves the model's maximum. */
export function samplingOf(options: unknown): Sampling {
  if (options === undefined || options === null) return {};
  if (typeof options !== "object" || Array.isArray(options)) throw bad("options", "options must be an object");
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!KNOWN_OPTIONS.has(key)) throw invalidField(`options.${key}`, "unknown_field", `options.${key} is not an Ollama option`);
  const sampling: Sampling = {};
  for (const key of ["temperature", "top_p", "presence_penalty", "frequency_penalty"] as const) if (o[key] !== undefined && o[key] !== null) sampling[key] = number(o[key], `options.${key}`);
  if (o.seed !== undefined && o.seed !== null) {
    if (!Number.isInteger(o.seed)) throw bad("options.seed", "options.seed must be an integer");
    sampling.seed = o.seed as number;
  }
  if (o.num_predict !== undefined && o.num_predict !== null) {
    if (!Number.isInteger(o.num_predict)) throw bad("options.num_predict", "options.num_predict must be an integer");
    if ((o.num_predict as number) > 0) sampling.max_tokens = o.num_predict as number;
  }
  if (o.stop !== undefined && o.stop !== null) {
    const stop = typeof o.stop === "string" ? [o.stop] : o.stop;
    if (!Array.isArray(stop) || !stop.every((s) => typeof s === "string")) throw bad("options.stop", "options.stop must be a list of strings");
    if (stop.length) sampling.stop = stop;
  }
  return sampling;
}

/** `format`: `"json"` is a JSON object answer, a schema is structured output (OpenAI's json_schema, Anthropic's output_config.format). */
export function responseFormatOf(format: unknown): ResponseFormat | undefined {
  if (format === undefined || format === null || format === "") return undefined;
  if (format === "json") return { type: "json_object" };
  if (typeof format === "object" && !Array.isArray(format)) return { type: "json_schema", json_schema: { name: "output", schema: format as Record<string, unknown> } };
  throw bad("format", 'format must be "json" or a JSON schema object');
}

/** Thinking budgets for Ollama's levels; `true` is medium. */
const THINK_BUDGETS = { low: 1024, medium: 4096, high: 16_384 } as const;
/** The least budget Anthropic takes (the canonical schema's minimum). */
const MIN_THINK_BUDGET = 1024;

/**
 * `think` as a canonical thinking budget, below the answer's token limit (the upstream needs room
 * for the answer too). 400 when the model takes no thinking, as Ollama answers it.
 */
export function thinkingOf(think: unknown, model: Model, name: string, maxTokens: number | undefined): ChatInput["thinking"] {
  if (think === undefined || think === null || think === false) return undefined;
  const level = think === true ? "medium" : think;
  if (typeof level !== "string" || !(level in THINK_BUDGETS)) throw bad("think", 'think must be true, false, "low", "medium" or "high"');
  if (!capabilitiesOf(model).includes("thinking")) throw invalidField("think", "unsupported", `"${name}" does not support thinking`);
  const ceiling = maxTokens ?? model.maxOutputTokens ?? undefined;
  const budget = Math.min(THINK_BUDGETS[level as keyof typeof THINK_BUDGETS], ceiling === undefined ? Infinity : ceiling - 1);
  if (budget < MIN_THINK_BUDGET) throw bad("options.num_predict", `thinking needs at least ${MIN_THINK_BUDGET} tokens besides the answer: set options.num_predict above ${MIN_THINK_BUDGET}`);
  return { budget_tokens: budget };
}

/** `keep_alive` is about keeping a local model in memory: checked, then ignored. True when it asks to unload (0). */
export function unloads(keepAlive: unknown): boolean {
  if (keepAlive === undefined || keepAlive === null) return false;
  if (typeof keepAlive !== "string" && typeof keepAlive !== "number") throw bad("keep_alive", 'keep_alive must be a duration ("5m") or a number of seconds');
  return keepAlive === 0 || keepAlive === "0" || keepAlive === "0s";
}

/** The `stream` flag: Ollama streams unless told `false`. */
export function streams(stream: unknown): boolean {
  if (stream === undefined || stream === null) return true;
  if (typeof stream !== "boolean") throw bad("stream", "stream must be a boolean");
  return stream;
}

/** A generation request checked as far as it can be without its model. */
export type OllamaRequest = { name: unknown; stream: boolean; unload: boolean; body: Record<string, any> };

export const requestOf = (body: Record<string, any>): OllamaRequest => ({ name: body.model, stream: streams(body.stream), unload: unloads(body.keep_alive), body });

/** `format` and `think` onto a chat input (both endpoints take them for a chat model). */
export function addOutputControls(input: ChatInput, body: Record<string, any>, model: Model, name: string): ChatInput {
  const format = responseFormatOf(body.format);
  if (format) input.response_format = format;
  const thinking = thinkingOf(body.think, model, name, input.max_tokens);
  if (thinking) input.thinking = thinking;
  return input;
}

/** The fields both generation endpoints take besides their own. */
export const SHARED_FIELDS = ["model", "stream", "format", "options", "keep_alive", "think", "top_logprobs"];
/** Both endpoints: token log probabilities are not rendered in Ollama's shape by any upstream adapter. */
export const SHARED_REFUSED: Record<string, string> = { logprobs: "logprobs are not supported on the Ollama API of this gateway." };
