/** Raw HTTP/1.x over a TCP socket, for requests fetch() will not send (a broken Host, no Host, bad framing). */
import { connect } from "node:net";

export type RawAnswer = { status: number; head: string; body: string; closed: boolean };

/** Sends `raw` as is and reads until the server closes the connection or `timeoutMs` passes. */
export function rawRequest(port: number, raw: string, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = split === -1 ? text : text.slice(0, split);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      resolve({ status, head, body: split === -1 ? "" : text.slice(split + 4), closed });
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
