/**
 * Google's `Schema` (an OpenAPI 3.0 subset: `type: "OBJECT"`, `nullable`, `propertyOrdering`)
 * as the JSON Schema the canonical model carries for tool parameters and structured output.
 * `parametersJsonSchema` and `responseJsonSchema` are JSON Schema already and pass unchanged.
 */

const DROPPED = new Set(["nullable", "propertyOrdering", "example"]);
const MAX_DEPTH = 64;

export function jsonSchemaOf(schema: unknown, depth = 0): unknown {
  if (depth > MAX_DEPTH || schema === null || typeof schema !== "object") return schema;
  if (Array.isArray(schema)) return schema.map((s) => jsonSchemaOf(s, depth + 1));
  const s = schema as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(s)) {
    if (DROPPED.has(key)) continue;
    if (key === "type" && typeof value === "string") out.type = value === "TYPE_UNSPECIFIED" ? undefined : value.toLowerCase();
    else if (key === "properties" && value && typeof value === "object")
      out.properties = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, jsonSchemaOf(sub, depth + 1)]));
    else if (key === "items" || key === "anyOf") out[key] = jsonSchemaOf(value, depth + 1);
    else out[key] = value;
  }
  if (out.type === undefined) delete out.type;
  if (s.nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}
