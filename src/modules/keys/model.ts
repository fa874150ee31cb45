import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";
import { MAX_CONCURRENT_EXECUTIONS, MAX_REQUESTS_PER_MINUTE, SPEND_RESETS } from "./limits";

/**
 * Example values the examples of keys, guardrails and the admin API share, so the docs tell one
 * story: the organization, its key (a fake secret of the real shape, with a valid checksum) and
 * the guardrail assigned to it.
 */
export const EXAMPLE = {
  orgId: "org_01a19b53-e99c-7b3e-9a2d-4c6f8e1a7b5c",
  orgCreatedAt: "2026-11-02T08:15:30.204Z",
  keyId: "key_01a22bba-60e0-7d2e-9f3b-2a6c4e8b1d07",
  keyName: "production backend",
  secret: "sk_3f9a1c7e5b2d8046e1f7a9c3b5d70284c6e9f1a3b7d5c0e2f4a86b1d3c5e7f90_7d55e73b",
  maskedKey: "sk_3f9a…7f90",
  keyCreatedAt: "2026-11-30T09:12:44.512Z",
  keyExpiresAt: "2027-11-30T00:00:00.000Z",
  keyLastUsedAt: "2026-12-02T14:27:05.031Z",
  guardrailId: "grd_01a2310f-05f8-7a6d-b1e8-3c5f9d2a7e40",
} as const;

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
    {
      description: "Per-key limits. A field left out keeps its value; null removes the limit.",
      examples: [{ requests_per_minute: 120, spend_limit: "25.00", spend_limit_reset: "monthly" }],
    },
  );

  export const limits = t.Object(
    {
      requests_per_minute: t.Union([strictInteger(), t.Null()], { examples: [120] }),
      max_concurrent_executions: t.Union([strictInteger(), t.Null()], { examples: [4] }),
      spend_limit: t.Union([t.String(), t.Null()], { examples: ["25.000"] }),
      spend_limit_reset: t.Union([resetPeriod, t.Null()]),
    },
    {
      description: "Limits in force on this key (null = none). A guardrail's limits also apply; the stricter wins.",
      examples: [{ requests_per_minute: 120, max_concurrent_executions: 4, spend_limit: "25.000", spend_limit_reset: "monthly" }],
    },
  );

  export const apiKey = t.Object(
    {
      id: t.String({ examples: [EXAMPLE.keyId] }),
      object: t.Literal("api_key"),
      name: t.String({ examples: [EXAMPLE.keyName] }),
      permission: enumOf(["full", "inference"], {
        description: "`full` may also manage keys, webhooks, guardrails and settings; `inference` may run executions and use files, models, balance and usage reads.",
      }),
      masked_key: t.String({ description: "Prefix and last 4 characters of the current secret.", examples: [EXAMPLE.maskedKey] }),
      status: enumOf(["active", "disabled", "expired", "revoked"]),
      disabled: t.Boolean(),
      limits,
      guardrail_id: t.Union([t.String(), t.Null()], { description: "The guardrail assigned to this key, if any." }),
      response_cache: enumOf(["default", "always", "never"], {
        description: "The response cache for this key's calls: `default` follows the model's rules (deterministic requests only, unless the catalog says otherwise), `always` caches every cacheable request of the key, `never` neither reads nor writes the cache. A request's `X-ModelRoute-Cache: bypass` still wins.",
      }),
      expires_at: t.Union([t.String(), t.Null()], { description: "When the key stops working (ISO-8601 UTC); null = never." }),
      previous_key_expires_at: t.Union([t.String(), t.Null()], {
        description: "After a rotation: when the previous secret stops working (1 h after the rotation); null otherwise.",
      }),
      last_used_at: t.Union([t.String(), t.Null()], { description: "Last authenticated request (precise to a few seconds)." }),
      created_at: t.String({ examples: [EXAMPLE.keyCreatedAt] }),
    },
    {
      description: "An API key. The secret itself is shown only in the create and rotate responses.",
      examples: [
        {
          id: EXAMPLE.keyId,
          object: "api_key",
          name: EXAMPLE.keyName,
          permission: "inference",
          masked_key: EXAMPLE.maskedKey,
          status: "active",
          disabled: false,
          limits: { requests_per_minute: 120, max_concurrent_executions: 4, spend_limit: "25.000", spend_limit_reset: "monthly" },
          guardrail_id: EXAMPLE.guardrailId,
          response_cache: "default",
          expires_at: EXAMPLE.keyExpiresAt,
          previous_key_expires_at: null,
          last_used_at: EXAMPLE.keyLastUsedAt,
          created_at: EXAMPLE.keyCreatedAt,
        },
      ],
    },
  );

  export const withSecret = t.Object(
    {
      ...apiKey.properties,
      key: t.String({
        description: "The full secret. Shown only in this response: store it now.",
        examples: [EXAMPLE.secret],
      }),
    },
    {
      description: "The API key plus its secret, shown this once.",
      examples: [
        {
          id: EXAMPLE.keyId,
          object: "api_key",
          name: EXAMPLE.keyName,
          permission: "inference",
          masked_key: EXAMPLE.maskedKey,
          status: "active",
          disabled: false,
          limits: { requests_per_minute: 120, max_concurrent_executions: null, spend_limit: "25.000", spend_limit_reset: "monthly" },
          guardrail_id: null,
          response_cache: "default",
          expires_at: EXAMPLE.keyExpiresAt,
          previous_key_expires_at: null,
          last_used_at: null,
          created_at: EXAMPLE.keyCreatedAt,
          key: EXAMPLE.secret,
        },
      ],
    },
  );

  export const createBody = strictObject(
    {
      name: t.String({ minLength: 1, maxLength: 100, description: "A label to recognise the key by.", examples: [EXAMPLE.keyName] }),
      permission: t.Optional(enumOf(["full", "inference"], { default: "inference", description: "Default `inference`." })), // meant: least privilege unless asked
      expires_at: t.Optional(t.String({ description: "ISO-8601 UTC time ending in Z; the key stops working then.", examples: ["2027-11-30T00:00:00Z"] })),
      limits: t.Optional(limitsInput),
      response_cache: t.Optional(enumOf(["default", "always", "never"], { description: "Default `default`: the model's cache rules; see the key object." })),
    },
    {
      description: "A new API key: a name, and optionally a permission, an expiry, limits and its response-cache setting.",
      examples: [
        {
          name: EXAMPLE.keyName,
          permission: "inference",
          expires_at: "2027-11-30T00:00:00Z",
          limits: { requests_per_minute: 120, spend_limit: "25.00", spend_limit_reset: "monthly" },
        },
      ],
    },
  );
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject(
    {
      name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
      disabled: t.Optional(t.Boolean({ description: "A disabled key answers 401 until enabled again." })),
      limits: t.Optional(limitsInput),
      response_cache: t.Optional(enumOf(["default", "always", "never"], { description: "The key's response-cache setting; see the key object." })),
    },
    { description: "The fields to change; a field left out keeps its value.", examples: [{ limits: { max_concurrent_executions: 4 } }] },
  );
  export type updateBody = typeof updateBody.static;

  export const deleted = t.Object(
    { id: t.String(), object: t.Literal("api_key"), deleted: t.Literal(true) },
    { description: "The key was revoked.", examples: [{ id: EXAMPLE.keyId, object: "api_key", deleted: true }] },
  );
  export const list = listOf(apiKey, "API keys of the organization, newest first; revoked keys are left out.");
  export const idParams = t.Object({ id: t.String({ description: "The key id (key_…)." }) });
}
