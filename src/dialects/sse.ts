/**
 * The streamed response of a dialect stream: frames flushed one by one, optional keep-alives,
 * and a client that goes away abandons the execution. Server-sent events (OpenAI, Anthropic,
 * OpenRouter, Gemini with `alt=sse`) keep alive with SSE comments, which every SDK skips; NDJSON
 * (Ollama) has no comment syntax, so it sends none; Gemini's JSON-array stream sends whitespace.
 */
import type { DialectStream, StreamItem } from "./run";

const KEEP_ALIVE_MS = 5000;

export type FramedStream = {
  contentType: string;
  /** Written every few seconds while the stream is open; none when the framing has no comment. */
  keepAlive?: string;
  headers: Record<string, string>;
};

/**
 * `render` turns each item into frames (already framed for the wire); it may return none.
 * `openingLate` frames are written after the first item is rendered and before its frames.
 */
export function framedResponse(run: DialectStream, render: (item: StreamItem) => string[], opening: string[], framing: FramedStream, openingLate?: () => string[]): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let open = true;
      const write = (frames: string[]) => {
        if (open && frames.length) controller.enqueue(encoder.encode(frames.join("")));
      };
      const keepAlive = framing.keepAlive ? setInterval(() => write([framing.keepAlive!]), KEEP_ALIVE_MS) : undefined;
      stop = () => {
        open = false;
        clearInterval(keepAlive);
        run.abandon();
      };
      write(opening);
      let opened = !openingLate;
      try {
        for await (const item of run.items) {
          // Frames rendered now (the first item may carry the upstream's input count) go first.
          const frames = render(item);
          if (!opened) {
            write(openingLate!());
            opened = true;
          }
          write(frames);
        }
      } finally {
        clearInterval(keepAlive);
        if (open) {
          open = false;
          controller.close();
        }
      }
    },
    cancel() {
      stop(); // the client went away
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": framing.contentType, "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no", ...framing.headers },
  });
}

/** A server-sent-events stream; see `framedResponse`. */
export const sseResponse = (run: DialectStream, render: (item: StreamItem) => string[], opening: string[], headers: Record<string, string>, openingLate?: () => string[]): Response =>
  framedResponse(run, render, opening, { contentType: "text/event-stream; charset=utf-8", keepAlive: ": keep-alive\n\n", headers }, openingLate);

export const dataFrame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
export const namedFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
