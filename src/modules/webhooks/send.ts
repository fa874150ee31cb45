/**
 * One HTTP attempt of a webhook: the signed request, a time limit covering DNS, connect, answer
 * and body, no redirects followed, and the outcome as a value (only a shutdown throws).
 */
import { linkedSignal } from "../../abort";
import { VERSION } from "../../version";
import { signatureHeaders } from "./signing";
import { checkTarget, pinnedRequest } from "./targets";

export type Message = { id: string; type: string; body: string };

export type Outcome = {
  /** The receiver's HTTP status; null when no answer came (refused, DNS, connection, timeout). */
  statusCode: number | null;
  latencyMs: number;
  /** Why the attempt failed; null on a 2xx. */
  error: string | null;
  /** From the receiver's Retry-After header, when it sent one. */
  retryAfterMs: number | null;
};

export type SendOptions = {
  secrets: readonly string[];
  timeoutMs: number;
  allowPrivate: boolean;
  /** Unix ms of the attempt; its seconds go into the signed timestamp. */
  now: number;
  /** Aborts on shutdown: then send() throws and nothing is recorded. */
  signal?: AbortSignal;
};

const SNIPPET_BYTES = 512;

export const isSuccess = (statusCode: number | null) => statusCode !== null && statusCode >= 200 && statusCode < 300;

/** The exact bytes every attempt of an event sends (the signature covers these). */
export const messageOf = (event: { id: string; type: string; createdAt: number; data: unknown }): Message => ({
  id: event.id,
  type: event.type,
  body: JSON.stringify({ id: event.id, type: event.type, created_at: new Date(event.createdAt).toISOString(), data: event.data }),
});

/** RFC 9110 Retry-After: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (!value) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The first bytes of the answer, for the delivery log; the rest is not read. */
async function snippetOf(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < SNIPPET_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel();
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, SNIPPET_BYTES)).replace(/\s+/g, " ").trim();
}

function describeFailure(response: Response, snippet: string): string {
  if (response.status >= 300 && response.status < 400)
    return `The receiver answered ${response.status} (redirects are not followed${response.headers.get("location") ? `; Location: ${response.headers.get("location")}` : ""}).`;
  return `The receiver answered ${response.status}${snippet ? `: ${snippet}` : "."}`;
}

export async function send(url: string, message: Message, opts: SendOptions): Promise<Outcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const noAnswer = (error: string): Outcome => ({ statusCode: null, latencyMs: elapsed(), error, retryAfterMs: null });
  let request: { url: string; host?: string } = { url };
  if (!opts.allowPrivate) {
    const target = await checkTarget(new URL(url), opts.timeoutMs);
    if (!target.ok) return noAnswer(target.resolved ? `Refused: ${target.reason} Set MODELROUTE_WEBHOOK_ALLOW_PRIVATE=true to allow it.` : target.reason);
    request = pinnedRequest(new URL(url), target.address);
  }
  const limit = linkedSignal([opts.signal], Math.max(1, opts.timeoutMs - elapsed()));
  const signal = limit.signal;
  const timestamp = Math.floor(opts.now / 1000);
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": `ModelRoute-Webhooks/${VERSION}`,
        ...(request.host ? { host: request.host } : {}),
        ...signatureHeaders(opts.secrets, message, timestamp),
      },
      body: message.body,
      redirect: "manual",
      signal,
    });
    const snippet = await snippetOf(response);
    return {
      statusCode: response.status,
      latencyMs: elapsed(),
      error: isSuccess(response.status) ? null : describeFailure(response, snippet),
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), opts.now),
    };
  } catch (error) {
    if (opts.signal?.aborted) throw error; // shutting down: the attempt is resumed after restart
    if (limit.timedOut()) return noAnswer(`Timed out after ${opts.timeoutMs} ms.`);
    return noAnswer(`Could not connect: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    limit.dispose();
  }
}
