/**
 * Google's JSON takes every field in lowerCamelCase or in the proto's snake_case
 * (`generationConfig` or `generation_config`, `inlineData.mimeType` or `inline_data.mime_type`),
 * and Google's own curl examples use both. Each structural object of a request is read through
 * `fieldsOf`, which names its keys in camelCase and refuses one it does not know in Google's
 * words; schemas, function arguments and responses are left exactly as sent.
 */
import { invalidField } from "../../errors";

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Google's wording for a field it does not know. */
const unknownName = (key: string, at: string) =>
  `Invalid JSON payload received. Unknown name "${key}"${at ? ` at '${at}'` : ""}: Cannot find field.`;

/**
 * The object at `at` with camelCase keys; a key not in `known` is a 400 naming it. `null` and
 * `undefined` are an empty object; anything else that is not an object is a 400.
 */
export function fieldsOf(value: unknown, at: string, known: ReadonlySet<string>): Record<string, any> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalidField(at || "body", "invalid_type", `Invalid value at '${at || "body"}': must be an object.`);
  const out: Record<string, any> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = camel(key);
    if (!known.has(name)) throw invalidField(at ? `${at}.${name}` : name, "unknown_field", unknownName(key, at));
    out[name] = v;
  }
  return out;
}

/** A list field: absent is empty; anything but an array is a 400. */
export function listOf(value: unknown, at: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidField(at, "invalid_type", `Invalid value at '${at}': must be a list.`);
  return value;
}

export const badValue = (at: string, message: string) => invalidField(at, "invalid_format", `Invalid value at '${at}': ${message}`);
