/** The OpenRouter-compatible answers as the API docs show them (documentation only: no validation). */
import { Type } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;
const EXAMPLE_ID = "exec_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07";

const exampleModel = {
  id: "mock-chat",
  canonical_slug: "mock-chat",
  name: "mock-chat",
  created: 1764662400,
  description: "Demo model (built-in mock provider).",
  context_length: null,
  architecture: { modality: "text+image->text", input_modalities: ["text", "image"], output_modalities: ["text"], tokenizer: "Other", instruct_type: null },
  pricing: { prompt: "5e-7", completion: "0.0000015", request: "0", image: "0", input_cache_read: "5e-7", input_cache_write: "5e-7" },
  top_provider: { context_length: null, max_completion_tokens: 1024, is_moderated: false },
  per_request_limits: null,
  supported_parameters: ["max_tokens", "temperature", "tools"],
};

export namespace OpenRouterModel {
  export const key = Type.Object(
    { data: Type.Object({ label: Type.String(), limit: Type.Union([Type.Number(), Type.Null()]), usage: Type.Number(), is_management_key: Type.Boolean() }, open) },
    {
      description: "The calling key.",
      examples: [
        {
          data: {
            label: "bootstrap",
            limit: 25,
            usage: 1.204,
            usage_daily: 0.04,
            usage_weekly: 0.6,
            usage_monthly: 1.204,
            byok_usage: 0,
            byok_usage_daily: 0,
            byok_usage_weekly: 0,
            byok_usage_monthly: 0,
            is_free_tier: false,
            is_management_key: true,
            is_provisioning_key: false,
            limit_remaining: 24.4,
            limit_reset: "monthly",
            include_byok_in_limit: false,
            expires_at: null,
            creator_user_id: null,
            rate_limit: { requests: 600, interval: "1m", note: "requests per minute for this key" },
          },
        },
      ],
    },
  );

  export const credits = Type.Object(
    { data: Type.Object({ total_credits: Type.Number(), total_usage: Type.Number() }) },
    { description: "Credits and usage in USD.", examples: [{ data: { total_credits: 35, total_usage: 1.204 } }] },
  );

  export const generation = Type.Object(
    { data: Type.Object({ id: Type.String(), total_cost: Type.Number(), model: Type.String(), streamed: Type.Boolean(), cancelled: Type.Boolean() }, open) },
    {
      description: "A generation's record.",
      examples: [
        {
          data: {
            id: EXAMPLE_ID,
            upstream_id: null,
            total_cost: 0.000047,
            created_at: "2026-12-02T07:30:00.000Z",
            model: "mock-chat",
            streamed: true,
            cancelled: false,
            provider_name: "mock",
            latency: 184,
            generation_time: 170,
            finish_reason: "stop",
            tokens_prompt: 5,
            tokens_completion: 30,
            usage: 0.000047,
            is_byok: false,
            origin: "",
            api_type: "openai",
          },
        },
      ],
    },
  );

  export const models = Type.Object({ data: Type.Array(Type.Object({ id: Type.String(), pricing: Type.Object({}, open) }, open)) }, { description: "Models.", examples: [{ data: [exampleModel] }] });

  export const count = Type.Object({ data: Type.Object({ count: Type.Integer() }) }, { description: "A count.", examples: [{ data: { count: 3 } }] });

  export const providers = Type.Object(
    { data: Type.Array(Type.Object({ name: Type.String(), slug: Type.String() }, open)) },
    { description: "Providers.", examples: [{ data: [{ name: "mock", slug: "mock", privacy_policy_url: null, terms_of_service_url: null, status_page_url: null }] }] },
  );

  const exampleKey = {
    hash: "key_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07",
    name: "ci runner",
    label: "sk_4f1c…a9e2",
    disabled: false,
    limit: 25,
    limit_remaining: 24.96,
    limit_reset: "monthly",
    include_byok_in_limit: false,
    usage: 0.04,
    usage_daily: 0.04,
    usage_weekly: 0.04,
    usage_monthly: 0.04,
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    created_at: "2026-12-02T07:30:00.000Z",
    updated_at: null,
    expires_at: null,
    creator_user_id: null,
  };
  const keySchema = Type.Object({ hash: Type.String(), name: Type.String(), disabled: Type.Boolean(), limit: Type.Union([Type.Number(), Type.Null()]), usage: Type.Number() }, open);

  export const keys = Type.Object({ data: Type.Array(keySchema) }, { description: "Keys.", examples: [{ data: [exampleKey] }] });
  export const oneKey = Type.Object({ data: keySchema }, { description: "A key.", examples: [{ data: exampleKey }] });
  export const createdKey = Type.Object(
    { data: keySchema, key: Type.String() },
    { description: "The new key; `key` is its secret, shown once.", examples: [{ data: exampleKey, key: "sk_4f1c0e8d2b6a47c39e51d0f7a2b8c6e4d9f1a3b5c7e9d2f4a6b8c0e2d4f6a8b0_1a2b3c4d" }] },
  );
  export const createKeyRequest = Type.Object(
    { name: Type.String(), limit: Type.Optional(Type.Union([Type.Number(), Type.Null()])), limit_reset: Type.Optional(Type.Union([Type.String(), Type.Null()])), expires_at: Type.Optional(Type.String()) },
    { ...open, description: "A new key.", examples: [{ name: "ci runner", limit: 25, limit_reset: "monthly" }] },
  );
  export const updateKeyRequest = Type.Object(
    { name: Type.Optional(Type.String()), disabled: Type.Optional(Type.Boolean()), limit: Type.Optional(Type.Union([Type.Number(), Type.Null()])) },
    { ...open, description: "Changes to a key.", examples: [{ disabled: true }] },
  );
  export const deleted = Type.Object({ deleted: Type.Literal(true) }, { description: "Revoked.", examples: [{ deleted: true }] });

