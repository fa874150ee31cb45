/** Wire schemas of webhook endpoints, the signing secret, deliveries and attempts. */
import { t } from "elysia";
import { enumOf, listOf, pageQuery as pageFields, strictInteger, strictObject } from "../../http/schemas";

const ENDPOINT_ID = "whep_01a222e6-a767-7216-9f4a-0928c95ed96e";
const DELIVERY_ID = "whdl_01a22bba-619f-7273-90f8-b593022bf058";
const EVENT_ID = "evt_01a22bba-6198-7e1f-af39-25aa68a5b13f";
const EXECUTION_ID = "exec_01a22bba-60e0-72d2-9799-f779f6a5dcce";
const TIME = "2026-11-28T16:04:31.207Z";
const HOOK_URL = "https://example.com/hooks/modelroute";
const ENDPOINT_SECRET = "whsec_Kj81Uu3qj1l6jt68LNLq/8vLKqagq05Ej6I9QL79WaM=";
const ORG_SECRET = "whsec_RQ3Yz5JN9scFdoEC8nFAskDW1jjU6ap8S4NDcTrGrm8=";

/** Whole examples as view.ts renders them; secrets are masked (signing.ts maskSecret) outside create and rotate. */
const endpointExample = {
  id: ENDPOINT_ID,
  object: "webhook_endpoint",
  url: HOOK_URL,
  events: ["execution.completed", "execution.failed"],
  description: "production order pipeline",
  enabled: true,
  disabled_reason: null,
  secret: "whsec_Kj81…WaM=",
  previous_secret_expires_at: null,
  created_at: TIME,
  updated_at: TIME,
};
const createdEndpointExample = { ...endpointExample, secret: ENDPOINT_SECRET };
const rotatedEndpointExample = {
  ...endpointExample,
  secret: "whsec_s8S8S4YqJ4M/GvMxsSM74brU9T9riBDh+gnjj5wrJ/0=",
  previous_secret_expires_at: "2026-12-01T08:30:12.944Z",
  updated_at: "2026-11-30T08:30:12.944Z",
};

/** execution.completed of the execution in the executions examples: a 500, then a 2xx on the first retry. */
const deliveryExample = {
  id: DELIVERY_ID,
  object: "webhook_delivery",
  event_id: EVENT_ID,
  event_type: "execution.completed",
  execution_id: EXECUTION_ID,
  endpoint_id: ENDPOINT_ID,
  url: HOOK_URL,
  status: "succeeded",
  attempt_count: 2,
  last_status_code: 200,
  next_attempt_at: null,
  expires_at: "2026-12-01T09:12:44.696Z",
  created_at: "2026-11-30T09:12:44.703Z",
};
const deliveryDetailExample = {
  ...deliveryExample,
  attempts: [
    {
      attempt: 1,
      at: "2026-11-30T09:12:44.705Z",
      status_code: 500,
      latency_ms: 84,
      error: "The receiver answered 500: internal error",
      next_retry_at: "2026-11-30T09:12:49.921Z",
    },
    { attempt: 2, at: "2026-11-30T09:12:49.925Z", status_code: 200, latency_ms: 61, error: null, next_retry_at: null },
  ],
};
const testDeliveryExample = {
  id: "whdl_01a22b95-b0b3-7aec-bf7b-7be053dfcf2a",
  object: "webhook_delivery",
  event_id: "evt_01a22b95-b0b3-7688-8018-a2fd675e1393",
  event_type: "webhook.test",
  execution_id: null,
  endpoint_id: ENDPOINT_ID,
  url: HOOK_URL,
  status: "succeeded",
  attempt_count: 1,
  last_status_code: 200,
  next_attempt_at: null,
  expires_at: "2026-12-01T08:32:40.115Z",
  created_at: "2026-11-30T08:32:40.115Z",
  attempts: [{ attempt: 1, at: "2026-11-30T08:32:40.117Z", status_code: 200, latency_ms: 84, error: null, next_retry_at: null }],
};
const EVENT_TYPES_TEXT =
  "`execution.started`, `execution.completed`, `execution.failed`, `execution.cancelled`, `execution.expired`, `balance.low`";

