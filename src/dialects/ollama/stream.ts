/**
 * A dialect stream as Ollama's NDJSON (`application/x-ndjson`): one JSON object per line, text
 * and thinking as they come, tool calls whole (Ollama sends a call with its arguments as an
 * object, never in pieces) in a line before the last, and a last line with `done: true` and the
 * figures (answers.ts). A failure after the first line is a line `{"error":"…"}`, which the
 * `ollama` client raises. NDJSON has no comments, so no keep-alives are sent.
 */
import { isContentEvent } from "../../canonical/stream";
import { iso } from "../../time";
import { errorOf, type DialectStream, type StreamItem } from "../run";
import { framedResponse } from "../sse";
import { finalLineOf, streamedToolCalls, type Shape } from "./answers";

const line = (value: unknown) => `${JSON.stringify(value)}\n`;

type Part = { content: string; thinking?: string; tool_calls?: unknown[] };

class LineWriter {
  private firstContentAt: number | undefined;
  constructor(
    private shape: Shape,
    private name: string,
    private now: () => number,
  ) {}

  private chunk(part: Part) {
    const head = { model: this.name, created_at: iso(this.now()) };
    if (this.shape === "chat") return { ...head, message: { role: "assistant", ...part }, done: false };
    return { ...head, response: part.content, ...(part.thinking ? { thinking: part.thinking } : {}), done: false };
  }

  render(item: StreamItem): string[] {
    if (item.kind === "end") {
      const row = item.row;
      if (row.status !== "COMPLETED") return [line({ error: errorOf(row).message })];
      const calls = this.shape === "chat" ? streamedToolCalls(row) : [];
      return [...(calls.length ? [line(this.chunk({ content: "", tool_calls: calls }))] : []), line(finalLineOf(this.shape, this.name, row, this.firstContentAt))];
    }
    const event = item.event;
    if (isContentEvent(event)) this.firstContentAt ??= this.now();
    if (event.type === "text_delta") return [line(this.chunk({ content: event.text }))];
    if (event.type === "thinking_delta") return [line(this.chunk({ content: "", thinking: event.thinking }))];
    return []; // tool calls are sent whole at the end; usage is in the last line
  }
}

/** The NDJSON response of a started stream; `name` is the model as the client named it. */
export function ndjsonResponse(stream: DialectStream, shape: Shape, name: string, now: () => number, headers: Record<string, string>): Response {
  const writer = new LineWriter(shape, name, now);
  return framedResponse(stream, (item) => writer.render(item), [], { contentType: "application/x-ndjson", headers });
}

/** One line as a whole NDJSON answer (a load or unload with nothing to generate). */
export const ndjsonLine = (value: unknown, headers: Record<string, string>) => new Response(line(value), { status: 200, headers: { "content-type": "application/x-ndjson", ...headers } });
