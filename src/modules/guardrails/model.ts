import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";
import { EXAMPLE, KeyModel } from "../keys/model";

export const MAX_MODEL_PATTERNS = 500;
export const MAX_CONTENT_RULES = 100;
export const MAX_PATTERN_LENGTH = 1000;
export const MAX_KEYS_PER_ASSIGNMENT = 100;

export namespace GuardrailModel {
  const exampleRules = [
    { kind: "term", pattern: "confidential" },
    { kind: "regex", pattern: "\\b\\d{3}-\\d{2}-\\d{4}\\b" },
  ] as const;
  const exampleDescription = "Demo models only, no image generation, at most 5 cents a run; no confidential text or SSN-like numbers.";

  const modelList = (what: string) =>
    t.Union([t.Array(t.String({ minLength: 1, maxLength: 128 }), { maxItems: MAX_MODEL_PATTERNS }), t.Null()], {
      description: `${what} Model slugs; a trailing \`*\` matches any suffix (\`mock-*\`). Up to ${MAX_MODEL_PATTERNS}.`,
      examples: [["mock-chat", "mock-embed"]],
    });

  export const contentRule = strictObject(
    {
      kind: enumOf(["term", "regex"], {
        description: "`term`: a word or phrase matched case-insensitively as a whole word. `regex`: a JavaScript regular expression, matched case-insensitively.",
      }),
      pattern: t.String({ minLength: 1, maxLength: MAX_PATTERN_LENGTH, examples: ["confidential"] }),
    },
    { description: "A content rule. Every string in an execution's input is checked; a match answers 400 CONTENT_MODERATION_REJECTED." },
  );

  const contentRules = t.Array(contentRule, { maxItems: MAX_CONTENT_RULES, description: `Up to ${MAX_CONTENT_RULES} rules.` });
  const maxCost = t.Union([t.String(), t.Null()], {
    description: "Most an execution may cost (its maximum estimated cost, as held), as a decimal USD string; null = no cap.",
    examples: ["0.050"],
  });

  export const createBody = strictObject(
    {
      name: t.String({ minLength: 1, maxLength: 100, examples: ["interns"] }),
      description: t.Optional(t.Union([t.String({ maxLength: 1000 }), t.Null()])),
      allowed_models: t.Optional(modelList("Only these models may be used (null = all).")),
      blocked_models: t.Optional(modelList("These models may not be used, even when allowed.")),
      max_cost_per_execution: t.Optional(maxCost),
      content_rules: t.Optional(contentRules),
      limits: t.Optional(KeyModel.limitsInput),
    },
    {
      description: "A new guardrail. Only `name` is required; a rule left out does not restrict.",
      examples: [
        {
          name: "interns",
          description: exampleDescription,
          allowed_models: ["mock-*"],
          blocked_models: ["mock-image"],
          max_cost_per_execution: "0.05",
          content_rules: exampleRules,
          limits: { requests_per_minute: 60, spend_limit: "10.00", spend_limit_reset: "daily" },
        },
      ],
    },
  );
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject(
    {
      name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
      description: t.Optional(t.Union([t.String({ maxLength: 1000 }), t.Null()])),
      allowed_models: t.Optional(modelList("Replaces the allowed list (null = all).")),
      blocked_models: t.Optional(modelList("Replaces the blocked list.")),
      max_cost_per_execution: t.Optional(maxCost),
      content_rules: t.Optional(contentRules),
      limits: t.Optional(KeyModel.limitsInput),
    },
    {
      description: "The fields to change; a field left out keeps its value, a list or `content_rules` is replaced whole.",
      examples: [{ blocked_models: ["mock-image"], content_rules: exampleRules }],
    },
  );
  export type updateBody = typeof updateBody.static;

  export const guardrail = t.Object(
    {
      id: t.String({ examples: [EXAMPLE.guardrailId] }),
      object: t.Literal("guardrail"),
      name: t.String(),
      description: t.Union([t.String(), t.Null()]),
      allowed_models: t.Union([t.Array(t.String()), t.Null()]),
      blocked_models: t.Union([t.Array(t.String()), t.Null()]),
      max_cost_per_execution: t.Union([t.String(), t.Null()], { examples: ["0.050"] }),
      content_rules: t.Array(t.Object({ kind: enumOf(["term", "regex"]), pattern: t.String() })),
      limits: KeyModel.limits,
      created_at: t.String(),
      updated_at: t.String(),
    },
    {
      description:
        "Rules for the keys assigned to it: which models, how much per execution, what content, and limits that apply to each assigned key (the stricter of the key's and the guardrail's wins).",
      examples: [
        {
          id: EXAMPLE.guardrailId,
          object: "guardrail",
          name: "interns",
          description: exampleDescription,
          allowed_models: ["mock-*"],
          blocked_models: ["mock-image"],
          max_cost_per_execution: "0.050",
          content_rules: exampleRules,
          limits: { requests_per_minute: 60, max_concurrent_executions: null, spend_limit: "10.000", spend_limit_reset: "daily" },
          created_at: "2026-12-01T10:03:17.880Z",
          updated_at: "2026-12-01T16:41:09.327Z",
        },
      ],
    },
  );

  export const list = listOf(guardrail, "The organization's guardrails, newest first.");
  export const deleted = t.Object(
    { id: t.String(), object: t.Literal("guardrail"), deleted: t.Literal(true) },
    { description: "The guardrail was deleted and its keys unassigned.", examples: [{ id: EXAMPLE.guardrailId, object: "guardrail", deleted: true }] },
  );

  export const assignment = t.Object(
    {
      object: t.Literal("guardrail_assignment"),
      guardrail_id: t.String(),
      key_id: t.String(),
      key_name: t.String(),
      masked_key: t.String({ examples: [EXAMPLE.maskedKey] }),
    },
    {
      description: "A key assigned to a guardrail.",
      examples: [
        {
          object: "guardrail_assignment",
          guardrail_id: EXAMPLE.guardrailId,
          key_id: EXAMPLE.keyId,
          key_name: EXAMPLE.keyName,
          masked_key: EXAMPLE.maskedKey,
        },
      ],
    },
  );
  export const assignments = listOf(assignment, "Keys assigned to guardrails, newest key first.");

  export const keyIdsBody = strictObject(
    {
      key_ids: t.Array(t.String({ maxLength: 64 }), {
        minItems: 1,
        maxItems: MAX_KEYS_PER_ASSIGNMENT,
        description: `API key ids (key_…), 1–${MAX_KEYS_PER_ASSIGNMENT}. A key has at most one guardrail: assigning moves it.`,
        examples: [[EXAMPLE.keyId]],
      }),
    },
    { description: "The keys to assign or unassign.", examples: [{ key_ids: [EXAMPLE.keyId] }] },
  );
  export type keyIdsBody = typeof keyIdsBody.static;

  export const assigned = t.Object(
    { assigned_count: strictInteger({ description: "Keys newly assigned (already assigned ones are not counted)." }) },
    { description: "How many keys the assignment changed.", examples: [{ assigned_count: 1 }] },
  );
  export const unassigned = t.Object(
    { unassigned_count: strictInteger({ description: "Keys that were under this guardrail and no longer are." }) },
    { description: "How many keys the unassignment changed.", examples: [{ unassigned_count: 1 }] },
  );
  export const idParams = t.Object({ id: t.String({ description: "The guardrail id (grd_…)." }) });
}
