import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";
import { MAX_CONCURRENT_EXECUTIONS, MAX_REQUESTS_PER_MINUTE, SPEND_RESETS } from "./limits";

export namespace KeyModel {
  const resetPeriod = enumOf(SPEND_RESETS, {
    description: "When the spend counter starts again: 00:00 UTC daily, Monday 00:00 UTC weekly, the 1st 00:00 UTC monthly, or never.",
    examples: ["monthly"],
  });

  /** Limits on the wire; also used by guardrails. Null clears a limit in a PATCH. */
  export const limitsInput = strictObject(
    {
      requests_per_minute: t.Optional(
        t.Union([strictInteger(), t.Null()], {
          description: `Requests per minute for this key (fixed 60 s window), 1–${MAX_REQUESTS_PER_MINUTE}; null = the server default.`,
          examples: [120],
        }),
      ),
      max_concurrent_executions: t.Optional(
        t.Union([strictInteger(), t.Null()], {
          description: `Executions this key may have running at once, 1–${MAX_CONCURRENT_EXECUTIONS}; null = unlimited. Over it: 429 RATE_LIMITED.`,
          examples: [4],
        }),
      ),
      spend_limit: t.Optional(
        t.Union([t.String(), t.Null()], {
          description:
            "Most USD this key may spend per reset period, as a decimal string. Holds of running executions count. Over it: 402 INSUFFICIENT_BALANCE naming the limit. null = no limit.",
          examples: ["25.00"],
        }),
      ),
      spend_limit_reset: t.Optional(resetPeriod),
    },
    { description: "Per-key limits. A field left out keeps its value; null removes the limit." },
  );

  export const limits = t.Object(
    {
      requests_per_minute: t.Union([strictInteger(), t.Null()], { examples: [120] }),
      max_concurrent_executions: t.Union([strictInteger(), t.Null()], { examples: [4] }),
      spend_limit: t.Union([t.String(), t.Null()], { examples: ["25.000"] }),
      spend_limit_reset: t.Union([resetPeriod, t.Null()]),
    },
    { description: "Limits in force on this key (null = none). A guardrail's limits also apply; the stricter wins." },
  );

  export const apiKey = t.Object(
    {
      id: t.String({ examples: ["key_01932c5e-7a1b-7000-8000-000000000001"] }),
      object: t.Literal("api_key"),
      name: t.String({ examples: ["production backend"] }),
      permission: enumOf(["full", "inference"], {
        description: "`full` may also manage keys, webhooks, guardrails and settings; `inference` may run executions and use files, models, balance and usage reads.",
      }),
      masked_key: t.String({ description: "Prefix and last 4 characters of the current secret.", examples: ["sk_0123…cdef"] }),
      status: enumOf(["active", "disabled", "expired", "revoked"]),
      disabled: t.Boolean(),
      limits,
      guardrail_id: t.Union([t.String(), t.Null()], { description: "The guardrail assigned to this key, if any." }),
      expires_at: t.Union([t.String(), t.Null()], { description: "When the key stops working (ISO-8601 UTC); null = never." }),
      previous_key_expires_at: t.Union([t.String(), t.Null()], {
        description: "After a rotation: when the previous secret stops working (1 h after the rotation); null otherwise.",
      }),
      last_used_at: t.Union([t.String(), t.Null()], { description: "Last authenticated request (precise to a few seconds)." }),
      created_at: t.String({ examples: ["2026-01-31T12:00:00.000Z"] }),
    },
    { description: "An API key. The secret itself is shown only in the create and rotate responses." },
  );

  export const withSecret = t.Object(
    {
      ...apiKey.properties,
      key: t.String({
        description: "The full secret. Shown only in this response: store it now.",
        examples: ["sk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef_a77cac63"],
      }),
    },
    { description: "The API key plus its secret, shown this once." },
  );

  export const createBody = strictObject({
    name: t.String({ minLength: 1, maxLength: 100, description: "A label to recognise the key by.", examples: ["production backend"] }),
    permission: t.Optional(enumOf(["full", "inference"], { default: "inference", description: "Default `inference`." })), // meant: least privilege unless asked
    expires_at: t.Optional(t.String({ description: "ISO-8601 UTC time ending in Z; the key stops working then.", examples: ["2030-01-31T00:00:00Z"] })),
    limits: t.Optional(limitsInput),
  });
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject({
    name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
    disabled: t.Optional(t.Boolean({ description: "A disabled key answers 401 until enabled again." })),
    limits: t.Optional(limitsInput),
  });
  export type updateBody = typeof updateBody.static;

  export const deleted = t.Object({ id: t.String(), object: t.Literal("api_key"), deleted: t.Literal(true) });
  export const list = listOf(apiKey, "API keys of the organization, newest first; revoked keys are left out.");
  export const idParams = t.Object({ id: t.String({ description: "The key id (key_…)." }) });
}
