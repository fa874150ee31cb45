/**
 * The mock moderation model (docs/tasks.md "moderation"): a word list per category. Each listed
 * word in a text scores its category 1 − 0.3^hits (one hit 0.7, two 0.91); a category with no
 * hit gets a small score drawn from the text (below 0.001), so scores look as they do upstream.
 * A category is flagged at 0.5. Images are not looked at: they score nothing, but the
 * categories that apply to images say so in `category_applied_input_types`.
 */
import { MODERATION_CATEGORIES, type ModerationCategory, type ModerationResult } from "../../canonical/media";
import { sleep } from "../../time";
import type { TaskRunner } from "../types";
import { countTokens, failIfAsked, latencyOf, seedOf, wordsOf } from "./controls";

export const MODERATION_WORDS: Record<ModerationCategory, string[]> = {
  harassment: ["idiot", "moron", "loser", "pathetic"],
  "harassment/threatening": ["threaten", "stalk"],
  hate: ["subhuman", "vermin"],
  "hate/threatening": ["exterminate"],
  illicit: ["counterfeit", "smuggle", "launder"],
  "illicit/violent": ["bomb", "explosive"],
  "self-harm": ["suicide", "overdose"],
  "self-harm/intent": ["suicidal"],
  "self-harm/instructions": ["noose"],
  sexual: ["nude", "porn"],
  "sexual/minors": ["underage"],
  violence: ["kill", "murder", "stab", "shoot"],
  "violence/graphic": ["gore", "dismember"],
};

/** The categories OpenAI also scores images for. */
const IMAGE_CATEGORIES = new Set<ModerationCategory>(["self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "violence", "violence/graphic"]);

const FLAG_AT = 0.5;

function scoreOf(text: string, hasImage: boolean): ModerationResult {
  const words = wordsOf(text);
  const result = { flagged: false, categories: {}, category_scores: {}, category_applied_input_types: {} } as ModerationResult;
  for (const category of MODERATION_CATEGORIES) {
    const hits = words.filter((w) => MODERATION_WORDS[category].includes(w)).length;
    const score = hits > 0 ? 1 - 0.3 ** hits : (seedOf(`${category}\u0000${text}`) % 1000) / 1_000_000;
    result.category_scores[category] = Math.round(score * 1e6) / 1e6;
    result.categories[category] = score >= FLAG_AT;
    result.flagged ||= score >= FLAG_AT;
    result.category_applied_input_types[category] = [...(text ? ["text" as const] : []), ...(hasImage && IMAGE_CATEGORIES.has(category) ? ["image" as const] : [])];
  }
  return result;
}

type Part = { type: "text"; text: string } | { type: "image" };

export const moderation: TaskRunner = async (call) => {
  await sleep(latencyOf(call), call.signal);
  failIfAsked(call);
  const input = call.input.input as string | string[] | Part[];
  let results: ModerationResult[];
  let texts: string[];
  if (typeof input === "string") results = [scoreOf(input, false)], (texts = [input]);
  else if (input.every((item) => typeof item === "string")) results = (texts = input as string[]).map((t) => scoreOf(t, false));
  else {
    // A list of parts is one input: its texts together, with or without images.
    const parts = input as Part[];
    texts = parts.flatMap((p) => (p.type === "text" ? [p.text] : []));
    results = [scoreOf(texts.join("\n"), parts.some((p) => p.type === "image"))];
  }
  return { output: { results }, usage: { inputTokens: texts.reduce((n, t) => n + countTokens(t), 0), outputTokens: 0 } };
};
