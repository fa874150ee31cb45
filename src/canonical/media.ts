/**
 * Canonical outputs of the audio, image-edit, moderation and rerank tasks (docs/tasks.md), as
 * adapters produce them and dialects render them. Inputs are in tasks.ts.
 */

/** `text-to-speech`: the audio, stored as a file of the organization. */
export type SpeechOutput = { audio: { file_id: string; format: string; content_type: string; duration_seconds?: number } };

export type TranscriptSegment = { id: number; start: number; end: number; text: string };
export type TranscriptWord = { word: string; start: number; end: number };

/** `speech-to-text`: the text, with timings when they were asked for (`timestamp_granularities`). */
export type Transcript = {
  text: string;
  language?: string;
  /** Seconds of audio. */
  duration?: number;
  segments?: TranscriptSegment[];
  words?: TranscriptWord[];
};

/** OpenAI's moderation categories, the canonical ones: every result scores each. */
export const MODERATION_CATEGORIES = [
  "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
  "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
] as const;
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** One input's verdict: per category whether it is flagged, its score in [0, 1], and which kinds of input (text, image) it was scored on. */
export type ModerationResult = {
  flagged: boolean;
  categories: Record<ModerationCategory, boolean>;
  category_scores: Record<ModerationCategory, number>;
  category_applied_input_types: Record<ModerationCategory, ("text" | "image")[]>;
};

/** `moderation`: one result per input string, or one for a list of parts. */
export type ModerationOutput = { results: ModerationResult[] };

/** `rerank`: the documents' indexes in the input, most relevant first, `top_n` of them at most. */
export type RerankOutput = { results: { index: number; relevance_score: number }[] };
