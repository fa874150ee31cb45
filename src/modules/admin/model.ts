import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";

export namespace AdminModel {
  export const org = t.Object(
    {
      id: t.String({ examples: ["org_01932c5e-7a1b-7000-8000-000000000001"] }),
      object: t.Literal("organization"),
      name: t.String({ examples: ["acme"] }),
      status: enumOf(["active", "suspended"], { description: "A suspended organization's keys answer 401." }),
      created_at: t.String(),
    },
    { description: "An organization: owns keys, balance, executions, files and webhooks." },
  );
  export const orgs = listOf(org, "Organizations, newest first.");
  export const createOrgBody = strictObject({
    name: t.String({ minLength: 1, maxLength: 100, description: "Unique; the CLI accepts it wherever it takes an org id.", examples: ["acme"] }),
  });
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
    },
    { description: "What the apply changed. Running servers see it within a second." },
  );

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
    { description: "Counts across the whole installation." },
  );

  export const auditEvent = t.Object(
    {
      id: t.String({ examples: ["aud_01932c5e-7a1b-7000-8000-000000000001"] }),
      object: t.Literal("audit_event"),
      actor: t.String({ description: "`operator` (admin API) or `cli`.", examples: ["operator"] }),
      action: t.String({ examples: ["org.suspend", "api_key.create", "catalog.apply", "backup.create"] }),
      target: t.Union([t.String(), t.Null()], { description: "The id the action was about, if any." }),
      details: t.Record(t.String(), t.Unknown()),
      created_at: t.String(),
    },
    { description: "One operator action." },
  );
  export const auditLog = listOf(auditEvent, "Operator actions, newest first.");
  export const auditQuery = {
    action: t.Optional(t.String({ maxLength: 64, description: "Only this action, e.g. `api_key.revoke`." })),
    target: t.Optional(t.String({ maxLength: 64, description: "Only actions about this id." })),
  };
}
