/** HTTP routes of webhooks (full-permission keys only): endpoints, the org signing secret, the delivery log. */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses } from "../../http/schemas";
import * as Deliveries from "./deliveries";
import { WebhookModel } from "./model";
import * as Webhooks from "./service";

const security = [{ apiKey: [] }];

const SIGNING =
  "Every delivery is a POST of `{\"id\":\"evt_…\",\"type\",\"created_at\",\"data\"}` with `X-Signature-Timestamp` (unix s), " +
  "`X-Signature` = hex HMAC-SHA256(secret, \"{timestamp}.{body}\"), `X-Webhook-Id`, `X-Webhook-Event`, and the Standard Webhooks " +
  "headers `webhook-id`, `webhook-timestamp`, `webhook-signature`. See docs/webhooks.md for verification code.";

export const webhookRoutes = (ctx: AppContext) =>
  new Elysia({ prefix: "/v1/webhooks", tags: ["Webhooks"] })
    .use(auth(ctx))
    .post(
      "/endpoints",
      async ({ body, caller, set }) => {
        const endpoint = await Webhooks.createEndpoint(ctx, caller.orgId, body);
        set.status = 201;
        return endpoint;
      },
      {
        auth: "full",
        body: WebhookModel.createBody,
        detail: {
          summary: "Register a webhook endpoint",
          description:
            "Registers a URL for the organization's events and returns it with its own signing `secret`, **in full only in this response** (and after rotate-secret). " +
            `\`events\` filters by type; leave it out for all. At most 16 endpoints per organization (409 \`CONFLICT\`). ${SIGNING}`,
          security,
        },
        response: { 201: WebhookModel.createdEndpoint, ...errorResponses(400, 401, 403, 409, 429) },
      },
    )
    .get("/endpoints", ({ query, caller }) => Webhooks.listEndpoints(ctx, caller.orgId, query), {
      auth: "full",
      query: WebhookModel.pageQuery,
      detail: { summary: "List webhook endpoints", description: "Newest first, secrets masked.", security },
      response: { 200: WebhookModel.endpointList, ...errorResponses(400, 401, 403, 429) },
    })
    .get("/endpoints/:id", ({ params, caller }) => Webhooks.getEndpoint(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.endpointParams,
      detail: { summary: "Get a webhook endpoint", description: "The endpoint, secret masked.", security },
      response: { 200: WebhookModel.endpoint, ...errorResponses(401, 403, 404, 429) },
    })
    .patch("/endpoints/:id", ({ params, body, caller }) => Webhooks.updateEndpoint(ctx, caller.orgId, params.id, body), {
      auth: "full",
      params: WebhookModel.endpointParams,
      body: WebhookModel.updateBody,
      detail: {
        summary: "Update a webhook endpoint",
        description:
          "Changes the URL, event filter (null = every type), description, or `enabled`. Pending deliveries follow the endpoint: their retries go to the new URL. " +
          "Setting `enabled: true` re-enables an endpoint disabled by a 410 answer.",
        security,
      },
      response: { 200: WebhookModel.endpoint, ...errorResponses(400, 401, 403, 404, 429) },
    })
    .delete("/endpoints/:id", ({ params, caller }) => Webhooks.deleteEndpoint(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.endpointParams,
      detail: { summary: "Delete a webhook endpoint", description: "It receives nothing more; its pending deliveries stop. Its delivery log stays readable by delivery id.", security },
      response: { 200: WebhookModel.deleted, ...errorResponses(401, 403, 404, 429) },
    })
    .post("/endpoints/:id/test", ({ params, caller }) => Deliveries.sendTest(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.endpointParams,
      detail: {
        summary: "Send a test event",
        description:
          "Sends a signed `webhook.test` event to the endpoint now (disabled endpoints too) and answers with the delivery: the receiver's `status_code`, `latency_ms` and any error are in `attempts[0]`. " +
          "This answer is 200 whatever the receiver said; a test is not retried.",
        security,
      },
      response: { 200: WebhookModel.testDelivery, ...errorResponses(401, 403, 404, 429) },
    })
    .post("/endpoints/:id/rotate-secret", ({ params, caller }) => Webhooks.rotateEndpointSecret(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.endpointParams,
      detail: {
        summary: "Rotate an endpoint's secret",
        description:
          "Issues a new `secret`, returned in full only here. For 24 hours both secrets sign every delivery (`X-Signature: <new>,<old>`, `webhook-signature: v1,<new> v1,<old>`), so receivers can switch without losing events.",
        security,
      },
      response: { 200: WebhookModel.rotatedEndpoint, ...errorResponses(401, 403, 404, 429) },
    })
    .get("/endpoints/:id/deliveries", ({ params, query, caller }) => Deliveries.listDeliveries(ctx, caller.orgId, query, params.id), {
      auth: "full",
      params: WebhookModel.endpointParams,
      query: WebhookModel.deliveryQuery,
      detail: { summary: "List an endpoint's deliveries", description: "The delivery log of one endpoint, newest first; filter by `status`.", security },
      response: { 200: WebhookModel.deliveryList, ...errorResponses(400, 401, 403, 404, 429) },
    })
    .get("/deliveries", ({ query, caller }) => Deliveries.listDeliveries(ctx, caller.orgId, query), {
      auth: "full",
      query: WebhookModel.deliveryQuery,
      detail: {
        summary: "List all deliveries",
        description: "Every delivery of the organization, newest first, including those to executions' own `webhook_url` (`endpoint_id` null).",
        security,
      },
      response: { 200: WebhookModel.deliveryList, ...errorResponses(400, 401, 403, 429) },
    })
    .get("/deliveries/:id", ({ params, caller }) => Deliveries.getDelivery(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.deliveryParams,
      detail: {
        summary: "Get a delivery with its attempts",
        description:
          "Every attempt: time, status code, latency, error and the next retry. Retries follow 5 s, 5 min, 30 min, 2 h, 5 h (±10 %), or the receiver's `Retry-After`; none after 24 h.",
        security,
      },
      response: { 200: WebhookModel.deliveryDetail, ...errorResponses(401, 403, 404, 429) },
    })
    .post("/deliveries/:id/retry", ({ params, caller }) => Deliveries.retryDelivery(ctx, caller.orgId, params.id), {
      auth: "full",
      params: WebhookModel.deliveryParams,
      detail: {
        summary: "Resend a delivery now",
        description:
          "Makes one attempt now, whatever the delivery's status, with the same evt_ id, and answers with the delivery and all its attempts. A 2xx marks it `succeeded`; a failure leaves its status and schedule as they were. " +
          "409 `CONFLICT` while an attempt is in flight, when its endpoint was deleted, or after 25 attempts.",
        security,
      },
      response: { 200: WebhookModel.deliveryDetail, ...errorResponses(401, 403, 404, 409, 429) },
    })
    .get("/signing-secret", ({ caller }) => Webhooks.getSigningSecret(ctx, caller.orgId), {
      auth: "full",
      detail: {
        summary: "Get the organization's signing secret",
        description: "The secret that signs deliveries to executions' `webhook_url` (created on first use). Registered endpoints have their own secrets.",
        security,
      },
      response: { 200: WebhookModel.signingSecret, ...errorResponses(401, 403, 429) },
    })
    .post("/signing-secret/rotate", ({ caller }) => Webhooks.rotateSigningSecret(ctx, caller.orgId), {
      auth: "full",
      detail: {
        summary: "Rotate the organization's signing secret",
        description: "Issues a new secret; for 24 hours both sign deliveries to `webhook_url`, so receivers can switch without losing events.",
        security,
      },
      response: { 200: WebhookModel.rotatedSigningSecret, ...errorResponses(401, 403, 429) },
    });
