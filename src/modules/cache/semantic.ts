/**
 * The semantic cache (docs/cache.md "Semantic cache"), opt-in per model: the request's prompt
 * (the last user message, or a completion's prompt) is embedded by the embedding model the
 * catalog names, and the organization's nearest stored prompt for the same model and the same
 * rest of the request (earlier messages and every parameter, hashed as `context`) is served when
 * its cosine similarity reaches the model's threshold. The vectors live in the vectors module,
 * one scope per organization and model (`cache:<model>`, a name the AIMP surface cannot address),
 * each item named by its cache entry's key and deleted with it.
 */
import type { ChatInput } from "../../canonical/chat";
import { textOf } from "../../canonical/chat";
import type { AppContext } from "../../context";
import type { Conn } from "../../db/client";
import * as Vectors from "../vectors/service";
import { canonicalJson, lookup, type EntryRow } from "./service";

export type Settings = { embeddingModel: string; threshold: number };

/** The prompt a semantic cache compares, and the rest of the request, which must match exactly. */
export function promptOf(input: Record<string, unknown>): { prompt: string; rest: Record<string, unknown> } | null {
  const { user: _user, ...rest } = input;
  if (Array.isArray(input.messages)) {
    const messages = input.messages as ChatInput["messages"];
    const last = messages.at(-1);
    if (!last || last.role !== "user") return null;
    const prompt = textOf(last.content);
    return prompt ? { prompt, rest: { ...rest, messages: messages.slice(0, -1) } } : null;
  }
  for (const field of ["prompt", "text"]) {
    if (typeof input[field] === "string" && input[field]) {
      const { [field]: prompt, ...others } = rest;
      return { prompt: prompt as string, rest: others };
    }
  }
  return null;
}

export const scopeOf = (orgId: string, settings: Settings, model: string): Vectors.ScopeKey => ({ orgId, model: settings.embeddingModel, scope: `cache:${model}` });

const contextOf = (orgId: string, model: string, rest: Record<string, unknown>) => new Bun.CryptoHasher("sha256").update(`${orgId}\u0000${model}\u0000${canonicalJson(rest)}`).digest("hex");

/** What a semantic miss keeps until its answer comes: the prompt's vector, where it goes, what it must match. */
export type Pending = { vector: Float32Array; scope: Vectors.ScopeKey; context: string; prompt: string };

const PENDING_MAX = 10_000;
const pendings = new WeakMap<AppContext, Map<string, Pending>>();
const pendingOf = (ctx: AppContext) => {
  let map = pendings.get(ctx);
  if (!map) pendings.set(ctx, (map = new Map()));
  return map;
};

export type Found = { entry: EntryRow } | { pending: Pending } | null;

/**
 * Embeds the prompt (`embed` runs the embedding model as an execution of the organization) and
 * searches the organization's stored prompts: the entry of one at least `threshold` similar, or
 * what to store once this request is answered; null when there is no prompt or no vector.
 */
export async function find(ctx: AppContext, orgId: string, model: string, input: Record<string, unknown>, settings: Settings, embed: (text: string) => Promise<Float32Array | null>, now: number): Promise<Found> {
  const parts = promptOf(input);
  if (!parts) return null;
  const vector = await embed(parts.prompt);
  if (!vector || vector.length === 0) return null;
  const scope = scopeOf(orgId, settings, model);
  const context = contextOf(orgId, model, parts.rest);
  let hits: Vectors.SearchHit[] = [];
  try {
    hits = await Vectors.search(ctx, scope, vector, 1, { context });
  } catch {
    hits = []; // the embedding model's dimensions changed: the old vectors are not comparable
  }
  const best = hits[0];
  const entry = best && best.score >= settings.threshold ? lookup(ctx, orgId, best.item_id, now) : null;
  return entry ? { entry } : { pending: { vector, scope, context, prompt: parts.prompt } };
}

/** Keeps a miss's vector for the transaction that completes it (bounded: an execution that never completes drops out). */
export function hold(ctx: AppContext, executionId: string, pending: Pending) {
  const map = pendingOf(ctx);
  map.set(executionId, pending);
  if (map.size > PENDING_MAX) map.delete(map.keys().next().value!);
}

/** The vector a completing miss stores, prepared outside its transaction; null when it has none. */
export async function prepareStore(ctx: AppContext, executionId: string) {
  const pending = pendingOf(ctx).get(executionId);
  if (!pending) return null;
  pendingOf(ctx).delete(executionId);
  const upsert = await Vectors.prepareUpsert(ctx, pending.scope, pending.vector.length);
  return {
    scope: pending.scope,
    /** In the completing transaction; its result's `apply` runs after the commit. */
    write: (tx: Conn, key: string, executionId: string, now: number) =>
      upsert(tx, { itemId: key, vector: pending.vector, metadata: { context: pending.context }, inputRef: { text: pending.prompt.slice(0, 1000) }, runId: executionId }, now),
  };
}

/** Deletes the vectors of evicted or expired semantic entries. */
export function forget(ctx: AppContext, gone: { key: string; orgId: string; vectorScope: string | null; vectorModel: string | null }[]) {
  for (const entry of gone) {
    if (!entry.vectorScope || !entry.vectorModel) continue;
    try {
      Vectors.deleteItem(ctx, { orgId: entry.orgId, model: entry.vectorModel, scope: entry.vectorScope }, entry.key);
    } catch {
      // already gone (its scope was deleted): nothing to do
    }
  }
}
