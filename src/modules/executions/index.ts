/** HTTP routes of executions: parse, call the service, shape the response. */
import { Elysia } from "elysia";
import { publicUrl, type AppContext } from "../../context";
import { auth } from "../../http/auth";
import { requestIdOf } from "../../http/request-id";
import { errorResponses } from "../../http/schemas";
import { ExecutionModel } from "./model";
import * as Executions from "./service";
import { executionStream } from "./stream";

const security = [{ apiKey: [] }];

export const executionRoutes = (ctx: AppContext) => {
  /** Absolute, from MODELROUTE_PUBLIC_URL: behind a proxy the client gets the address it can reach. */
  const locationOf = (id: string) => `${publicUrl(ctx)}/v1/executions/${id}`;
  return new Elysia({ prefix: "/v1/executions", tags: ["Executions"] })
    .use(auth(ctx))
    .post(
      "/",
      async ({ body, caller, headers, request, set, server }) => {
        const submitted = await Executions.submit(ctx, caller, body, {
          request,
          prefer: headers.prefer,
          idempotencyKey: headers["idempotency-key"],
          keepOpen: () => server?.timeout(request, 0),
          streamHeaders: (id) => ({ location: locationOf(id), "x-request-id": requestIdOf(request) }),
        });
        // A Response bypasses the JSON response schema; typed as never so the route keeps its schema types.
        if ("stream" in submitted) return submitted.stream as never;
        set.headers.location = locationOf(submitted.executionId);
        Object.assign(set.headers, submitted.headers);
        set.status = submitted.status;
        return submitted.execution;
      },
      {
        auth: "inference",
        body: ExecutionModel.createBody,
        headers: ExecutionModel.createHeaders,
        detail: {
          summary: "Create an execution",
          description:
            "Runs `input` on `model`. **ASYNC** (default) answers 202 at once with a `Location` header; poll it or `/result`. " +
            "**SYNC** (or `Prefer: wait[=N]`) waits up to N seconds (default 60, max 300): 200 with the finished execution, " +
            "or 202 with it as it stands when the wait ends. **STREAMING** answers `text/event-stream`: `status` events, " +
            "`output.delta` text for text models, and a final `execution` event.\n\n" +
            "The maximum cost is held from the balance when the execution is created (402 `INSUFFICIENT_BALANCE` when it " +
            "cannot be); the actual cost is captured when it ends. Send `Idempotency-Key` to retry safely.\n\n" +
            "`model` may be an alias (GET /v1/models, `alias_of`): its models are tried in order and `served_by` names the one that answered, " +
            "whose price is charged. A cacheable request (docs/cache.md: temperature 0 or a seed by default) answers with " +
            "`X-ModelRoute-Cache: HIT` or `MISS`; a hit is an execution created COMPLETED with `cached: true`, charged the model's `per_cache_hit` price.",
          security,
        },
        response: {
          200: ExecutionModel.execution,
          202: ExecutionModel.accepted,
          ...errorResponses(400, 401, 402, 409, 413, 415, 422, 429),
        },
      },
    )
    .get("/", ({ caller, query }) => Executions.list(ctx, caller, query), {
      auth: "inference",
      query: ExecutionModel.listQuery,
      detail: { summary: "List executions", description: "Newest first, with cursor pagination and filters by status and model.", security },
      response: { 200: ExecutionModel.list, ...errorResponses(400, 401, 429) },
    })
    .get("/:id", ({ caller, params }) => Executions.executionView(Executions.find(ctx, caller, params.id)), {
      auth: "inference",
      params: ExecutionModel.idParams,
      detail: {
        summary: "Get an execution",
        description: "Status, output, error, usage and cost. Poll until `status` is COMPLETED, FAILED, CANCELLED or EXPIRED (every 2 s in development; use webhooks in production).",
        security,
      },
      response: { 200: ExecutionModel.execution, ...errorResponses(401, 404, 429) },
    })
    .get("/:id/result", ({ caller, params }) => Executions.result(ctx, caller, params.id), {
      auth: "inference",
      params: ExecutionModel.idParams,
      detail: {
        summary: "Get an execution's result",
        description: "The polling guide's body for a finished execution. Before it ends: 409 `EXECUTION_NOT_FINISHED` (retryable, `Retry-After: 2`) with the current status in `details`.",
        security,
      },
      response: { 200: ExecutionModel.result, ...errorResponses(401, 404, 409, 429) },
    })
    .get(
      "/:id/events",
      ({ caller, params, headers, request, server }) => {
        const row = Executions.find(ctx, caller, params.id);
        const lastId = Number(headers["last-event-id"] ?? 0);
        server?.timeout(request, 0);
        return executionStream(ctx, row.id, Number.isInteger(lastId) && lastId > 0 ? lastId : 0, { "x-request-id": requestIdOf(request) });
      },
      {
        auth: "inference",
        params: ExecutionModel.idParams,
        headers: ExecutionModel.eventsHeaders,
        detail: {
          summary: "Stream an execution's events",
          description: "Server-sent events until the execution ends: `status` (`{id,status,at}`, with `id:` sequence numbers), `output.delta` (`{text}`), then `execution` (the whole object) and the stream closes. `: ping` comments every 5 s. Send `Last-Event-ID` to resume.",
          security,
        },
      },
    )
    .post("/:id/cancel", async ({ caller, params }) => Executions.executionView(await Executions.cancel(ctx, caller, params.id)), {
      auth: "inference",
      params: ExecutionModel.idParams,
      detail: {
        summary: "Cancel an execution",
        description: "PENDING, PROCESSING or AWAITING_WEBHOOK → CANCELLED; the hold is released (work a provider reports as done may be charged). A finished execution: 409 `CONFLICT` with its status in `details`.",
        security,
      },
      response: { 200: ExecutionModel.cancelled, ...errorResponses(401, 404, 409, 429) },
    });
};
