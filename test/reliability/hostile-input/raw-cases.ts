/**
 * Bytes on a socket that are not a request any client library would send: garbage request lines,
 * broken header lines and framing, oversized headers. Bun's parser answers most of them itself,
 * without a body (docs/operations.md "Answers without a body"); what reaches the server is
 * answered in the envelope.
 */
import type { Rng } from "./prng";

export type RawCase = { name: string; bytes: Uint8Array };

const ok = (s: string) => Buffer.from(s, "latin1");

export function rawCase(rng: Rng, apiKey: string): RawCase {
  const path = rng.pick(["/healthz", "/v1/executions", "/v1/models", "/api/chat", "/v1/messages", "/v1beta/models", "/nope"]);
  const auth = `Authorization: Bearer ${apiKey}\r\n`;
  const random = () => Buffer.from(Array.from({ length: rng.int(1, 200) }, () => rng.int(0, 255)));
  const cases: (() => RawCase)[] = [
    () => ({ name: "random bytes", bytes: random() }),
    () => ({ name: "random bytes, then CRLFCRLF", bytes: Buffer.concat([random(), ok("\r\n\r\n")]) }),
    () => ({ name: "no version", bytes: ok(`GET ${path}\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "a word", bytes: ok("GARBAGE\r\n\r\n") }),
    () => ({ name: "an extra field in the request line", bytes: ok(`GET ${path} HTTP/1.1 extra\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "double spaces", bytes: ok(`GET  ${path}  HTTP/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "tabs", bytes: ok(`GET\t${path}\tHTTP/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "HTTP/1.2", bytes: ok(`GET ${path} HTTP/1.2\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "HTTP/2.0 text", bytes: ok(`GET ${path} HTTP/2.0\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "HTTP/0.9", bytes: ok(`GET ${path}\r\n\r\n`) }),
    () => ({ name: "the HTTP/2 preface", bytes: ok("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") }),
    () => ({ name: "a response as a request", bytes: ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") }),
    () => ({ name: "an unknown method", bytes: ok(`FOO ${path} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`) }),
    () => ({ name: "a lower-case method", bytes: ok(`get ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "lower-case version", bytes: ok(`GET ${path} http/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "a method of 5000 letters", bytes: ok(`${"G".repeat(5000)} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "absolute-form target", bytes: ok(`GET http://127.0.0.1${path} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`) }),
    () => ({ name: "asterisk-form target on GET", bytes: ok("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }),
    () => ({ name: "OPTIONS *", bytes: ok("OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }),
    () => ({ name: "a target without a slash", bytes: ok(`GET ${path.slice(1)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "CONNECT", bytes: ok("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\nConnection: close\r\n\r\n") }),
    () => ({ name: "a NUL in the target", bytes: ok(`GET ${path}\x00x HTTP/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "a header line without a colon", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n`) }),
    () => ({ name: "obs-fold", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "a space before the colon", bytes: ok(`GET ${path} HTTP/1.1\r\nHost : x\r\n\r\n`) }),
    () => ({ name: "a NUL in a header value", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "bare LF line ends", bytes: ok(`GET ${path} HTTP/1.1\nHost: x\n${auth.replace("\r\n", "\n")}Connection: close\n\n`) }),
    () => ({ name: "a bare CR", bytes: ok(`GET ${path} HTTP/1.1\rHost: x\r\n\r\n`) }),
    () => ({ name: "Content-Length and Transfer-Encoding", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`) }),
    () => ({ name: "a bad chunk size", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`) }),
    () => ({ name: "a chunk longer than it says", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{"a":1}\r\n0\r\n\r\n`) }),
    () => ({ name: "a chunk size of 2^64", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n`) }),
    () => ({ name: "two Content-Lengths", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 7\r\n\r\n{}`) }),
    () => ({ name: "a negative Content-Length", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -5\r\n\r\n{}`) }),
    () => ({ name: "a Content-Length of 2^70", bytes: ok(`POST ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 1180591620717411303424\r\n\r\n{}`) }),
    () => ({ name: "a body on GET", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 7\r\nConnection: close\r\n\r\n{"a":1}`) }),
    () => ({ name: "headers of 20 KiB", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${"b".repeat(20_000)}\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "headers of 70 KiB", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(70_000)}\r\nConnection: close\r\n\r\n`) }),
    () => ({ name: "headers of 300 KiB in many lines", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\n${"X-Many: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n".repeat(6000)}\r\n`) }),
    () => ({ name: "a target of 70 KiB", bytes: ok(`GET /v1/models/${"m".repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`) }),
    () => ({ name: "a header name with a space", bytes: ok(`GET ${path} HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n`) }),
    () => ({ name: "a header name of bytes", bytes: Buffer.concat([ok(`GET ${path} HTTP/1.1\r\nHost: x\r\n`), Buffer.from([0xff, 0xfe, 0x3a, 0x20, 0x76]), ok("\r\n\r\n")]) }),
    () => ({ name: "pipelined requests, the second broken", bytes: ok(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/9\r\n\r\n`) }),
    () => ({ name: "an empty line only", bytes: ok("\r\n\r\n") }),
  ];
  return rng.pick(cases)();
}
