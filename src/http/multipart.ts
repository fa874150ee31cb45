/**
 * A streaming reader of `multipart/form-data` bodies (RFC 7578): parts come out one at a time and
 * a part's bytes as they arrive, so a 512 MiB upload is never held in memory whole (Bun's own
 * `formData()` buffers the body). Only what an upload form needs: `Content-Disposition` with
 * `name` and `filename`, and `Content-Type`.
 */
import { invalidField } from "../errors";

export type PartHeaders = { name: string; filename: string | null; contentType: string | null };

export type MultipartEvent = { type: "part"; part: PartHeaders } | { type: "data"; bytes: Uint8Array } | { type: "end" };

/** Part headers longer than this are refused (a form's are a few hundred bytes). */
const MAX_HEADER_BYTES = 16 * 1024;
const HEADER_END = Buffer.from("\r\n\r\n");

const malformed = (why: string) => invalidField("body", "invalid_format", `The multipart body is malformed: ${why}.`);

/** The boundary of a `multipart/form-data` Content-Type, or null for another type. */
export function boundaryOf(contentType: string | null | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match ? (match[1] ?? match[2]!) : null;
}

function parseHeaders(text: string): PartHeaders {
  let disposition = "";
  let contentType: string | null = null;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") contentType = value;
  }
  if (!/^form-data\b/i.test(disposition)) throw malformed("a part has no Content-Disposition: form-data");
  const param = (key: string) => {
    const m = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(disposition) ?? new RegExp(`;\\s*${key}=([^;\\s]+)`, "i").exec(disposition);
    return m ? m[1]!.replace(/\\(.)/g, "$1") : null;
  };
  const name = param("name");
  if (name === null) throw malformed("a part has no name");
  return { name, filename: param("filename"), contentType };
}

/**
 * The body's parts in order: a `part` event, its bytes in `data` events, then `end`. Throws 400
 * (`body`) on a body that ends before its closing boundary or has unreadable part headers.
 */
export async function* readMultipart(body: ReadableStream<Uint8Array>, boundary: string): AsyncGenerator<MultipartEvent> {
  const first = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let state: "preamble" | "boundary" | "headers" | "body" | "done" = "preamble";
  let buf: Buffer = Buffer.alloc(0);
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    if (state === "done") continue; // the epilogue is ignored
    buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (;;) {
      if (state === "preamble") {
        const at = buf.indexOf(first);
        if (at === -1) {
          buf = buf.subarray(Math.max(0, buf.length - first.length + 1));
          break;
        }
        buf = buf.subarray(at + first.length);
        state = "boundary";
      } else if (state === "boundary") {
        if (buf.length < 2) break;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = "done";
          break;
        }
        const lineEnd = buf.indexOf("\r\n");
        if (lineEnd === -1) {
          if (buf.length > 256) throw malformed("a boundary line does not end");
          break;
        }
        buf = buf.subarray(lineEnd + 2); // transport padding before the CRLF is allowed
        state = "headers";
      } else if (state === "headers") {
        const end = buf.indexOf(HEADER_END);
        if (end === -1) {
          if (buf.length > MAX_HEADER_BYTES) throw malformed("part headers are too long");
          break;
        }
        yield { type: "part", part: parseHeaders(buf.subarray(0, end).toString("utf8")) };
        buf = buf.subarray(end + HEADER_END.length);
        state = "body";
      } else if (state === "body") {
        const at = buf.indexOf(delimiter);
        if (at === -1) {
          // Everything but a possible start of the delimiter is the part's.
          const safe = buf.length - delimiter.length + 1;
          if (safe > 0) {
            yield { type: "data", bytes: buf.subarray(0, safe) };
            buf = buf.subarray(safe);
          }
          break;
        }
        if (at > 0) yield { type: "data", bytes: buf.subarray(0, at) };
        yield { type: "end" };
        buf = buf.subarray(at + delimiter.length);
        state = "boundary";
      } else break;
    }
  }
  if (state !== "done") throw malformed("it ends before its closing boundary");
}