  export const activity = Type.Object(
    { data: Type.Array(Type.Object({ date: Type.String(), model: Type.String(), usage: Type.Number(), requests: Type.Integer() }, open)) },
    {
      description: "Activity per day and model.",
      examples: [
        {
          data: [
            { date: "2026-12-02", model: "mock-image", model_permaslug: "mock-image", endpoint_id: "route_01938a4e-7c1a-7d2e-9f3b-2a6c4e8b1d07", provider_name: "mock", usage: 0.08, byok_usage_inference: 0, requests: 2, prompt_tokens: 4, completion_tokens: 0, reasoning_tokens: 0 },
          ],
        },
      ],
    },
  );

  const routingFields = {
    models: Type.Optional(Type.Array(Type.String(), { description: "Fallback models, tried in order when one fails before answering." })),
    provider: Type.Optional(Type.Object({}, { ...open, description: "Provider preferences: order, only, ignore, allow_fallbacks, max_price." })),
  };

  export const completionRequest = Type.Object(
    { model: Type.String(), prompt: Type.String(), max_tokens: Type.Optional(Type.Integer()), stream: Type.Optional(Type.Boolean()), ...routingFields },
    { ...open, description: "OpenAI's legacy completions request with OpenRouter's routing fields.", examples: [{ model: "demo-model", prompt: "Write a haiku about gateways", max_tokens: 32, models: ["demo-model", "mock-chat"] }] },
  );

  export const completion = Type.Object(
    {
      id: Type.String(),
      object: Type.Literal("text_completion"),
      created: Type.Integer(),
      model: Type.String(),
      choices: Type.Array(Type.Object({ text: Type.String(), index: Type.Integer(), finish_reason: Type.String() }, open)),
      usage: Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer(), cost: Type.Number() }, open),
    },
    {
      ...open,
      description: "A text_completion; `usage.cost` is the charge in USD.",
      examples: [
        {
          id: EXAMPLE_ID,
          object: "text_completion",
          created: 1764662400,
          model: "demo-model",
          provider: "modelroute",
          choices: [{ text: "Requests flow in, / one door routes them all", index: 0, logprobs: null, finish_reason: "stop" }],
          usage: { prompt_tokens: 7, completion_tokens: 12, total_tokens: 19, cost: 0.000019, is_byok: false },
        },
      ],
    },
  );

  export const messagesRequest = Type.Object(
    {
      model: Type.String({ description: "A chat model's slug." }),
      max_tokens: Type.Integer(),
      messages: Type.Array(Type.Object({ role: Type.String(), content: Type.Union([Type.String(), Type.Array(Type.Object({}, open))]) }, open)),
      system: Type.Optional(Type.Union([Type.String(), Type.Array(Type.Object({}, open))])),
      stream: Type.Optional(Type.Boolean()),
      ...routingFields,
    },
    { ...open, description: "Anthropic's Messages request with OpenRouter's routing fields.", examples: [{ model: "mock-chat", max_tokens: 256, system: "Be brief.", messages: [{ role: "user", content: "Say hello." }], provider: { only: ["mock"] } }] },
  );

  export const message = Type.Object(
    {
      id: Type.String({ description: "The execution's id." }),
      type: Type.Literal("message"),
      role: Type.Literal("assistant"),
      model: Type.String(),
      content: Type.Array(Type.Object({ type: Type.String() }, open)),
      stop_reason: Type.String(),
      usage: Type.Object({ input_tokens: Type.Integer(), output_tokens: Type.Integer(), cost: Type.Number() }, open),
    },
    {
      ...open,
      description: "A message; `usage.cost` is the charge in USD.",
      examples: [
        {
          id: EXAMPLE_ID,
          type: "message",
          role: "assistant",
          model: "mock-chat",
          content: [{ type: "text", text: "Hello!" }],
          stop_reason: "end_turn",
          stop_sequence: null,
          usage: { input_tokens: 5, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost: 0.000004, is_byok: false },
        },
      ],
    },
  );

  export const endpoints = Type.Object(
    {
      data: Type.Object(
        {
          id: Type.String(),
          name: Type.String(),
          endpoints: Type.Array(
            Type.Object(
              {
                name: Type.String(),
                provider_name: Type.String(),
                pricing: Type.Object({}, open),
                status: Type.Integer({ description: "0 taking calls; -1 cooling down or probing; -2 breaker open." }),
                uptime_last_30m: Type.Union([Type.Number(), Type.Null()], { description: "Percent of this process's calls on the route that did not fail by the provider's fault; null before the first." }),
              },
              open,
            ),
          ),
        },
        open,
      ),
    },
    {
      description: "A model and its endpoints (routes), in failover order.",
      examples: [
        {
          data: {
            id: exampleModel.id,
            name: exampleModel.name,
            created: exampleModel.created,
            description: exampleModel.description,
            architecture: exampleModel.architecture,
            endpoints: [
              {
                name: "mock | mock-chat",
                model_name: "mock-chat",
                context_length: null,
                pricing: exampleModel.pricing,
                provider_name: "mock",
                tag: "mock",
                quantization: null,
                max_completion_tokens: 1024,
                max_prompt_tokens: null,
                supported_parameters: exampleModel.supported_parameters,
                status: 0,
                uptime_last_30m: 99.5,
                supports_implicit_caching: false,
              },
            ],
          },
        },
      ],
    },
  );
}
