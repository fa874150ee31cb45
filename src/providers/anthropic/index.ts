/**
 * The `anthropic` adapter: the Messages API (chat and text generation), non-streamed or
 * streamed with every event type (`ping`, `error`, text, tool-input JSON, thinking and its
 * signature). Usage keeps cache reads and writes apart so each is priced at its own rate.
 */
import { chatOutput, promptText, textOf, type ChatInput, type ChatOutput } from "../../canonical/chat";
import { estimateTokens, type Usage } from "../../canonical/usage";
import { ProviderError } from "../errors";
import { joinUrl, parseEventData, readJson, send, sseEvents } from "../http";
import type { ProviderAdapter, TaskCall, TaskRunner } from "../types";
import { contentFrom, errorMessage, finishReason, messagesRequest, streamError, usageFrom } from "./wire";

const API_VERSION = "2023-06-01";

function request(call: TaskCall, input: ChatInput, stream: boolean) {
  const { route } = call;
  if (!route.provider.baseUrl) throw new ProviderError("bad_request", `provider ${route.provider.id} has no base_url`);
  const extra = (route.provider.config.headers ?? {}) as Record<string, string>;
  return send({
    url: joinUrl(route.provider.baseUrl, "v1/messages"),
    headers: { "anthropic-version": String(route.provider.config.anthropic_version ?? API_VERSION), ...extra, ...(call.apiKey ? { "x-api-key": call.apiKey } : {}) },
    body: messagesRequest(input, route, stream),
    signal: call.signal,
    headersMs: stream ? route.timeouts.firstTokenMs : undefined,
    errorMessage,
  });
}

type Block = { type: string; text: string; thinking: string; signature: string; id: string; name: string; json: string };

async function streamed(call: TaskCall, input: ChatInput): Promise<{ output: ChatOutput; usage: Usage | null }> {
  const emit = call.emit!;
  const response = await request(call, input, true);
  const blocks: Block[] = [];
  let usage: Usage | null = null;
  let wire: Parameters<typeof usageFrom>[0] = {};
  let stopReason: unknown;
  let stopped = false;
  let content = false;
  const { timeouts } = call.route;
  for await (const event of sseEvents(response, { signal: call.signal, maxBytes: call.maxAnswerBytes, waitMs: () => (content ? timeouts.idleMs : timeouts.firstTokenMs) })) {
    const data = parseEventData(event.data);
    const type = data?.type ?? event.event;
    if (type === "error") throw streamError(data);
    if (type === "message_start") {
      wire = { ...data.message?.usage };
      // The real prompt count, known before any content: a client dialect reports it at once.
      if (typeof wire.input_tokens === "number") emit({ type: "usage", usage: usageFrom({ ...wire, output_tokens: 0 }) });
    } else if (type === "content_block_start") {
      const b = data.content_block ?? {};
      const started: Block = { type: b.type, text: b.text ?? "", thinking: b.thinking ?? "", signature: b.signature ?? "", id: b.id ?? "", name: b.name ?? "", json: "" };
      blocks[data.index] = started;
      if (b.type === "tool_use") {
        emit({ type: "tool_call_start", index: data.index, id: started.id, name: started.name });
        content = true;
      }
      if (b.type === "text" && started.text) emit({ type: "text_delta", index: data.index, text: started.text });
    } else if (type === "content_block_delta") {
      const b = blocks[data.index];
      if (!b) throw new ProviderError("server", `a delta for block ${data.index}, which never started`);
      const d = data.delta ?? {};
      if (d.type === "text_delta") {
        b.text += d.text;
        emit({ type: "text_delta", index: data.index, text: d.text });
      } else if (d.type === "input_json_delta") {
        b.json += d.partial_json;
        if (d.partial_json) emit({ type: "tool_call_delta", index: data.index, arguments: d.partial_json });
      } else if (d.type === "thinking_delta") {
        b.thinking += d.thinking;
        emit({ type: "thinking_delta", index: data.index, thinking: d.thinking });
      } else if (d.type === "signature_delta") {
        b.signature += d.signature;
        emit({ type: "thinking_signature", index: data.index, signature: d.signature });
        continue; // not content the caller reads
      }
      content = true;
    } else if (type === "message_delta") {
      stopReason = data.delta?.stop_reason ?? stopReason;
      wire = { ...wire, ...data.usage }; // output_tokens is cumulative; newer servers repeat the input counts here
    } else if (type === "message_stop") {
      stopped = true;
      break;
    }
  }
  if (!stopped) throw new ProviderError("connection", "the stream ended before message_stop");
  if (typeof wire.input_tokens === "number" || typeof wire.output_tokens === "number") usage = usageFrom(wire);
  const parsed = blocks.filter(Boolean).map((b) => {
    if (b.type !== "tool_use") return b;
    let input: Record<string, unknown> = {};
    try {
      input = b.json ? JSON.parse(b.json) : {};
    } catch {
      input = { _unparsed_arguments: b.json };
    }
    return { ...b, input };
  });
  const output = chatOutput([{ message: { role: "assistant", content: contentFrom(parsed as never) }, finish_reason: finishReason(stopReason) }]);
  return { output, usage };
}

async function complete(call: TaskCall, input: ChatInput): Promise<{ output: ChatOutput; usage: Usage }> {
  let result: { output: ChatOutput; usage: Usage | null };
  if (call.emit) result = await streamed(call, input);
  else {
    const body = await readJson(await request(call, input, false), call);
    if (!Array.isArray(body?.content)) throw new ProviderError("server", "the answer has no content");
    result = {
      output: chatOutput([{ message: { role: "assistant", content: contentFrom(body.content) }, finish_reason: finishReason(body.stop_reason) }]),
      usage: body.usage ? usageFrom(body.usage) : null,
    };
  }
  const usage = result.usage ?? { inputTokens: estimateTokens(promptText(input)), outputTokens: estimateTokens(result.output.text), estimated: true };
  return { output: result.output, usage };
}

const chat: TaskRunner = async (call) => complete(call, call.input as unknown as ChatInput);

const textGeneration: TaskRunner = async (call) => {
  const { prompt, text, ...rest } = call.input as { prompt?: string; text?: string } & Record<string, unknown>;
  const { output, usage } = await complete(call, { ...rest, messages: [{ role: "user", content: String(prompt ?? text ?? "") }] } as ChatInput);
  return { output: { text: textOf(output.message.content), finish_reason: output.finish_reason }, usage };
};

export const anthropicAdapter: ProviderAdapter = {
  kind: "anthropic",
  idempotent: false,
  tasks: { chat, "text-generation": textGeneration },
};
