/**
 * Canonical usage: what a call consumed, as the upstream reported it. `inputTokens` counts the
 * whole prompt, cache reads and cache writes included (OpenAI's convention); the cache fields
 * say how much of it was read from or written to a prompt cache, so each part is priced once at
 * its own rate. `estimated` marks a count the gateway made because the upstream gave none.
 */
export type Usage = {
  inputTokens: number;
  outputTokens: number;
  /** Of inputTokens, read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Of inputTokens, written to the provider's prompt cache. */
  cacheWriteTokens?: number;
  /** Of outputTokens, spent on reasoning the caller did not see as text. */
  reasoningTokens?: number;
  images?: number;
  /** Prediction servers: compute time; transcription: seconds of audio. */
  seconds?: number;
  /** Characters of text read (speech synthesis). */
  characters?: number;
  /** True when the gateway counted, because the upstream reported nothing. */
  estimated?: boolean;
};

/**
 * A token estimate for text an upstream did not count: about four bytes of UTF-8 per token for
 * English prose, never less than the words. Only used when the upstream reports no usage.
 */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const words = (text.match(/\S+/g) ?? []).length;
  return Math.max(words, Math.ceil(Buffer.byteLength(text, "utf8") / 4));
}
