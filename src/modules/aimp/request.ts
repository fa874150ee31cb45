/**
 * Reads a `POST /api/runs` body as the AIMP gateway's REST API describes it: `params`, never
 * `parameters`; no `options.hardware_tier` (hardware comes from the published model); no vector
 * routing fields (`resources`, `alias`, `collection`, `namespace`), which the platform manages;
 * `scope` required for `index` and `search`. Every problem is reported at once, each naming its
 * field and saying why (docs/compatibility.md "AIMP gateway").
 */
import { AppError, type FieldIssue } from "../../errors";

export type RunMode = "execute" | "index" | "search";
export const RUN_MODES: readonly RunMode[] = ["execute", "index", "search"];

/** A letter or digit, then letters, digits, `.`, `_` or `-`; at most 64 characters. */
export const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Item ids a client may give: what fits in a URL path segment unescaped. */
export const ITEM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const MAX_WAIT_SECONDS = 300;
export const DEFAULT_TOP_K = 10;
export const MAX_TOP_K = 100;
const MAX_METADATA_KEYS = 32;
const MAX_METADATA_VALUE = 512;
const MAX_FILTER_KEYS = 16;

const PLATFORM_MANAGED = ["resources", "alias", "collection", "namespace"] as const;
const TOP_LEVEL = new Set(["model", "mode", "scope", "input", "params", "options"]);
const OPTIONS = new Set(["wait", "webhook_url", "metadata"]);

export type Scalar = string | number | boolean;

export type RunRequest = {
  model: string;
  mode: RunMode;
  scope: string | null;
  input: Record<string, unknown>;
  params: Record<string, unknown>;
  options: { wait?: number; webhook_url?: string; metadata?: Record<string, string> };
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const managedMessage = (field: string) =>
  `${field} is managed by the platform and must not be supplied: vector routing is resolved from the model and the scope. Use scope to separate indexed datasets.`;

export function scopeIssue(field: string, scope: unknown): FieldIssue | null {
  if (typeof scope !== "string") return { field, code: "invalid_type", message: "scope must be a string." };
  if (scope.length > 64) return { field, code: "too_long", message: "scope is at most 64 characters." };
  if (!SCOPE_PATTERN.test(scope))
    return { field, code: "invalid_format", message: "scope must start with a letter or digit and hold only letters, digits, '.', '_' and '-'." };
  return null;
}

function managedIssues(prefix: string, object: Record<string, unknown>): FieldIssue[] {
  return PLATFORM_MANAGED.filter((name) => name in object).map((name) => {
    const field = prefix ? `${prefix}.${name}` : name;
    return { field, code: "unsupported" as const, message: managedMessage(field) };
  });
}

function optionIssues(options: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(options)) {
    const field = `options.${name}`;
    if (name === "hardware_tier")
      issues.push({ field, code: "unsupported", message: "Do not send options.hardware_tier: hardware is resolved from the published model release." });
    else if ((PLATFORM_MANAGED as readonly string[]).includes(name)) continue; // reported by managedIssues
    else if (!OPTIONS.has(name)) issues.push({ field, code: "unknown_field", message: `Unknown option ${name}; the options are wait, webhook_url and metadata.` });
    else if (name === "wait" && (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_WAIT_SECONDS))
      issues.push({ field, code: Number.isInteger(value) ? "out_of_range" : "invalid_type", message: `options.wait is a whole number of seconds, 0–${MAX_WAIT_SECONDS}.` });
    else if (name === "webhook_url" && typeof value !== "string") issues.push({ field, code: "invalid_type", message: "options.webhook_url must be a string." });
    else if (name === "metadata" && (!isObject(value) || Object.values(value).some((v) => typeof v !== "string")))
      issues.push({ field, code: "invalid_type", message: "options.metadata must be an object of string values." });
  }
  return [...issues, ...managedIssues("options", options)];
}

