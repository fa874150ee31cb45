/**
 * The server-sent-events response of a dialect stream: frames flushed one by one, keep-alives as
 * SSE comments (every SDK skips them), and a client that goes away abandons the execution.
 */
import type { DialectStream, StreamItem } from "./run";

const KEEP_ALIVE_MS = 5000;

/** How the frames travel: server-sent events by default; Gemini's unframed JSON-array stream keeps alive with whitespace. */
export type Framing = { contentType: string; keepAlive: string };
const SSE_FRAMING: Framing = { contentType: "text/event-stream; charset=utf-8", keepAlive: ": keep-alive\n\n" };

/**
 * `render` turns each item into frames (already `event:`/`data:` formatted); it may return none.
 * `openingLate` frames are written after the first item is rendered and before its frames.
 */
export function sseResponse(
  run: DialectStream,
  render: (item: StreamItem) => string[],
  opening: string[],
  headers: Record<string, string>,
  openingLate?: () => string[],
  framing: Framing = SSE_FRAMING,
): Response {
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      let open = true;
      const write = (frames: string[]) => {
        if (open && frames.length) controller.enqueue(encoder.encode(frames.join("")));
      };
      const keepAlive = setInterval(() => write([framing.keepAlive]), KEEP_ALIVE_MS);
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
    headers: { "content-type": framing.contentType, "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no", ...headers },
  });
}

export const dataFrame = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
export const namedFrame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
