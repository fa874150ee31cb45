/**
 * Canonical stream events as the Responses API's event sequence, which the `openai` SDK's
 * accumulator checks strictly: `response.created` first, `response.in_progress`, then per part
 * `output_item.added` (and `content_part.added` for text and reasoning) before its deltas, its
 * `.done` events when the next part starts or the stream ends, and `response.completed`
 * (`response.incomplete` when cut by the token limit, `response.failed` on an error after
 * content) with the whole response. `sequence_number` increases by one on every event.
 */
import type { StreamEvent } from "../../../canonical/stream";
import type { ExecutionRow } from "../../../modules/executions/store";
import { namedFrame } from "../../sse";
import { itemId, outputTextPart, outputItems, responseOf, type ResponseContext } from "./render";

type OpenPart =
  | { kind: "text"; index: number; outputIndex: number; id: string; text: string }
  | { kind: "reasoning"; index: number; outputIndex: number; id: string; text: string; signature?: string }
  | { kind: "call"; index: number; outputIndex: number; id: string; callId: string; name: string; arguments: string };

export class ResponseEventWriter {
  private sequence = 0;
  private open: OpenPart | null = null;
  private done: unknown[] = [];
  private closed = new Set<number>();

  /** `startingAfter`: events up to this sequence number are left out (a client resuming a retrieved stream). */
  constructor(
    private pending: ExecutionRow,
    private context: ResponseContext,
    private startingAfter = -1,
  ) {}

  private frame(type: string, fields: Record<string, unknown>) {
    const sequence = this.sequence++;
    return sequence <= this.startingAfter ? "" : namedFrame(type, { type, sequence_number: sequence, ...fields });
  }

  /** `response.created` and `response.in_progress`, before any content. */
  opening(): string[] {
    const response = responseOf({ ...this.pending, status: "PROCESSING" }, this.context, []);
    return [this.frame("response.created", { response: { ...response, status: "in_progress" } }), this.frame("response.in_progress", { response: { ...response, status: "in_progress" } })];
  }

  private close(): string[] {
    const part = this.open;
    if (!part) return [];
    this.open = null;
    this.closed.add(part.index);
    const at = { item_id: part.id, output_index: part.outputIndex };
    let item: unknown;
    const frames: string[] = [];
    if (part.kind === "text") {
      const content = outputTextPart(part.text);
      item = { id: part.id, type: "message", status: "completed", role: "assistant", content: [content] };
      frames.push(this.frame("response.output_text.done", { ...at, content_index: 0, text: part.text, logprobs: [] }), this.frame("response.content_part.done", { ...at, content_index: 0, part: content }));
    } else if (part.kind === "reasoning") {
      const content = { type: "reasoning_text", text: part.text };
      item = { id: part.id, type: "reasoning", summary: [], content: [content], ...(part.signature ? { encrypted_content: part.signature } : {}) };
      frames.push(this.frame("response.reasoning_text.done", { ...at, content_index: 0, text: part.text }), this.frame("response.content_part.done", { ...at, content_index: 0, part: content }));
    } else {
      item = { id: part.id, type: "function_call", status: "completed", call_id: part.callId, name: part.name, arguments: part.arguments };
      frames.push(this.frame("response.function_call_arguments.done", { ...at, name: part.name, arguments: part.arguments }));
    }
    frames.push(this.frame("response.output_item.done", { output_index: part.outputIndex, item }));
    this.done.push(item);
    return frames;
  }

  /** Starts the item of a part when it is not the open one; null when it cannot be shown now. */
  private start(event: StreamEvent & { index: number }): string[] | null {
    if (this.open?.index === event.index) return [];
    // A late delta of a part already closed, or arguments of a call never started: the final response has them.
    if (this.closed.has(event.index) || event.type === "tool_call_delta") return null;
    const frames = this.close();
    const outputIndex = this.done.length;
    if (event.type === "text_delta") {
      const id = itemId(this.pending.id, "msg", event.index);
      this.open = { kind: "text", index: event.index, outputIndex, id, text: "" };
      frames.push(
        this.frame("response.output_item.added", { output_index: outputIndex, item: { id, type: "message", status: "in_progress", role: "assistant", content: [] } }),
        this.frame("response.content_part.added", { item_id: id, output_index: outputIndex, content_index: 0, part: outputTextPart("") }),
      );
    } else if (event.type === "thinking_delta" || event.type === "thinking_signature") {
      const id = itemId(this.pending.id, "rs", event.index);
      this.open = { kind: "reasoning", index: event.index, outputIndex, id, text: "" };
      frames.push(
        this.frame("response.output_item.added", { output_index: outputIndex, item: { id, type: "reasoning", summary: [], content: [] } }),
        this.frame("response.content_part.added", { item_id: id, output_index: outputIndex, content_index: 0, part: { type: "reasoning_text", text: "" } }),
      );
    } else if (event.type === "tool_call_start") {
      const id = itemId(this.pending.id, "fc", event.index);
      this.open = { kind: "call", index: event.index, outputIndex, id, callId: event.id, name: event.name, arguments: "" };
      frames.push(this.frame("response.output_item.added", { output_index: outputIndex, item: { id, type: "function_call", status: "in_progress", call_id: event.id, name: event.name, arguments: "" } }));
    }
    return frames;
  }

  event(event: StreamEvent): string[] {
    if (event.type === "usage" || event.type === "finish") return [];
    const frames = this.start(event);
    const part = this.open;
    if (frames === null || !part) return [];
    const at = { item_id: part.id, output_index: part.outputIndex };
    if (event.type === "text_delta" && part.kind === "text") {
      part.text += event.text;
      frames.push(this.frame("response.output_text.delta", { ...at, content_index: 0, delta: event.text, logprobs: [] }));
    } else if (event.type === "thinking_delta" && part.kind === "reasoning") {
      part.text += event.thinking;
      frames.push(this.frame("response.reasoning_text.delta", { ...at, content_index: 0, delta: event.thinking }));
    } else if (event.type === "thinking_signature" && part.kind === "reasoning") part.signature = event.signature;
    else if (event.type === "tool_call_delta" && part.kind === "call") {
      part.arguments += event.arguments;
      frames.push(this.frame("response.function_call_arguments.delta", { ...at, delta: event.arguments }));
    }
    return frames;
  }

  /** The end: the open item closed, then the finished response (completed, incomplete or failed). */
  end(row: ExecutionRow): string[] {
    const frames = this.close();
    if (row.status === "COMPLETED") {
      const response = responseOf(row, this.context, outputItems(row));
      return [...frames, this.frame(response.status === "incomplete" ? "response.incomplete" : "response.completed", { response })];
    }
    // Failed or cancelled after content: what was streamed, and the error.
    const response = responseOf(row, this.context, this.done);
    return [...frames, this.frame("response.failed", { response: { ...response, status: "failed", error: response.error ?? { code: "server_error", message: row.errorMessage ?? `The response was ${row.status.toLowerCase()}.` } } })];
  }
}
