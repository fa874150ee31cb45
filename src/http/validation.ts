/**
 * Turns TypeBox/Elysia validation failures into the envelope's `details[]`: one entry per
 * field, `field` as a dot/bracket path from the body root (`input.messages[0].content`) or the
 * query/header name, `code` from the DetailCode list in src/errors.ts.
 */
import { ValueErrorType, type ValueError } from "@sinclair/typebox/errors";
import type { DetailCode, FieldIssue } from "../errors";

/** `/input/messages/0/content` → `input.messages[0].content`. */
export function pointerToPath(pointer: string, root = ""): string {
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let out = root;
  for (const part of parts) {
    if (/^\d+$/.test(part)) out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out || root || "body";
}

const TOO_LONG = new Set<number>([ValueErrorType.StringMaxLength, ValueErrorType.ArrayMaxItems, ValueErrorType.ObjectMaxProperties]);
const TOO_SHORT = new Set<number>([ValueErrorType.StringMinLength, ValueErrorType.ArrayMinItems, ValueErrorType.ObjectMinProperties]);
const RANGE = new Set<number>([
  ValueErrorType.NumberMaximum, ValueErrorType.NumberMinimum, ValueErrorType.NumberExclusiveMaximum,
  ValueErrorType.NumberExclusiveMinimum, ValueErrorType.IntegerMaximum, ValueErrorType.IntegerMinimum,
  ValueErrorType.IntegerExclusiveMaximum, ValueErrorType.IntegerExclusiveMinimum, ValueErrorType.NumberMultipleOf,
  ValueErrorType.IntegerMultipleOf,
]);
const FORMAT = new Set<number>([ValueErrorType.StringFormat, ValueErrorType.StringPattern, ValueErrorType.StringFormatUnknown]);

type Schemaish = { const?: unknown; type?: string | string[]; anyOf?: Schemaish[]; format?: string; enum?: unknown[] };

function describeUnion(schema: Schemaish): { code: DetailCode; message: string } {
  const options = schema.anyOf ?? [];
  if (options.length > 0 && options.every((o) => o.const !== undefined))
    return { code: "invalid_format", message: `Must be one of: ${options.map((o) => JSON.stringify(o.const)).join(", ")}.` };
  // Elysia widens t.Integer/t.Number to "numeric string | number"; name the real type.
  const types = options.flatMap((o) => (o.format === "integer" || o.format === "numeric" ? [] : o.type ?? []));
  const named = [...new Set(types.flat())];
  return { code: "invalid_type", message: named.length ? `Expected ${named.join(" or ")}.` : "Value has the wrong type." };
}

function classify(error: Pick<ValueError, "type" | "message" | "schema">): { code: DetailCode; message: string } {
  const type = error.type as number;
  if (type === ValueErrorType.ObjectRequiredProperty) return { code: "required", message: "This field is required." };
  if (type === ValueErrorType.ObjectAdditionalProperties) return { code: "unknown_field", message: "Unknown field." };
  if (TOO_LONG.has(type)) return { code: "too_long", message: `${error.message}.` };
  if (TOO_SHORT.has(type)) return { code: "too_short", message: `${error.message}.` };
  if (RANGE.has(type)) return { code: "out_of_range", message: `${error.message}.` };
  if (FORMAT.has(type)) return { code: "invalid_format", message: `${error.message}.` };
  if (type === ValueErrorType.Union) return describeUnion(error.schema as Schemaish);
  if (type === ValueErrorType.Literal) return { code: "invalid_format", message: `${error.message}.` };
  // t.UnionEnum is a custom Kind: TypeBox's own message is "Expected kind 'UnionEnum'".
  const allowed = (error.schema as Schemaish).enum;
  if (type === ValueErrorType.Kind && Array.isArray(allowed))
    return { code: "invalid_format", message: `Must be one of: ${allowed.map((v) => JSON.stringify(v)).join(", ")}.` };
  return { code: "invalid_type", message: `${error.message}.` };
}

/** One issue per field: the first (most specific) failure TypeBox reports for each path wins. */
export function toFieldIssues(
  errors: Iterable<Pick<ValueError, "path" | "type" | "message" | "schema">>,
  root = "",
): FieldIssue[] {
  const byField = new Map<string, FieldIssue>();
  for (const error of errors) {
    const field = pointerToPath(error.path, root);
    if (byField.has(field)) continue;
    byField.set(field, { field, ...classify(error) });
    if (byField.size >= 50) break; // a pathological body must not make a pathological response
  }
  return [...byField.values()];
}
