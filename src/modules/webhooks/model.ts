/** Wire schemas of webhook endpoints, the signing secret, deliveries and attempts. */
import { t } from "elysia";
import { enumOf, listOf, pageQuery as pageFields, strictInteger, strictObject } from "../../http/schemas";

const ENDPOINT_ID = "whep_01932c5e-7a1b-7000-8000-000000000001";
const DELIVERY_ID = "whdl_01932c5e-7a1b-7000-8000-000000000002";
const EVENT_ID = "evt_01932c5e-7a1b-7000-8000-000000000003";
const TIME = "2026-01-31T12:00:00.000Z";
const EVENT_TYPES_TEXT =
  "`execution.started`, `execution.completed`, `execution.failed`, `execution.cancelled`, `execution.expired`, `balance.low`";

export namespace WebhookModel {
  const eventTypes = t.Array(t.String({ maxLength: 64 }), {
    maxItems: 16,
    description: `Event types to receive: ${EVENT_TYPES_TEXT}. Leave out (or null on update) to receive every type; an empty list is refused.`,
    examples: [["execution.completed", "execution.failed"]],
  });
  const url = t.String({ minLength: 1, maxLength: 2048, description: "Absolute http(s) URL that receives POSTs. Private and loopback addresses are refused unless the operator allows them.", examples: ["https://example.com/hooks/modelroute"] });
  const description = t.String({ maxLength: 500, description: "A note for yourself.", examples: ["production order pipeline"] });

  export const createBody = strictObject({
    url,
    events: t.Optional(eventTypes),
    description: t.Optional(description),
    enabled: t.Optional(t.Boolean({ description: "Default true. A disabled endpoint receives nothing." })),
  });
  export type createBody = typeof createBody.static;

  export const updateBody = strictObject({
    url: t.Optional(url),
    events: t.Optional(t.Union([eventTypes, t.Null()])),
    description: t.Optional(t.Union([description, t.Null()])),
    enabled: t.Optional(t.Boolean({ description: "true re-enables an endpoint disabled by request or by a 410 answer." })),
  });
  export type updateBody = typeof updateBody.static;

  export const endpoint = t.Object(
    {
      id: t.String({ examples: [ENDPOINT_ID] }),
      object: t.Literal("webhook_endpoint"),
      url: t.String({ examples: ["https://example.com/hooks/modelroute"] }),
      events: t.Union([t.Array(t.String()), t.Null()], { description: "Subscribed event types; null = every type.", examples: [["execution.completed"]] }),
      description: t.Union([t.String(), t.Null()]),
      enabled: t.Boolean(),
      disabled_reason: t.Union([t.String(), t.Null()], { description: "Why a disabled endpoint is disabled (by request, or the receiver answered 410 Gone).", examples: [null] }),
      secret: t.String({
        description: "The signing secret (`whsec_` + base64 of 32 bytes). In full only in the create and rotate-secret responses; masked elsewhere.",
        examples: ["whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="],
      }),
      previous_secret_expires_at: t.Union([t.String(), t.Null()], { description: "After a rotation: until when the previous secret also signs (24 h); null otherwise." }),
      created_at: t.String({ examples: [TIME] }),
      updated_at: t.String({ examples: [TIME] }),
    },
    { description: "A URL that receives signed event notifications." },
  );

  export const deleted = t.Object({ id: t.String({ examples: [ENDPOINT_ID] }), object: t.Literal("webhook_endpoint"), deleted: t.Literal(true) });
  export const endpointList = listOf(endpoint, "The organization's webhook endpoints, newest first.");

  export const signingSecret = t.Object(
    {
      object: t.Literal("webhook_signing_secret"),
      secret: t.String({ description: "Signs deliveries to executions' `webhook_url`.", examples: ["whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="] }),
      previous_secret_expires_at: t.Union([t.String(), t.Null()], { description: "After a rotation: until when the previous secret also signs (24 h); null otherwise." }),
    },
    { description: "The organization's signing secret for executions' `webhook_url` deliveries." },
  );

  export const attempt = t.Object(
    {
      attempt: strictInteger({ description: "1 for the first attempt.", examples: [1] }),
      at: t.String({ description: "When the attempt started.", examples: [TIME] }),
      status_code: t.Union([strictInteger(), t.Null()], { description: "The receiver's HTTP status; null when it gave no answer.", examples: [500] }),
      latency_ms: strictInteger({ examples: [84] }),
      error: t.Union([t.String(), t.Null()], { description: "Why the attempt failed; null on a 2xx.", examples: ["The receiver answered 500: internal error"] }),
      next_retry_at: t.Union([t.String(), t.Null()], { description: "When the next automatic attempt goes; null when none follows.", examples: ["2026-01-31T12:00:05.000Z"] }),
    },
    { description: "One HTTP attempt of a delivery." },
  );

  const deliveryFields = {
    id: t.String({ examples: [DELIVERY_ID] }),
    object: t.Literal("webhook_delivery"),
    event_id: t.String({ description: "The evt_ id, sent as `X-Webhook-Id` / `webhook-id`; the same on every attempt.", examples: [EVENT_ID] }),
    event_type: t.String({ examples: ["execution.completed"] }),
    execution_id: t.Union([t.String(), t.Null()], { description: "The execution the event is about, if any." }),
    endpoint_id: t.Union([t.String(), t.Null()], { description: "null for a delivery to an execution's own `webhook_url`." }),
    url: t.String({ description: "Where the last attempt went.", examples: ["https://example.com/hooks/modelroute"] }),
    status: enumOf(["pending", "succeeded", "failed"] as const, { description: "`pending` while attempts remain; `succeeded` after a 2xx; `failed` when retries ran out, the deadline passed, or the receiver answered 410." }),
    attempt_count: strictInteger({ examples: [1] }),
    last_status_code: t.Union([strictInteger(), t.Null()], { examples: [200] }),
    next_attempt_at: t.Union([t.String(), t.Null()], { description: "When a pending delivery is attempted next." }),
    expires_at: t.String({ description: "No attempt is made after this (the event's time + 24 h)." }),
    created_at: t.String({ examples: [TIME] }),
  };
  export const delivery = t.Object(deliveryFields, { description: "One event on its way to one URL." });
  export const deliveryDetail = t.Object({ ...deliveryFields, attempts: t.Array(attempt, { description: "Every attempt, oldest first." }) }, { description: "A delivery with every attempt." });
  export const deliveryList = listOf(delivery, "Deliveries, newest first.");

  export const pageQuery = t.Object(pageFields);
  export type pageQuery = typeof pageQuery.static;
  export const deliveryQuery = t.Object({ ...pageFields, status: t.Optional(enumOf(["pending", "succeeded", "failed"] as const, { description: "Only deliveries in this state." })) });
  export type deliveryQuery = typeof deliveryQuery.static;

  export const endpointParams = t.Object({ id: t.String({ description: "The endpoint id (whep_…).", examples: [ENDPOINT_ID] }) });
  export const deliveryParams = t.Object({ id: t.String({ description: "The delivery id (whdl_…).", examples: [DELIVERY_ID] }) });
}
