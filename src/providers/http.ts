/**
 * HTTP to upstreams, shared by the adapters: one request with its failures classified
 * (connection, timeout, status), and a server-sent-events reader that enforces the stream
 * timeouts (headers, first content, idle between events) and tolerates what real servers send:
 * CRLF, comments, a missing final blank line, no `[DONE]`. Answers and streams are read up to a
 * size limit, so a runaway upstream costs a failed call, not the process's memory. Adapters never
 * retry (the router does), so nothing here loops.
 */
import { linkedSignal } from "../abort";
import { classifyStatus, ProviderError, retryAfterMs, type FailureClass } from "./errors";

const ERROR_BODY_LIMIT = 64 * 1024;
/** For calls that are not given one (polls of a job already submitted): the configured default. */
const DEFAULT_ANSWER_MAX_BYTES = 64 << 20;

export type UpstreamRequest = {
  url: string;
  method?: string;
  headers: Record<string, string>;
  /** JSON, or a FormData sent as multipart/form-data. */
  body?: unknown;
  signal: AbortSignal;
  /** Longest wait for the response headers (streams: the server answers headers at once). */
  headersMs?: number;
  /** The message of an error body, in the upstream's own shape. */
  errorMessage: (body: unknown) => string | undefined;
  /** What an error body says that its status does not: a class of its own (Google's 400 for a bad key), a retry delay in the body. */
  errorHints?: (status: number, body: unknown) => ErrorHints;
};

export type ErrorHints = { failure?: FailureClass; retryAfterMs?: number };

/** Aborts on the caller's signal or after `ms`; tells the two apart afterwards. */
function withTimeout(signal: AbortSignal, ms: number | undefined) {
  if (!ms) return { signal, timedOut: () => false, dispose() {} };
  return linkedSignal([signal], ms, () => new ProviderError("timeout", `no answer within ${ms} ms`));
}

/** Sends the request; resolves with a 2xx response, or throws a ProviderError (or the caller's abort reason). */
export async function send(request: UpstreamRequest): Promise<Response> {
  const limit = withTimeout(request.signal, request.headersMs);
  let response: Response;
  try {
    // A form goes as multipart (fetch writes its boundary); anything else as JSON.
    const form = request.body instanceof FormData;
    response = await fetch(request.url, {
      method: request.method ?? "POST",
      headers: request.body === undefined || form ? request.headers : { "content-type": "application/json", ...request.headers },
      body: request.body === undefined ? undefined : form ? (request.body as FormData) : JSON.stringify(request.body),
      signal: limit.signal,
      redirect: "error",
    });
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason;
    if (limit.timedOut()) throw new ProviderError("timeout", `no response headers within ${request.headersMs} ms`);
    if (error instanceof ProviderError) throw error;
    throw new ProviderError("connection", `could not reach the provider (${(error as Error).message})`);
  } finally {
    limit.dispose();
  }
  if (response.ok) return response;
  throw await statusError(response, request.errorMessage, request.errorHints);
}

async function statusError(response: Response, errorMessage: UpstreamRequest["errorMessage"], errorHints: UpstreamRequest["errorHints"]): Promise<ProviderError> {
  let text = "";
  try {
    text = (await response.text()).slice(0, ERROR_BODY_LIMIT);
  } catch {
    // the body was cut: the status says enough
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const message = (body === undefined ? undefined : errorMessage(body)) || text.trim().slice(0, 300) || `HTTP ${response.status}`;
  const hints = body === undefined ? {} : (errorHints?.(response.status, body) ?? {});
  return new ProviderError(hints.failure ?? classifyStatus(response.status, message), `HTTP ${response.status}: ${message}`, {
    status: response.status,
    retryAfterMs: retryAfterMs(response.headers) ?? hints.retryAfterMs,
  });
}

export type ReadLimits = { signal: AbortSignal; maxAnswerBytes?: number };

const tooLarge = (limit: number) => new ProviderError("server", `the answer is larger than the gateway's limit of ${limit} bytes`);

/** The whole body as text, refused (and the rest not read) once it passes the limit. */
async function boundedText(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(limit);
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads a JSON body; a body that is not JSON, or too large, is the server's failure. */
export async function readJson(response: Response, limits: ReadLimits): Promise<any> {
  const { signal } = limits;
  let text: string;
  try {
    text = await boundedText(response, limits.maxAnswerBytes ?? DEFAULT_ANSWER_MAX_BYTES);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (error instanceof ProviderError) throw error;
    throw new ProviderError("connection", `the answer was cut (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("server", `the answer is not JSON: ${text.slice(0, 200)}`);
  }
}

export type SseEvent = { event?: string; data: string };

export type StreamLimits = {
  signal: AbortSignal;
  /** The most bytes the whole stream may carry (the call's maxAnswerBytes). */
  maxBytes: number;
  /** The longest wait for the next event, asked before every read: first-content or idle timeout. */
  waitMs: () => number | undefined;
};

/**
 * The events of an SSE body. A wait longer than `waitMs()` for the next data event is a timeout
 * (comments such as keep-alives do not count as progress); a body cut mid-stream is a
 * connection failure; more than `maxBytes` in all is the server's failure; the end of the body
 * ends the iteration, `[DONE]` or not.
 */
export async function* sseEvents(response: Response, limits: StreamLimits): AsyncGenerator<SseEvent> {
  const reader = response.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  let lastEventAt = Date.now();
  let size = 0;
  try {
    for (;;) {
      const limit = limits.waitMs();
      const chunk = await readWithin(reader, limit === undefined ? undefined : lastEventAt + limit - Date.now(), limits.signal);
      if (chunk.done) break;
      size += chunk.value.byteLength;
      if (size > limits.maxBytes) throw tooLarge(limits.maxBytes);
      buffer += decoder.decode(chunk.value, { stream: true });
      let newline: number;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (data.length > 0) {
            lastEventAt = Date.now();
            yield { event, data: data.join("\n") };
          }
          event = undefined;
          data = [];
        } else if (line.startsWith(":")) {
          continue; // a comment: keep-alive or progress note
        } else {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") data.push(value);
          else if (field === "event") event = value;
        }
      }
    }
    const tail = buffer.replace(/\r$/, "");
    if (tail.startsWith("data:")) data.push(tail.slice(5).replace(/^ /, ""));
    if (data.length > 0) yield { event, data: data.join("\n") }; // the last event lacked its blank line
  } finally {
    reader.cancel().catch(() => {});
  }
}

async function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number | undefined, signal: AbortSignal) {
  if (signal.aborted) throw signal.reason;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (ms !== undefined) timer = setTimeout(() => reject(new ProviderError("timeout", `the stream stalled for ${Math.round(ms)} ms`)), Math.max(0, ms));
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([reader.read(), stop]);
  } catch (error) {
    if (error instanceof ProviderError || signal.aborted) throw error;
    throw new ProviderError("connection", `the stream was cut (${(error as Error).message})`);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort!);
  }
}

/** Parses one SSE data payload; a payload that is not JSON is the server's failure. */
export function parseEventData(data: string): any {
  try {
    return JSON.parse(data);
  } catch {
    throw new ProviderError("server", `a stream event is not JSON: ${data.slice(0, 200)}`);
  }
}

/** `base` + `path` with exactly one slash between. */
export const joinUrl = (base: string, path: string) => `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
