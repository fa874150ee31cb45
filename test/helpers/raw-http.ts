/** Raw HTTP/1.x over a TCP socket, for requests fetch() will not send (a broken Host, no Host, bad framing, bytes that are not UTF-8). */
import { connect } from "node:net";

export type RawAnswer = { status: number; head: string; body: string; closed: boolean };

/** A chunked body's payload; what does not parse as chunks is returned as it came. */
function unchunk(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf("\r\n", at);
    if (lineEnd === -1) return parts.length ? Buffer.concat(parts) : bytes;
    const size = parseInt(bytes.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) return bytes;
    if (size === 0) return Buffer.concat(parts);
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/**
 * Sends `raw` as is and reads until the server closes the connection or `timeoutMs` passes. The
 * body is the first answer's (by its Content-Length, or its chunks decoded).
 */
export function rawRequest(port: number, raw: string | Uint8Array, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const split = bytes.indexOf("\r\n\r\n");
      const head = (split === -1 ? bytes : bytes.subarray(0, split)).toString("utf8");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      let body: Buffer = split === -1 ? Buffer.alloc(0) : bytes.subarray(split + 4);
      // The first answer's body only: a server may answer bytes left over as another request.
      const length = /^content-length:\s*(\d+)\s*$/im.exec(head)?.[1];
      if (length !== undefined) body = body.subarray(0, Number(length));
      else if (/^transfer-encoding:\s*chunked\s*$/im.test(head)) body = unchunk(body);
      resolve({ status, head, body: body.toString("utf8"), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("end", () => finish(true));
    socket.on("error", (error) => (chunks.length ? finish(true) : reject(error)));
    socket.write(raw);
  });
}

/** The value of a header in a raw head, case-insensitively, or null. */
export const headerOf = (head: string, name: string) =>
  new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim() ?? null;