export namespace WebhookModel {
  const eventTypes = t.Array(t.String({ maxLength: 64 }), {
    maxItems: 16,
    description: `Event types to receive: ${EVENT_TYPES_TEXT}. Leave out (or null on update) to receive every type; an empty list is refused.`,
    examples: [["execution.completed", "execution.failed"]],
  });
  const url = t.String({ minLength: 1, maxLength: 2048, description: "Absolute http(s) URL that receives POSTs. Private and loopback addresses are refused unless the operator allows them.", examples: [HOOK_URL] });
  const description = t.String({ maxLength: 500, description: "A note for yourself.", examples: ["production order pipeline"] });

  export const createBody = strictObject({
    url,
    events: t.Optional(eventTypes),
    description: t.Optional(description),
    enabled: t.Optional(t.Boolean({ description: "Default true. A disabled endpoint receives nothing." })),
  }, {
    description: "The endpoint to register.",
    examples: [{ url: HOOK_URL, events: ["execution.completed", "execution.failed"], description: "production order pipeline" }],
  });
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject({
    url: t.Optional(url),
    events: t.Optional(t.Union([eventTypes, t.Null()])),
    description: t.Optional(t.Union([description, t.Null()])),
    enabled: t.Optional(t.Boolean({ description: "true re-enables an endpoint disabled by request or by a 410 answer." })),
  }, {
    description: "Only the fields to change.",
    examples: [{ events: ["execution.completed", "execution.failed", "balance.low"], enabled: true }],
  });
  export type updateBody = typeof updateBody.static;

  export const endpoint = t.Object(
    {
      id: t.String({ examples: [ENDPOINT_ID] }),
      object: t.Literal("webhook_endpoint"),
      url: t.String({ examples: [HOOK_URL] }),
      events: t.Union([t.Array(t.String()), t.Null()], { description: "Subscribed event types; null = every type.", examples: [endpointExample.events] }),
      description: t.Union([t.String(), t.Null()]),
      enabled: t.Boolean(),
      disabled_reason: t.Union([t.String(), t.Null()], { description: "Why a disabled endpoint is disabled (by request, or the receiver answered 410 Gone).", examples: [null] }),
      secret: t.String({
        description: "The signing secret (`whsec_` + base64 of 32 bytes). In full only in the create and rotate-secret responses; masked elsewhere.",
        examples: [ENDPOINT_SECRET],
      }),
      previous_secret_expires_at: t.Union([t.String(), t.Null()], { description: "After a rotation: until when the previous secret also signs (24 h); null otherwise." }),
      created_at: t.String({ examples: [TIME] }),
      updated_at: t.String({ examples: [TIME] }),
    },
    { description: "A URL that receives signed event notifications (secret masked).", examples: [endpointExample] },
  );
  /** POST /v1/webhooks/endpoints 201: the only answer, with rotate-secret, that shows the secret in full. */
  export const createdEndpoint = t.Object(endpoint.properties, {
    description: "The new endpoint, with its signing secret in full: store it now.",
    examples: [createdEndpointExample],
  });
  /** POST /v1/webhooks/endpoints/{id}/rotate-secret 200. */
  export const rotatedEndpoint = t.Object(endpoint.properties, {
    description: "The endpoint with its new secret in full; the previous one also signs until `previous_secret_expires_at`.",
    examples: [rotatedEndpointExample],
  });

  export const deleted = t.Object(
    { id: t.String({ examples: [ENDPOINT_ID] }), object: t.Literal("webhook_endpoint"), deleted: t.Literal(true) },
    { description: "The endpoint is deleted.", examples: [{ id: ENDPOINT_ID, object: "webhook_endpoint", deleted: true }] },
  );
  export const endpointList = listOf(endpoint, "The organization's webhook endpoints, newest first.");

