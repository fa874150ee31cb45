/**
 * The catalog as Ollama shows it: model names with tags, `/api/tags`, `/api/show` and `/api/ps`.
 * A catalog slug is an Ollama name; a slug without a tag is `slug:latest`, as Ollama lists an
 * untagged model. A name with another tag is only the model whose slug it is, never a nearby
 * one (docs/decisions.md "Ollama model names"). Nothing is pulled or loaded here, so sizes are 0.
 */
import type { AppContext } from "../../context";
import { AppError, invalidField } from "../../errors";
import * as Catalog from "../../modules/catalog/service";
import * as Executions from "../../modules/executions/service";
import type { Caller } from "../../modules/keys/service";
import { iso } from "../../time";
import { objectBody, ollamaUnknown } from "../body";
import { capabilitiesOf } from "./capabilities";
import { streams } from "./options";

/** The tasks the Ollama API can run, and so lists. */
export const OLLAMA_TASKS = ["chat", "text-generation", "embedding"];
const LATEST = ":latest";

/** How Ollama lists a slug: with its tag, `:latest` when it has none. */
export const ollamaName = (slug: string) => (slug.includes(":") ? slug : slug + LATEST);

/** The catalog model an Ollama name means: the slug itself, or the slug with or without `:latest`. */
function lookup(ctx: AppContext, name: string): Catalog.Model | undefined {
  const exact = Catalog.findCallable(ctx.db, name);
  if (exact) return exact;
  if (name.endsWith(LATEST)) return Catalog.findCallable(ctx.db, name.slice(0, -LATEST.length));
  return name.includes(":") ? undefined : Catalog.findCallable(ctx.db, name + LATEST);
}

/**
 * The model a request names, of a task `endpoint` serves; 404 `model "…" not found` for an
 * unknown name and 400 `"…" does not support …` for a model of another task, as Ollama words them.
 * `field` is `model` (or `name`, Ollama's older spelling on `/api/show`).
 */
export function modelNamed(ctx: AppContext, name: unknown, tasks: readonly string[], endpoint: string, field = "model"): Catalog.Model {
  if (typeof name !== "string" || name === "") throw invalidField(field, "required", "model is required");
  const model = lookup(ctx, name);
  if (!model) throw new AppError("NOT_FOUND", `model "${name}" not found; GET /api/tags lists the models`, [{ field, code: "not_found", message: `No model ${name}.` }]);
  if (!tasks.includes(model.task)) throw invalidField(field, "unsupported", `"${name}" does not support ${endpoint}: its task is ${model.task}`);
  return model;
}

/** Changes whenever the model's definition does, as a digest names one build of a model. */
const digestOf = (model: Catalog.Model) =>
  new Bun.CryptoHasher("sha256").update(JSON.stringify([model.slug, model.task, model.createdAt, model.inputSchema, model.pricing, model.maxOutputTokens, model.contextWindow])).digest("hex");

const detailsOf = (model: Catalog.Model) => ({ parent_model: "", format: "", family: model.ownedBy, families: [model.ownedBy], parameter_size: "", quantization_level: "" });

function listed(model: Catalog.Model) {
  const name = ollamaName(model.slug);
  return { name, model: name, modified_at: iso(model.createdAt), size: 0, digest: digestOf(model), details: detailsOf(model) };
}

const ollamaModels = (ctx: AppContext) => Catalog.listCallable(ctx.db).filter((m) => OLLAMA_TASKS.includes(m.task));

/** `GET /api/tags`: every chat, text-generation and embedding model of the catalog, and the aliases of such models. */
export const tags = (ctx: AppContext) => ({ models: ollamaModels(ctx).map(listed) });

type Named = { name: unknown; field: "model" | "name" };

/** The model's name, in `model` or (Ollama's older spelling, which the `ollama` client still sends to pull) `name`. */
function namedIn(b: Record<string, unknown>): Named {
  if (b.model !== undefined && b.name !== undefined && b.model !== b.name) throw invalidField("name", "invalid_format", "model and name differ; send model only");
  return b.model === undefined && b.name !== undefined ? { name: b.name, field: "name" } : { name: b.model, field: "model" };
}

const SHOW_FIELDS = new Set(["model", "name", "verbose", "system", "template", "options"]);

/** `POST /api/show`'s body: the model's name; the rest is accepted and ignored. */
export const parseShowBody = (body: unknown): Named => namedIn(objectBody(body, { known: SHOW_FIELDS, unknown: ollamaUnknown }));

const PULL_FIELDS = new Set(["model", "name", "insecure", "stream"]);

/** `POST /api/pull`'s body: the model's name (`model`, or `name` as the `ollama` client sends it) and whether to stream (Ollama's default). */
export function parsePullBody(body: unknown): Named & { stream: boolean } {
  const b = objectBody(body, { known: PULL_FIELDS, unknown: ollamaUnknown });
  return { ...namedIn(b), stream: streams(b.stream) };
}

/** `POST /api/show`: the model's details; `model_info` carries its context length under its architecture's name, where clients look for it. */
export function show(model: Catalog.Model) {
  const info: Record<string, unknown> = { "general.architecture": "modelroute", "general.basename": model.slug, "modelroute.task": model.task };
  if (model.contextWindow) info["modelroute.context_length"] = model.contextWindow;
  if (model.maxOutputTokens) info["modelroute.max_output_tokens"] = model.maxOutputTokens;
  return {
    license: "",
    modelfile: "",
    parameters: "",
    template: "",
    system: "",
    details: detailsOf(model),
    model_info: info,
    capabilities: capabilitiesOf(model),
    modified_at: iso(model.createdAt),
  };
}

/**
 * `GET /api/ps`: the models the organization has executions waiting or running on. Nothing
 * stays loaded after a call, so `expires_at` is now.
 */
export function running(ctx: AppContext, caller: Caller) {
  const slugs = new Set<string>();
  for (const status of ["PENDING", "PROCESSING"] as const) for (const e of Executions.list(ctx, caller, { status, limit: 100 }).data) slugs.add(e.model);
  const now = iso(ctx.clock.now());
  const models = ollamaModels(ctx)
    .filter((m) => slugs.has(m.slug))
    .map((m) => ({ ...listed(m), expires_at: now, size_vram: 0 }));
  return { models };
}
