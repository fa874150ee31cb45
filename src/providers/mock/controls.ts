/**
 * What every mock task shares: the controls a caller sets in the input (`mock_latency_ms`,
 * `mock_error`), the token count (whitespace-separated words) and the hash that makes the same
 * input give the same output.
 */
import { AppError, isErrorCode } from "../../errors";
import type { TaskCall } from "../types";

export const countTokens = (text: string) => (text.match(/\S+/g) ?? []).length;

export function seedOf(text: string, extra = 0): number {
  return Number(Bun.hash.wyhash(`${text}\u0000${extra}`) & 0xffffffffn);
}

export const latencyOf = (call: TaskCall) => Number(call.input.mock_latency_ms ?? 0);

export function failIfAsked(call: TaskCall) {
  const error = call.input.mock_error;
  if (typeof error === "string" && isErrorCode(error)) throw new AppError(error, `The mock provider failed on request (mock_error=${error}).`);
}

/** Lowercase words (letters and digits), for the mocks that compare texts. */
export const wordsOf = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
