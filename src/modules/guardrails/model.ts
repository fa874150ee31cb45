import { t } from "elysia";
import { enumOf, listOf, strictInteger, strictObject } from "../../http/schemas";
import { KeyModel } from "../keys/model";

export const MAX_MODEL_PATTERNS = 500;
export const MAX_CONTENT_RULES = 100;
export const MAX_PATTERN_LENGTH = 1000;
export const MAX_KEYS_PER_ASSIGNMENT = 100;

export namespace GuardrailModel {
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

  export const createBody = strictObject({
    name: t.String({ minLength: 1, maxLength: 100, examples: ["interns"] }),
    description: t.Optional(t.Union([t.String({ maxLength: 1000 }), t.Null()])),
    allowed_models: t.Optional(modelList("Only these models may be used (null = all).")),
    blocked_models: t.Optional(modelList("These models may not be used, even when allowed.")),
    max_cost_per_execution: t.Optional(maxCost),
    content_rules: t.Optional(contentRules),
    limits: t.Optional(KeyModel.limitsInput),
  });
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject({
    name: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
    description: t.Optional(t.Union([t.String({ maxLength: 1000 }), t.Null()])),
    allowed_models: t.Optional(modelList("Replaces the allowed list (null = all).")),
    blocked_models: t.Optional(modelList("Replaces the blocked list.")),
    max_cost_per_execution: t.Optional(maxCost),
    content_rules: t.Optional(contentRules),
    limits: t.Optional(KeyModel.limitsInput),
  });
  export type updateBody = typeof updateBody.static;

  export const guardrail = t.Object(
    {
      id: t.String({ examples: ["grd_01932c5e-7a1b-7000-8000-000000000001"] }),
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
    },
  );

  export const list = listOf(guardrail, "The organization's guardrails, newest first.");
  export const deleted = t.Object({ id: t.String(), object: t.Literal("guardrail"), deleted: t.Literal(true) });

  export const assignment = t.Object(
    {
      object: t.Literal("guardrail_assignment"),
      guardrail_id: t.String(),
      key_id: t.String(),
      key_name: t.String(),
      masked_key: t.String({ examples: ["sk_0123…cdef"] }),
    },
    { description: "A key assigned to a guardrail." },
  );
  export const assignments = listOf(assignment, "Keys assigned to guardrails, newest key first.");

  export const keyIdsBody = strictObject({
    key_ids: t.Array(t.String({ maxLength: 64 }), {
      minItems: 1,
      maxItems: MAX_KEYS_PER_ASSIGNMENT,
      description: `API key ids (key_…), 1–${MAX_KEYS_PER_ASSIGNMENT}. A key has at most one guardrail: assigning moves it.`,
      examples: [["key_01932c5e-7a1b-7000-8000-000000000001"]],
    }),
  });
  export type keyIdsBody = typeof keyIdsBody.static;

  export const assigned = t.Object({ assigned_count: strictInteger({ description: "Keys newly assigned (already assigned ones are not counted)." }) });
  export const unassigned = t.Object({ unassigned_count: strictInteger({ description: "Keys that were under this guardrail and no longer are." }) });
  export const idParams = t.Object({ id: t.String({ description: "The guardrail id (grd_…)." }) });
}
