/**
 * The outputs of prediction servers (Cog, Replicate) in canonical form. They answer any JSON: a
 * list of file links for an image model, a list of string pieces for a language model. Files
 * (`data:` URIs, and the https links Replicate serves for an hour) are fetched now and handed
 * to the engine as artifacts, so the caller gets files of the gateway that do not expire.
 */
import { chatOutput } from "../canonical/chat";
import { estimateTokens, type Usage } from "../canonical/usage";
import { ProviderError } from "./errors";
import { sniffImage } from "./images";
import type { Artifact, AsyncOutcome, ProviderResult } from "./types";

const TEXT_TASKS = new Set(["chat", "text-generation"]);
const FILE_LIMIT_BYTES = 150 * 1024 * 1024;

export type PredictionMetrics = { predict_time?: number; input_token_count?: number; output_token_count?: number };

const isFileString = (value: string) => value.startsWith("data:") || /^https?:\/\//.test(value);

async function fileBytes(value: string, signal: AbortSignal): Promise<Uint8Array> {
  if (value.startsWith("data:")) {
    const comma = value.indexOf(",");
    if (comma < 0) throw new ProviderError("server", "a data: URI without data");
    const meta = value.slice(5, comma);
    const data = value.slice(comma + 1);
    return new Uint8Array(meta.endsWith(";base64") ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data)));
  }
  let response: Response;
  try {
    response = await fetch(value, { signal, redirect: "follow" });
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw new ProviderError("connection", `an output file could not be fetched (${(error as Error).message})`);
  }
  if (!response.ok) throw new ProviderError("server", `an output file answered HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.byteLength > FILE_LIMIT_BYTES) throw new ProviderError("server", "an output file is larger than 150 MiB");
  return bytes;
}

async function toArtifact(value: string, index: number, signal: AbortSignal): Promise<Artifact> {
  const bytes = await fileBytes(value, signal);
  const kind = sniffImage(bytes);
  return { bytes, contentType: kind.contentType, filename: `output-${index + 1}.${kind.extension}`, meta: { format: kind.extension } };
}

/** Every file string in the output replaced by an artifact placeholder, in order. */
async function extractFiles(value: unknown, artifacts: Artifact[], signal: AbortSignal): Promise<unknown> {
  if (typeof value === "string" && isFileString(value)) {
    artifacts.push(await toArtifact(value, artifacts.length, signal));
    return { $artifact: artifacts.length - 1 };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) out.push(await extractFiles(item, artifacts, signal));
    return out;
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await extractFiles(v, artifacts, signal);
    return out;
  }
  return value;
}

/** A finished prediction's output and metrics as a canonical result for `task`. */
export async function predictionResult(task: string, input: Record<string, unknown>, output: unknown, metrics: PredictionMetrics, signal: AbortSignal): Promise<ProviderResult> {
  const seconds = typeof metrics.predict_time === "number" ? metrics.predict_time : undefined;
  if (TEXT_TASKS.has(task)) {
    const text = Array.isArray(output) ? output.map(String).join("") : typeof output === "string" ? output : JSON.stringify(output ?? "");
    const reported = typeof metrics.input_token_count === "number" && typeof metrics.output_token_count === "number";
    const usage: Usage = reported
      ? { inputTokens: metrics.input_token_count!, outputTokens: metrics.output_token_count! }
      : { inputTokens: estimateTokens(JSON.stringify(input)), outputTokens: estimateTokens(text), estimated: true };
    if (seconds !== undefined) usage.seconds = seconds;
    const result = task === "chat" ? chatOutput([{ message: { role: "assistant", content: [{ type: "text", text }] }, finish_reason: "stop" }]) : { text, finish_reason: "stop" };
    return { output: result as unknown as Record<string, unknown>, usage };
  }
  const artifacts: Artifact[] = [];
  const converted = await extractFiles(output, artifacts, signal);
  const usage: Usage = { inputTokens: 0, outputTokens: 0, ...(seconds !== undefined ? { seconds } : {}) };
  if (task === "text-to-image") {
    usage.images = artifacts.length;
    return { output: { images: artifacts.map((_, i) => ({ $artifact: i })) }, usage, artifacts };
  }
  return { output: { output: converted }, usage, artifacts };
}

export type Prediction = { id?: string; status?: string; output?: unknown; error?: unknown; metrics?: PredictionMetrics };

/** Where a prediction (Cog's or Replicate's, same statuses) stands, its output fetched when it has succeeded. */
export async function predictionOutcome(task: string, input: Record<string, unknown>, p: Prediction, signal: AbortSignal): Promise<AsyncOutcome> {
  if (p.status === "succeeded") return { state: "done", result: await predictionResult(task, input, p.output, p.metrics ?? {}, signal) };
  if (p.status === "failed") return { state: "failed", message: String(p.error ?? "the prediction failed") };
  if (p.status === "canceled") return { state: "canceled" };
  return { state: "running" };
}
