/** One call to the OpenAI-compatible server of a route: its base URL, its key and extra headers, its error shape. */
import { ProviderError } from "../errors";
import { joinUrl, send } from "../http";
import type { TaskCall } from "../types";
import { errorMessage } from "./wire";

function baseUrlOf(call: TaskCall): string {
  if (!call.route.provider.baseUrl) throw new ProviderError("bad_request", `provider ${call.route.provider.id} has no base_url`);
  return call.route.provider.baseUrl;
}

function headersOf(call: TaskCall): Record<string, string> {
  const extra = (call.route.provider.config.headers ?? {}) as Record<string, string>;
  return { ...extra, ...(call.apiKey ? { authorization: `Bearer ${call.apiKey}` } : {}) };
}

/** POSTs `body` (JSON, or a FormData as multipart) to `path` under the provider's base URL. */
export const post = (call: TaskCall, path: string, body: unknown, headersMs?: number) =>
  send({ url: joinUrl(baseUrlOf(call), path), headers: headersOf(call), body, signal: call.signal, headersMs, errorMessage });