/** Parses the body; throws 400 INPUT_VALIDATION_ERROR with every issue found. */
export function parseRunRequest(body: unknown): RunRequest {
  if (!isObject(body)) throw new AppError("INPUT_VALIDATION_ERROR", "The body must be a JSON object.", [{ field: "body", code: "invalid_type", message: "The body must be a JSON object." }]);
  const issues: FieldIssue[] = [];
  for (const name of Object.keys(body)) {
    if (TOP_LEVEL.has(name) || (PLATFORM_MANAGED as readonly string[]).includes(name)) continue;
    if (name === "parameters") issues.push({ field: "parameters", code: "unsupported", message: "Use params, not parameters: model parameters go in params, a JSON object." });
    else issues.push({ field: name, code: "unknown_field", message: `Unknown field ${name}; a run takes model, mode, scope, input, params and options.` });
  }
  issues.push(...managedIssues("", body));

  const { model, mode = "execute", scope, input, params = {}, options = {} } = body;
  if (model === undefined) issues.push({ field: "model", code: "required", message: "model is required: the published model slug." });
  else if (typeof model !== "string" || model.length === 0 || model.length > 128)
    issues.push({ field: "model", code: "invalid_type", message: "model must be a model slug (1–128 characters)." });
  if (typeof mode !== "string" || !(RUN_MODES as readonly string[]).includes(mode))
    issues.push({ field: "mode", code: "invalid_format", message: "mode must be execute, index or search (default execute)." });
  const vector = mode === "index" || mode === "search";
  if (scope === undefined || scope === null) {
    if (vector) issues.push({ field: "scope", code: "required", message: `scope is required for ${mode}: it is the vector namespace that separates indexed datasets.` });
  } else {
    const issue = scopeIssue("scope", scope);
    if (issue) issues.push(issue);
  }
  if (input === undefined) issues.push({ field: "input", code: "required", message: "input is required; its shape depends on the model contract." });
  else if (!isObject(input)) issues.push({ field: "input", code: "invalid_type", message: "input must be a JSON object." });
  if (!isObject(params)) issues.push({ field: "params", code: "invalid_type", message: "params must be a JSON object." });
  else issues.push(...managedIssues("params", params));
  if (!isObject(options)) issues.push({ field: "options", code: "invalid_type", message: "options must be a JSON object." });
  else issues.push(...optionIssues(options));
  if (issues.length) throw new AppError("INPUT_VALIDATION_ERROR", issues.map((i) => `${i.field}: ${i.message}`).join(" "), issues);

  return {
    model: model as string,
    mode: mode as RunMode,
    scope: (scope as string | undefined) ?? null,
    input: input as Record<string, unknown>,
    params: params as Record<string, unknown>,
    options: options as RunRequest["options"],
  };
}

/** `{media_ref: "file_…"}` anywhere in the input becomes the file id string the model's file fields take. */
export function unwrapMediaRefs(value: unknown, depth = 0): unknown {
  if (depth > 32) return value;
  if (Array.isArray(value)) return value.map((v) => unwrapMediaRefs(v, depth + 1));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "media_ref" && typeof value.media_ref === "string") return value.media_ref;
  return Object.fromEntries(keys.map((k) => [k, unwrapMediaRefs(value[k], depth + 1)]));
}

/** The input's values with their media references unwrapped (the input object itself stays an object). */
export const unwrapInput = (input: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).map(([k, v]) => [k, unwrapMediaRefs(v, 1)]));

export type VectorRequest = {
  text: string | null;
  mediaRef: string | null;
  /** index only */
  itemId: string | null;
  metadata: Record<string, Scalar | null>;
  /** search only */
  topK: number;
  filter: Record<string, Scalar>;
  /** Params passed on to the embedding model. */
  modelParams: Record<string, unknown>;
};

/**
 * The input of an index or search run: `text` and/or an image (`image` or `media_ref`, a media
 * reference); for index an optional item `id` and `metadata`; for search `params.top_k` and
 * `params.filter` (metadata equality).
 */
