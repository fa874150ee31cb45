import { Type } from "@sinclair/typebox";
import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";
import { EXAMPLE } from "../keys/model";
import { CatalogFileSchema } from "./catalog-file";

/** A model added by a catalog file, with a second mock provider to fail over to. */
const exampleInputSchema = {
  type: "object",
  additionalProperties: false,
  required: ["prompt"],
  properties: {
    prompt: { type: "string", minLength: 1, maxLength: 4000, description: "What to draw." },
    width: { type: "integer", minimum: 64, maximum: 2048, default: 2048 },
    height: { type: "integer", minimum: 64, maximum: 2048, default: 2048 },
  },
};
const exampleModelDescription = "Demo model (built-in mock provider): 2048×2048 images by default. $0.120 per image.";

export namespace AdminModel {
  export const org = t.Object(
    {
      id: t.String({ examples: [EXAMPLE.orgId] }),
      object: t.Literal("organization"),
      name: t.String({ examples: ["acme"] }),
      status: enumOf(["active", "suspended"], { description: "A suspended organization's keys answer 401." }),
      created_at: t.String(),
    },
    {
      description: "An organization: owns keys, balance, executions, files and webhooks.",
      examples: [{ id: EXAMPLE.orgId, object: "organization", name: "acme", status: "active", created_at: EXAMPLE.orgCreatedAt }],
    },
  );
  export const orgs = listOf(org, "Organizations, newest first.");
  export const createOrgBody = strictObject(
    { name: t.String({ minLength: 1, maxLength: 100, description: "Unique; the CLI accepts it wherever it takes an org id.", examples: ["acme"] }) },
    { description: "A new organization.", examples: [{ name: "acme" }] },
  );
  export const orgParams = t.Object({ id: t.String({ description: "The organization id (org_…)." }) });
  export const orgKeyParams = t.Object({ id: t.String({ description: "The organization id." }), keyId: t.String({ description: "The key id (key_…)." }) });

  export const catalogQuery = t.Object({
    include_secrets: t.Optional(t.Boolean({ description: "Include provider API keys in clear (default false)." })),
  });

  export const applied = t.Object(
    {
      object: t.Literal("catalog_apply"),
      providers: t.Array(t.String(), { description: "Provider ids created or replaced." }),
      models: t.Array(t.String(), { description: "Model slugs created or replaced." }),
      aliases: t.Array(t.String(), { description: "Alias names created, replaced or (with an empty list) removed." }),
    },
    {
      description: "What the apply changed. Running servers see it within a second.",
      examples: [{ object: "catalog_apply", providers: ["mock-backup"], models: ["mock-image-hd"], aliases: [] }],
    },
  );

  /** The catalog file PUT /admin/v1/catalog applies (validated by catalogIssues, not by Elysia). */
  export const catalogApply = Type.Object(CatalogFileSchema.properties, {
    additionalProperties: false,
    description: CatalogFileSchema.description,
    examples: [
      {
        providers: [{ id: "mock-backup", kind: "mock" }],
        models: [
          {
            slug: "mock-image-hd",
            task: "text-to-image",
            description: exampleModelDescription,
            owned_by: "modelroute",
            input_schema: exampleInputSchema,
            pricing: { per_image: "0.120" },
            routes: [
              { provider: "mock", upstream_model: "mock-image", total_ms: 120000 },
              { provider: "mock-backup", upstream_model: "mock-image", total_ms: 120000 },
            ],
          },
        ],
        aliases: { "image-any": ["mock-image-hd", "mock-image"] },
      },
    ],
  });

  /** The catalog as GET /admin/v1/catalog exports it: every field filled in, providers by id. */
  export const catalogExport = Type.Object(CatalogFileSchema.properties, {
    additionalProperties: false,
    description: "The catalog in the file format: every provider, by id, and every model (the example shows one). `api_key` only with include_secrets=true.",
    examples: [
      {
        providers: [
          { id: "mock", kind: "mock", base_url: null, config: {} },
          { id: "mock-backup", kind: "mock", base_url: null, config: {} },
        ],
        models: [
          {
            slug: "mock-image-hd",
            task: "text-to-image",
            description: exampleModelDescription,
            owned_by: "modelroute",
            input_schema: exampleInputSchema,
            pricing: { currency: "USD", per_image: "0.120" },
            max_output_tokens: null,
            context_window: null,
            queue_ttl_ms: null,
            routes: [
              ...["mock", "mock-backup"].map((provider) => ({
                provider,
                upstream_model: "mock-image",
                total_ms: 120000,
                first_token_ms: null,
                idle_ms: null,
                retries: null,
                params: {},
                max_concurrency: null,
                max_queue: null,
              })),
            ],
          },
        ],
      },
    ],
  });

