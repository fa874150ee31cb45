/** Schema helpers every module shares: strict objects, the error envelope, list envelopes. */
import { t } from "elysia";
import { Type, type IntegerOptions, type NumberOptions, type ObjectOptions, type TProperties, type TSchema } from "@sinclair/typebox";
import { CODES, type ErrorCode } from "../errors";

/** An object that rejects unknown fields (Elysia adds additionalProperties:false only at the top). */
export const strictObject = <T extends TProperties>(properties: T, options: ObjectOptions = {}) =>
  t.Object(properties, { additionalProperties: false, ...options });

/**
 * A JSON integer or number, for bodies and responses. Elysia's t.Integer and t.Numeric also take
 * a numeric string (`"10"`), which a body must refuse, report an out-of-range value as a type error,
 * and show in the docs as `string | integer`. Query and path values arrive as strings: they keep
 * t.Integer, which converts and then checks them.
 */
export const strictInteger = (options?: IntegerOptions) => Type.Integer(options);
export const strictNumber = (options?: NumberOptions) => Type.Number(options);

const ERROR_CODES = Object.keys(CODES) as [ErrorCode, ...ErrorCode[]];

export const ErrorEnvelope = t.Object(
  {
    error: t.Object({
      code: enumOf(ERROR_CODES, { description: "Machine-readable error code (the table in the introduction says when each happens).", examples: ["INPUT_VALIDATION_ERROR"] }),
      message: t.String({ description: "Human-readable explanation." }),
      retryable: t.Boolean({ description: "True when the same request may succeed later." }),
      request_id: t.String({ description: "Quote it when asking for support.", examples: ["req_01932c5e-7a1b-7000-8000-000000000001"] }),
      details: t.Array(
        t.Object({
          field: t.String({ description: "JSON path of the field, or a query/header name.", examples: ["input.prompt"] }),
          code: t.String({ examples: ["required"] }),
          message: t.String(),
        }),
      ),
    }),
  },
  { description: "The error envelope of every non-2xx response." },
);

/** An envelope as a response of `status` carries it: the first code of that status. */
function errorExample(status: number) {
  const code = ERROR_CODES.find((c) => CODES[c][0] === status) ?? "INTERNAL_ERROR";
  const [, retryable, when] = CODES[code];
  const invalid = code === "INPUT_VALIDATION_ERROR";
  return {
    error: {
      code,
      message: invalid ? "input.prompt: This field is required." : when,
      retryable,
      request_id: "req_01932c5e-7a1b-7000-8000-000000000001",
      details: invalid ? [{ field: "input.prompt", code: "required", message: "This field is required." }] : [],
    },
  };
}

/** The error responses a route documents, by status, each with an example of its own status. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, t.Object(ErrorEnvelope.properties, { description: ErrorEnvelope.description, examples: [errorExample(s)] })]),
  ) as Record<number, typeof ErrorEnvelope>;

export const listOf = <T extends TSchema>(item: T, description?: string) =>
  t.Object(
    { object: t.Literal("list"), data: t.Array(item), has_more: t.Boolean({ description: "True when another page follows." }) },
    { description },
  );

/** Cursor pagination query: newest first, ids as cursors. */
export const pageQuery = {
  limit: t.Optional(t.Integer({ minimum: 1, maximum: 100, default: 20, description: "Page size, 1–100 (default 20)." })),
  starting_after: t.Optional(t.String({ maxLength: 64, description: "An id from the previous page: return items older than it." })),
  ending_before: t.Optional(t.String({ maxLength: 64, description: "An id: return items newer than it." })),
};

/**
 * A string enum. Elysia's t.UnionEnum sets `default` to the first value, which fills optional
 * inputs silently (mode would become ASYNC, a status filter PENDING); this one has no default
 * unless given.
 */
export function enumOf<const T extends readonly string[]>(values: T, options: Parameters<typeof t.UnionEnum>[1] = {}) {
  const schema = t.UnionEnum(values as unknown as [T[number], ...T[number][]], options);
  if (!("default" in options)) delete (schema as { default?: unknown }).default;
  return schema;
}