export function parseVectorRequest(req: RunRequest): VectorRequest {
  const issues: FieldIssue[] = [];
  const input = unwrapInput(req.input);
  const allowed = req.mode === "index" ? ["text", "image", "media_ref", "id", "metadata"] : ["text", "image", "media_ref"];
  for (const name of Object.keys(input))
    if (!allowed.includes(name)) issues.push({ field: `input.${name}`, code: "unknown_field", message: `A ${req.mode} input takes ${allowed.join(", ")}.` });
  const text = input.text;
  if (text !== undefined && (typeof text !== "string" || text.length === 0)) issues.push({ field: "input.text", code: "invalid_type", message: "input.text must be a non-empty string." });
  const media = input.image ?? input.media_ref;
  if (media !== undefined && typeof media !== "string") issues.push({ field: "input.image", code: "invalid_type", message: "input.image must be a media_ref." });
  if (text === undefined && media === undefined) issues.push({ field: "input.text", code: "required", message: `A ${req.mode} run embeds input.text or an image (input.image: a media_ref).` });
  const id = input.id;
  if (id !== undefined && (typeof id !== "string" || !ITEM_ID_PATTERN.test(id)))
    issues.push({ field: "input.id", code: "invalid_format", message: "input.id starts with a letter or digit and holds letters, digits, '.', '_', ':' and '-', at most 128 characters." });
  const metadata = input.metadata ?? {};
  if (!isObject(metadata)) issues.push({ field: "input.metadata", code: "invalid_type", message: "input.metadata must be a JSON object." });
  else {
    if (Object.keys(metadata).length > MAX_METADATA_KEYS) issues.push({ field: "input.metadata", code: "too_long", message: `At most ${MAX_METADATA_KEYS} metadata keys.` });
    for (const [k, v] of Object.entries(metadata)) {
      const field = `input.metadata.${k}`;
      if (v !== null && !["string", "number", "boolean"].includes(typeof v)) issues.push({ field, code: "invalid_type", message: "Metadata values are strings, numbers, booleans or null." });
      else if (typeof v === "string" && v.length > MAX_METADATA_VALUE) issues.push({ field, code: "too_long", message: `Metadata strings are at most ${MAX_METADATA_VALUE} characters.` });
      else if (k.length === 0 || k.length > 64) issues.push({ field, code: "invalid_format", message: "Metadata keys are 1–64 characters." });
    }
  }
  const { top_k: topK = DEFAULT_TOP_K, filter = {}, ...modelParams } = req.params;
  if (req.mode === "index" && req.params.top_k !== undefined) issues.push({ field: "params.top_k", code: "unsupported", message: "top_k is for search runs." });
  if (req.mode === "index" && req.params.filter !== undefined) issues.push({ field: "params.filter", code: "unsupported", message: "filter is for search runs." });
  if (!Number.isInteger(topK) || (topK as number) < 1 || (topK as number) > MAX_TOP_K)
    issues.push({ field: "params.top_k", code: Number.isInteger(topK) ? "out_of_range" : "invalid_type", message: `params.top_k is a whole number, 1–${MAX_TOP_K} (default ${DEFAULT_TOP_K}).` });
  if (!isObject(filter)) issues.push({ field: "params.filter", code: "invalid_type", message: "params.filter is an object of metadata values to match exactly." });
  else {
    if (Object.keys(filter).length > MAX_FILTER_KEYS) issues.push({ field: "params.filter", code: "too_long", message: `At most ${MAX_FILTER_KEYS} filter keys.` });
    for (const [k, v] of Object.entries(filter))
      if (!["string", "number", "boolean"].includes(typeof v)) issues.push({ field: `params.filter.${k}`, code: "invalid_type", message: "Filter values are strings, numbers or booleans." });
  }
  if (issues.length) throw new AppError("INPUT_VALIDATION_ERROR", issues.map((i) => `${i.field}: ${i.message}`).join(" "), issues);
  return {
    text: (text as string | undefined) ?? null,
    mediaRef: (media as string | undefined) ?? null,
    itemId: (id as string | undefined) ?? null,
    metadata: metadata as Record<string, Scalar | null>,
    topK: topK as number,
    filter: filter as Record<string, Scalar>,
    modelParams,
  };
}