  export const signingSecret = t.Object(
    {
      object: t.Literal("webhook_signing_secret"),
      secret: t.String({ description: "Signs deliveries to executions' `webhook_url`.", examples: [ORG_SECRET] }),
      previous_secret_expires_at: t.Union([t.String(), t.Null()], { description: "After a rotation: until when the previous secret also signs (24 h); null otherwise." }),
    },
    {
      description: "The organization's signing secret for executions' `webhook_url` deliveries.",
      examples: [{ object: "webhook_signing_secret", secret: ORG_SECRET, previous_secret_expires_at: null }],
    },
  );
  /** POST /v1/webhooks/signing-secret/rotate 200. */
  export const rotatedSigningSecret = t.Object(signingSecret.properties, {
    description: "The new signing secret; the previous one also signs until `previous_secret_expires_at`.",
    examples: [
      { object: "webhook_signing_secret", secret: "whsec_+SgLhEii4JO4ii/8SBfy9Bo0D9xtxQ3tD7nQCfCPAOs=", previous_secret_expires_at: "2026-12-01T08:31:05.318Z" },
    ],
  });

  export const attempt = t.Object(
    {
      attempt: strictInteger({ description: "1 for the first attempt.", examples: [1] }),
      at: t.String({ description: "When the attempt started.", examples: [deliveryDetailExample.attempts[0]!.at] }),
      status_code: t.Union([strictInteger(), t.Null()], { description: "The receiver's HTTP status; null when it gave no answer.", examples: [500] }),
      latency_ms: strictInteger({ examples: [84] }),
      error: t.Union([t.String(), t.Null()], { description: "Why the attempt failed; null on a 2xx.", examples: ["The receiver answered 500: internal error"] }),
      next_retry_at: t.Union([t.String(), t.Null()], { description: "When the next automatic attempt goes; null when none follows.", examples: ["2026-11-30T09:12:49.921Z"] }),
    },
    { description: "One HTTP attempt of a delivery.", examples: [deliveryDetailExample.attempts[0]] },
  );

  const deliveryFields = {
    id: t.String({ examples: [DELIVERY_ID] }),
    object: t.Literal("webhook_delivery"),
    event_id: t.String({ description: "The evt_ id, sent as `X-Webhook-Id` / `webhook-id`; the same on every attempt.", examples: [EVENT_ID] }),
    event_type: t.String({ examples: ["execution.completed"] }),
    execution_id: t.Union([t.String(), t.Null()], { description: "The execution the event is about, if any.", examples: [EXECUTION_ID] }),
    endpoint_id: t.Union([t.String(), t.Null()], { description: "null for a delivery to an execution's own `webhook_url`." }),
    url: t.String({ description: "Where the last attempt went.", examples: [HOOK_URL] }),
    status: enumOf(["pending", "succeeded", "failed"] as const, { description: "`pending` while attempts remain; `succeeded` after a 2xx; `failed` when retries ran out, the deadline passed, or the receiver answered 410." }),
    attempt_count: strictInteger({ examples: [1] }),
    last_status_code: t.Union([strictInteger(), t.Null()], { examples: [200] }),
    next_attempt_at: t.Union([t.String(), t.Null()], { description: "When a pending delivery is attempted next." }),
    expires_at: t.String({ description: "No attempt is made after this (the event's time + 24 h)." }),
    created_at: t.String({ examples: [deliveryExample.created_at] }),
  };
  export const delivery = t.Object(deliveryFields, { description: "One event on its way to one URL.", examples: [deliveryExample] });
  const detailFields = { ...deliveryFields, attempts: t.Array(attempt, { description: "Every attempt, oldest first." }) };
  export const deliveryDetail = t.Object(detailFields, { description: "A delivery with every attempt.", examples: [deliveryDetailExample] });
  /** POST /v1/webhooks/endpoints/{id}/test 200: one attempt, never retried. */
  export const testDelivery = t.Object(detailFields, {
    description: "The test delivery and its one attempt (`attempts[0]` holds the receiver's answer).",
    examples: [testDeliveryExample],
  });
  export const deliveryList = listOf(delivery, "Deliveries, newest first.");

  export const pageQuery = t.Object(pageFields);
  export type pageQuery = typeof pageQuery.static;
  export const deliveryQuery = t.Object({ ...pageFields, status: t.Optional(enumOf(["pending", "succeeded", "failed"] as const, { description: "Only deliveries in this state." })) });
  export type deliveryQuery = typeof deliveryQuery.static;

  export const endpointParams = t.Object({ id: t.String({ description: "The endpoint id (whep_…).", examples: [ENDPOINT_ID] }) });
  export const deliveryParams = t.Object({ id: t.String({ description: "The delivery id (whdl_…).", examples: [DELIVERY_ID] }) });
}