  const exampleRoute = {
    object: "route",
    id: "route_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07",
    model: "llama-3.1-8b",
    position: 0,
    provider: "local",
    kind: "openai",
    upstream_model: "llama3.1:8b",
    limits: { retries: 1, max_concurrency: 8, max_queue: 64, total_ms: 120000, first_token_ms: 10000, idle_ms: 30000 },
    health: { breaker: "closed", next_probe_at: null, cooldown_until: null, in_flight: 2, queued: 0, calls: 1840, failures: 3, p50_latency_ms: 412 },
  };
  export const route = t.Object(
    {
      object: t.Literal("route"),
      id: t.String(),
      model: t.String(),
      position: strictInteger({ description: "0 is tried first; the next takes over on failure." }),
      provider: t.String(),
      kind: t.String(),
      upstream_model: t.String(),
      limits: t.Object({
        retries: strictInteger(),
        max_concurrency: t.Union([strictInteger(), t.Null()]),
        max_queue: strictInteger(),
        total_ms: strictInteger(),
        first_token_ms: strictInteger(),
        idle_ms: strictInteger(),
      }),
      health: t.Object(
        {
          breaker: enumOf(["closed", "open", "half_open"], { description: "open: skipped without a call until next_probe_at; half_open: one probe is running." }),
          next_probe_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
          cooldown_until: t.Union([t.String({ format: "date-time" }), t.Null()], { description: "Set by the upstream's Retry-After." }),
          in_flight: strictInteger(),
          queued: strictInteger(),
          calls: strictInteger(),
          failures: strictInteger({ description: "Calls that counted against the route (not the caller's bad requests)." }),
          p50_latency_ms: t.Union([strictInteger(), t.Null()]),
        },
        { description: "This server process's view, since it started." },
      ),
    },
    { description: "A model's route to an upstream, with its limits and health.", examples: [exampleRoute] },
  );
  export const routes = listOf(route, "Every route of every model, in failover order.");

  export const stats = t.Object(
    {
      object: t.Literal("stats"),
      organizations: t.Object({ total: strictInteger(), active: strictInteger(), suspended: strictInteger() }),
      api_keys: t.Object({ active: strictInteger({ description: "Keys neither revoked nor expired, all organizations." }) }),
      executions: t.Object({
        total: strictInteger(),
        by_status: t.Record(t.String(), strictInteger(), { examples: [{ COMPLETED: 120, FAILED: 3, PENDING: 1 }] }),
      }),
    },
    {
      description: "Counts across the whole installation.",
      examples: [
        {
          object: "stats",
          organizations: { total: 3, active: 2, suspended: 1 },
          api_keys: { active: 5 },
          executions: { total: 124, by_status: { COMPLETED: 120, FAILED: 3, PENDING: 1 } },
        },
      ],
    },
  );

  export const auditEvent = t.Object(
    {
      id: t.String({ examples: ["aud_01a22bba-60e0-7f04-a6d2-8e1b3f5c9a26"] }),
      object: t.Literal("audit_event"),
      actor: t.String({ description: "`operator` (admin API) or `cli`.", examples: ["operator"] }),
      action: t.String({ examples: ["org.suspend", "api_key.create", "catalog.apply", "backup.create"] }),
      target: t.Union([t.String(), t.Null()], { description: "The id the action was about, if any." }),
      details: t.Record(t.String(), t.Unknown()),
      created_at: t.String(),
    },
    {
      description: "One operator action.",
      examples: [
        {
          id: "aud_01a22bba-60e0-7f04-a6d2-8e1b3f5c9a26",
          object: "audit_event",
          actor: "operator",
          action: "api_key.create",
          target: EXAMPLE.orgId,
          details: { name: EXAMPLE.keyName, permission: "inference" },
          created_at: EXAMPLE.keyCreatedAt,
        },
      ],
    },
  );
  export const auditLog = listOf(auditEvent, "Operator actions, newest first.");
  export const auditQuery = {
    action: t.Optional(t.String({ maxLength: 64, description: "Only this action, e.g. `api_key.revoke`." })),
    target: t.Optional(t.String({ maxLength: 64, description: "Only actions about this id." })),
  };
}
