/**
 * A started execution stream as `:streamGenerateContent` answers it: with `?alt=sse` (what
 * `@google/genai` asks for) one `data:` event per GenerateContentResponse chunk; without it the
 * JSON array Google serves by default, `[{…},\r\n{…}]`, kept alive with whitespace. An error after
 * content is one more element `{"error":{…}}`, which the client raises as ApiError.
 */
import type { ChatOutput } from "../../canonical/chat";
import { errorOf, type DialectStream, type StreamItem } from "../run";
import { dataFrame, framedResponse, sseResponse } from "../sse";
import { streamedError } from "./errors";
import { ChunkWriter, type RenderOptions } from "./response";

const JSON_ARRAY = { contentType: "application/json; charset=utf-8", keepAlive: "\n", headers: {} };

export function generateStream(stream: DialectStream, opts: RenderOptions, sse: boolean, requestId: string): Response {
  const writer = new ChunkWriter(opts);
  const chunksOf = (item: StreamItem): unknown[] => {
    if (item.kind === "event") return writer.event(item.event);
    if (item.row.status !== "COMPLETED") return [streamedError(errorOf(item.row), requestId)];
    return [writer.end((item.row.output as unknown as ChatOutput).finish_reason, item.row.usage)];
  };
  if (sse) return sseResponse(stream, (item) => chunksOf(item).map(dataFrame), [], {});
  let first = true;
  const element = (chunk: unknown) => {
    const text = `${first ? "" : ",\r\n"}${JSON.stringify(chunk)}`;
    first = false;
    return text;
  };
  return framedResponse(stream, (item) => [...chunksOf(item).map(element), ...(item.kind === "end" ? ["]"] : [])], ["["], JSON_ARRAY);
}
