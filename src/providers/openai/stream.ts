/**
 * An OpenAI chat completions stream, folded into canonical events and a final answer. Real
 * servers differ from OpenAI: tool-call deltas without `index`, or `index` 0 repeated for calls
 * with different ids (Ollama); a first chunk without `role`; reasoning in `reasoning_content`
 * or `reasoning`; no usage chunk; no `[DONE]`. Each is normalised here.
 */
import { chatOutput, type ChatChoice, type ContentPart, type FinishReason } from "../../canonical/chat";
import type { Emit } from "../../canonical/stream";
import type { Usage } from "../../canonical/usage";
import { classifyStatus, ProviderError } from "../errors";
import { finishReason, parseArguments, usageFrom } from "./wire";

type Call = { key: string; id: string; name: string; arguments: string; part: number; started: boolean };

type ChoiceState = {
  thinking: { text: string; part: number } | null;
  text: { text: string; part: number } | null;
  calls: Call[];
  /** The wire index each call was last seen under, for deltas that name only an index. */
  byIndex: Map<number, Call>;
  finish: unknown;
  parts: number;
};

const newChoice = (): ChoiceState => ({ thinking: null, text: null, calls: [], byIndex: new Map(), finish: undefined, parts: 0 });

type WireDelta = {
  content?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: { index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[] | null;
};

export class ChatStream {
  private choices = new Map<number, ChoiceState>();
  private usage: Usage | null = null;
  done = false;
  /** A finish reason arrived: the answer is whole even if `[DONE]` never comes. */
  finished = false;

  /** Only choice 0 is streamed to the caller; other choices are kept for the final answer. */
  constructor(private emit: Emit) {}

  /** Folds one `data:` payload in; true when it carried content the caller saw. */
  push(chunk: any): boolean {
    if (chunk?.error) {
      const e = chunk.error;
      const message = typeof e === "string" ? e : String(e.message ?? "stream error");
      const status = typeof e.code === "number" ? e.code : typeof e.status === "number" ? e.status : 500;
      throw new ProviderError(classifyStatus(status, message), `stream error: ${message}`, { status });
    }
    if (chunk?.usage) this.usage = usageFrom(chunk.usage) ?? this.usage;
    let content = false;
    for (const choice of (chunk?.choices ?? []) as { index?: number; delta?: WireDelta; finish_reason?: unknown }[]) {
      const index = choice.index ?? 0;
      let state = this.choices.get(index);
      if (!state) this.choices.set(index, (state = newChoice()));
      const live = index === 0;
      if (choice.delta && this.apply(state, choice.delta, live)) content ||= live;
      if (choice.finish_reason) {
        state.finish = choice.finish_reason;
        this.finished = true;
      }
    }
    return content;
  }

  private apply(state: ChoiceState, delta: WireDelta, live: boolean): boolean {
    let content = false;
    const thinking = delta.reasoning_content ?? delta.reasoning;
    if (thinking) {
      state.thinking ??= { text: "", part: state.parts++ };
      state.thinking.text += thinking;
      if (live) this.emit({ type: "thinking_delta", index: state.thinking.part, thinking });
      content = true;
    }
    if (delta.content) {
      state.text ??= { text: "", part: state.parts++ };
      state.text.text += delta.content;
      if (live) this.emit({ type: "text_delta", index: state.text.part, text: delta.content });
      content = true;
    }
    for (const piece of delta.tool_calls ?? []) {
      const call = this.callFor(state, piece);
      if (piece.function?.name && !call.name) call.name = piece.function.name;
      const args = piece.function?.arguments ?? "";
      call.arguments += args;
      if (!call.started && call.name) {
        call.started = true;
        if (live) this.emit({ type: "tool_call_start", index: call.part, id: call.id, name: call.name });
        // Arguments that came before the name are sent with the start.
        if (live && call.arguments) this.emit({ type: "tool_call_delta", index: call.part, arguments: call.arguments });
      } else if (call.started && args && live) this.emit({ type: "tool_call_delta", index: call.part, arguments: args });
      content = true;
    }
    return content;
  }

  /** Which call a tool-call delta continues, or a new one. */
  private callFor(state: ChoiceState, piece: { index?: number; id?: string }): Call {
    const last = state.calls.at(-1);
    const atIndex = piece.index === undefined ? undefined : state.byIndex.get(piece.index);
    let call: Call | undefined;
    if (piece.id) call = state.calls.find((c) => c.id === piece.id); // the same id: always the same call
    else if (atIndex) call = atIndex;
    else if (piece.index === undefined) call = last; // no index, no id: the call in progress
    if (!call) {
      call = { key: String(state.calls.length), id: piece.id || `call_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`, name: "", arguments: "", part: state.parts++, started: false };
      state.calls.push(call);
    }
    if (piece.index !== undefined) state.byIndex.set(piece.index, call);
    return call;
  }

  /** The whole answer; usage is null when the server never sent it. */
  result(): { choices: ChatChoice[]; usage: Usage | null; output: ReturnType<typeof chatOutput> } {
    const indexes = [...this.choices.keys()].sort((a, b) => a - b);
    if (indexes.length === 0) indexes.push(0);
    const choices = indexes.map((i) => {
      const state = this.choices.get(i) ?? newChoice();
      const parts: { part: number; value: ContentPart }[] = [];
      if (state.thinking) parts.push({ part: state.thinking.part, value: { type: "thinking", thinking: state.thinking.text } });
      if (state.text) parts.push({ part: state.text.part, value: { type: "text", text: state.text.text } });
      for (const c of state.calls) parts.push({ part: c.part, value: { type: "tool_use", id: c.id, name: c.name, input: parseArguments(c.arguments) } });
      parts.sort((a, b) => a.part - b.part);
      const reason: FinishReason = finishReason(state.finish ?? undefined, state.calls.length > 0);
      return { message: { role: "assistant" as const, content: parts.map((p) => p.value) as ChatChoice["message"]["content"] }, finish_reason: reason };
    });
    return { choices, usage: this.usage, output: chatOutput(choices) };
  }
}
