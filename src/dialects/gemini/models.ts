/**
 * The catalog as Gemini's `models` resource: `models/{slug}` for each chat and embedding model
 * (the tasks this surface runs), with the methods each takes, pages by `pageSize` and an
 * opaque `pageToken` as `models.list` follows them.
 */
import type { AppContext } from "../../context";
import { AppError } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import { badValue } from "./fields";

const METHODS: Record<string, string[]> = {
  chat: ["generateContent", "streamGenerateContent", "countTokens"],
  embedding: ["embedContent", "batchEmbedContents"],
};
export const SERVED_TASKS = Object.keys(METHODS);
const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 1000;

export function geminiModel(m: Catalog.Model) {
  return {
    name: `models/${m.slug}`,
    baseModelId: m.slug,
    displayName: m.slug,
    description: m.description,
    ...(m.contextWindow ? { inputTokenLimit: m.contextWindow } : {}),
    ...(m.maxOutputTokens ? { outputTokenLimit: m.maxOutputTokens } : {}),
    supportedGenerationMethods: METHODS[m.task] ?? [],
  };
}

/** The model a path names (`gemini-flash` or `models/gemini-flash`) that this surface can run; 404 otherwise. */
export function servedModel(ctx: AppContext, name: string): Catalog.Model {
  const slug = name.replace(/^models\//, "");
  const model = Catalog.findCallable(ctx.db, slug);
  if (!model || !SERVED_TASKS.includes(model.task)) throw new AppError("NOT_FOUND", `models/${slug} is not found for API version v1beta, or is not supported for this method. Call ListModels to see the list of available models.`);
  return model;
}

const tokenOf = (slug: string) => Buffer.from(slug, "utf8").toString("base64url");

export function listModels(ctx: AppContext, query: { pageSize?: string; pageToken?: string }) {
  const size = query.pageSize === undefined || query.pageSize === "" ? DEFAULT_PAGE_SIZE : Number(query.pageSize);
  if (!Number.isInteger(size) || size < 0) throw badValue("pageSize", "must be a non-negative integer.");
  const pageSize = Math.min(size || DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const models = Catalog.listCallable(ctx.db).filter((m) => SERVED_TASKS.includes(m.task)).sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
  let start = 0;
  if (query.pageToken) {
    const after = Buffer.from(query.pageToken, "base64url").toString("utf8");
    if (!after || tokenOf(after) !== query.pageToken) throw badValue("pageToken", "the page token is not one this server gave.");
    start = models.findIndex((m) => m.slug > after);
    if (start < 0) start = models.length;
  }
  const page = models.slice(start, start + pageSize);
  const more = start + pageSize < models.length;
  return { models: page.map(geminiModel), ...(more ? { nextPageToken: tokenOf(page.at(-1)!.slug) } : {}) };
}
