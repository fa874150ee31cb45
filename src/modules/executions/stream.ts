/**
 * Server-sent events of one execution (docs/decisions.md "Foundation and executions engine"): `status` events with the
 * status's place in the history as `id:` (state.ts STATUS_SEQ), `output.delta` for text as it is produced, a final
 * `execution` event with the whole object, then close; `: ping` every 5 s so idle proxies and
 * Bun's idle timeout do not cut the stream. `Last-Event-ID` resumes after that sequence.
 */
import type { AppContext } from "../../context";
import type { BusEvent } from "./bus";
import { statusHistory } from "./state";
import * as store from "./store";
import { executionView } from "./view";

export const PING_INTERVAL_MS = 5000;

const frame = (event: string, data: unknown, id?: number) =>
  `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The text a finished execution produced (what its live stream sent as `output.delta`), when it has one. */
function outputText(row: store.ExecutionRow): string | null {
  const text = (row.output as { text?: unknown } | null)?.text;
  return typeof text === "string" && text.length > 0 ? text : null;
}

/**
 * `replayOutput`: an execution created finished (a response-cache hit) streams its text as one
 * `output.delta` before its end, as a live run would have; a reconnect to a finished one does not.
 */
export function executionStream(ctx: AppContext, executionId: string, lastEventId = 0, extraHeaders: Record<string, string> = {}, opts: { replayOutput?: boolean } = {}): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let lastSeq = lastEventId;
      let closed = false;
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        if (closed) return;
        const row = store.byId(ctx.db, executionId)!;
        send(frame("execution", executionView(row), lastSeq));
        closed = true;
        cleanup();
        controller.close();
      };
      const onStatus = (seq: number, status: string, at: number) => {
        if (seq <= lastSeq) return;
        lastSeq = seq;
        send(frame("status", { id: executionId, status, at: new Date(at).toISOString() }, seq));
        if (store.isTerminal(status as store.Status)) close();
      };
      const onEvent = (event: BusEvent) => {
        if (event.type === "status") onStatus(event.seq, event.status, event.at);
        else if (event.type === "stream") {
          if (event.event.type === "text_delta") send(frame("output.delta", { text: event.event.text }));
        } else close();
      };
      // Subscribe first, then replay history: nothing published in between is lost.
      const unsubscribe = ctx.bus.subscribe(executionId, onEvent);
      const ping = setInterval(() => send(": ping\n\n"), PING_INTERVAL_MS);
      cleanup = () => {
        clearInterval(ping);
        unsubscribe();
      };
      const row = store.byId(ctx.db, executionId)!;
      const replayed = opts.replayOutput && row.status === "COMPLETED" ? outputText(row) : null;
      for (const e of statusHistory(row)) {
        if (replayed !== null && store.isTerminal(e.status)) send(frame("output.delta", { text: replayed }));
        onStatus(e.seq, e.status, e.at);
      }
      if (!closed && store.isTerminal(row.status)) close();
    },
    cancel() {
      cleanup(); // the client went away
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...extraHeaders,
    },
  });
}
