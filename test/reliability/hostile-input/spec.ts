/**
 * The operations of the server's own /openapi.json, each with its surface (by its OpenAPI tag),
 * the error shape that surface answers in, how it authenticates, and a valid request to start
 * mutating from (the schema's example, or one built from the schema).
 */

export type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  examples?: unknown[];
  example?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
};

export type Param = { name: string; in: "path" | "query" | "header"; required?: boolean; schema?: Schema; example?: unknown };

export type Surface = "ops" | "native" | "admin" | "openai" | "anthropic" | "gemini" | "ollama" | "openrouter" | "aimp";
/** The error bodies a surface answers in (src/dialects/<surface>/errors.ts, the envelope in src/errors.ts). */
export type Shape = "envelope" | "openai" | "anthropic" | "gemini" | "ollama" | "openrouter";
export type AuthKind = "bearer" | "operator" | "x-api-key" | "none";

export type Operation = {
  method: string;
  path: string;
  surface: Surface;
  /** The shapes an error of this operation may come in (files answer in either, docs/decisions.md). */
  shapes: Shape[];
  auth: AuthKind;
  params: Param[];
  body?: { contentType: "application/json" | "multipart/form-data" | "application/octet-stream"; schema: Schema; example?: unknown };
};

export type OpenApi = { paths: Record<string, Record<string, { tags?: string[]; security?: unknown[]; parameters?: Param[]; requestBody?: { content: Record<string, { schema: Schema }> } }>> };

const BY_TAG: Record<string, Surface> = {
  "OpenAI compatible": "openai",
  Rerank: "openai",
  "Anthropic compatible": "anthropic",
  "Gemini compatible": "gemini",
  "Ollama compatible": "ollama",
  "OpenRouter compatible": "openrouter",
  "AIMP compatible": "aimp",
  Admin: "admin",
  Operations: "ops",
};

const SHAPE_OF: Record<Surface, Shape> = {
  ops: "envelope",
  native: "envelope",
  admin: "envelope",
  aimp: "envelope", // AIMP's gateway uses ModelRoute's own envelope (docs/compatibility.md "AIMP gateway")
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gemini",
  ollama: "ollama",
  openrouter: "openrouter",
};

export function operationsOf(spec: OpenApi): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(spec.paths))
    for (const [method, op] of Object.entries(methods)) {
      const surface = BY_TAG[op.tags?.[0] ?? ""] ?? (path.startsWith("/admin/") ? "admin" : "native");
      let shapes: Shape[] = [SHAPE_OF[surface]];
      // OpenRouter serves Anthropic's Messages with Anthropic's errors (docs/compatibility.md).
      if (path === "/api/v1/messages") shapes = ["anthropic"];
      // The files API is shared with OpenAI's: an upload answers in OpenAI's shape, the rest in either.
      if (path.startsWith("/v1/files")) shapes = method === "post" && path === "/v1/files" ? ["openai"] : ["envelope", "openai"];
      const secured = op.security ?? [{ apiKey: [] }];
      const auth: AuthKind =
        secured.length === 0 || surface === "ops" || path === "/v1/files/{file_id}/content"
          ? "none"
          : surface === "admin"
            ? "operator"
            : surface === "aimp"
              ? "x-api-key"
              : "bearer";
      const content = op.requestBody?.content ?? {};
      const [contentType, media] = Object.entries(content)[0] ?? [];
      const body = contentType
        ? { contentType: contentType as NonNullable<Operation["body"]>["contentType"], schema: media!.schema, example: media!.schema?.examples?.[0] }
        : undefined;
      ops.push({ method: method.toUpperCase(), path, surface, shapes, auth, params: op.parameters ?? [], body });
    }
  return ops;
}

/** A value the schema accepts: its example, default, first enum value, or one built from its type. */
export function sampleOf(schema: Schema | undefined, depth = 0): unknown {
  if (!schema) return "fuzz";
  if (schema.examples?.length) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.anyOf?.length) return sampleOf(schema.anyOf.find((s) => s.type !== "null") ?? schema.anyOf[0], depth);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
  switch (type) {
    case "integer":
    case "number":
      return schema.minimum ?? 1;
    case "boolean":
      return true;
    case "array":
      return depth > 4 ? [] : [sampleOf(schema.items, depth + 1)];
    case "object": {
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const name of schema.required ?? []) out[name] = sampleOf(schema.properties?.[name], depth + 1);
      return out;
    }
    default:
      return "x".repeat(Math.max(1, schema.minLength ?? 4));
  }
}
