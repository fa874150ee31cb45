/**
 * One `Range: bytes=…` request against a file of known size (RFC 9110 §14). Several ranges, other
 * units or bad syntax are ignored (the whole file is sent), as the RFC allows; a range that
 * starts past the end is 416.
 */
import type { ByteRange } from "../../storage";

export type RangeDecision = { kind: "full" } | { kind: "partial"; range: ByteRange } | { kind: "unsatisfiable" };

const SINGLE = /^bytes=(\d*)-(\d*)$/;

export function decideRange(header: string | undefined, sizeBytes: number): RangeDecision {
  const match = header ? SINGLE.exec(header.trim()) : null;
  if (!match || (match[1] === "" && match[2] === "")) return { kind: "full" };
  const [, first, last] = match;
  if (first === "") {
    const suffix = Number(last); // bytes=-N: the last N bytes
    if (suffix === 0) return { kind: "unsatisfiable" };
    return { kind: "partial", range: { start: Math.max(0, sizeBytes - suffix), end: sizeBytes - 1 } };
  }
  const start = Number(first);
  if (last !== "" && Number(last) < start) return { kind: "full" }; // invalid syntax: ignore
  if (start >= sizeBytes) return { kind: "unsatisfiable" };
  const end = last === "" ? sizeBytes - 1 : Math.min(Number(last), sizeBytes - 1);
  return { kind: "partial", range: { start, end } };
}
