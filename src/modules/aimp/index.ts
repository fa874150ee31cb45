/**
 * The AIMP gateway-compatible surface under `/api` (docs/compatibility.md "AIMP gateway"): runs
 * (execute, index, search), media uploads, the marketplace, the wallet and usage, and the vector
 * scopes ("knowledge bases"). Keys come in `X-API-Key`; a key sent as a bearer token is refused,
 * as the gateway's documentation requires. Errors use the gateway's own envelope.
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { AppError, invalidFields } from "../../errors";
import { auth } from "../../http/auth";
import { errorResponses } from "../../http/schemas";
import * as Vectors from "../vectors/service";
import { marketplaceModel, marketplaceModels, usageSummary, wallet } from "./account";
import { completeUpload, initUpload } from "./media";
import { AimpModel } from "./model";
import { parseRunRequest, scopeIssue } from "./request";
import * as Runs from "./service";

const security = [{ apiKey: [] }];
const json = (schema: unknown) => ({ content: { "application/json": { schema: schema as never } } });

/** `X-API-Key` only: a bearer token on this surface is a 401 saying so. */
function refuseBearer(headers: Record<string, string | undefined>) {
  if (headers.authorization !== undefined)
    throw new AppError("UNAUTHORIZED", "Do not send an API key as a bearer token: send it as X-API-Key: <your_api_key>.");
}

function scopeKey(orgId: string, params: { model: string; scope: string }): Vectors.ScopeKey {
  const issue = scopeIssue("scope", params.scope);
  if (issue) throw invalidFields([issue]);
  return { orgId, model: params.model, scope: params.scope };
}

export const aimpRoutes = (ctx: AppContext) =>
  new Elysia({ name: "modules/aimp", seed: ctx.instanceId, prefix: "/api", tags: ["AIMP compatible"] })
    .onTransform(({ headers, path }) => {
      if (!path.startsWith("/api/v1/")) refuseBearer(headers);
    })
    .use(auth(ctx))
    .post(
      "/runs",
      async ({ body, caller, set, request, server }) => {
        const req = parseRunRequest(body);
        server?.timeout(request, 0); // a wait must not hit the idle timeout
        const run = await Runs.createRun(ctx, caller, req);
        const done = !["PENDING", "PROCESSING", "AWAITING_WEBHOOK"].includes(run.status);
        set.status = done ? 200 : 202;
        set.headers.location = `/api/runs/${run.id}`;
        return run;
      },
      {
        auth: "inference",
        detail: {
          summary: "Create a run",
          description:
            "Runs a model: `execute` (default) gives the model `input` with `params` beside it; `index` embeds `input.text` or `input.image` (a media_ref) " +
            "and stores it under `scope` with `input.id` (given or generated) and `input.metadata`, replacing an item of the same id; `search` embeds the query " +
            "and returns the `params.top_k` (default 10, at most 100) nearest items of the same model and scope, filtered by `params.filter` (metadata equality). " +
            "`parameters`, `options.hardware_tier`, `resources`, `alias`, `collection` and `namespace` are refused. The run is an execution: held, charged and " +
            "listed in `/v1/executions`. 200 when it finished within `options.wait` seconds (default 60), else 202; poll `GET /api/runs/{id}`.",
          security,
          requestBody: { required: true, ...json(AimpModel.runRequest) },
        },
        response: { 200: AimpModel.run, 202: AimpModel.run, ...errorResponses(400, 401, 402, 403, 413, 415, 429) },
      },
    )
    .get("/runs/:id", ({ caller, params }) => Runs.getRun(ctx, caller, params.id), {
      auth: "inference",
      params: AimpModel.runParams,
      detail: { summary: "Get a run", description: "The run as it stands: status, output, usage and cost once it has finished.", security },
      response: { 200: AimpModel.run, ...errorResponses(401, 404, 429) },
    })
    .post("/media/upload/init", ({ caller, body }) => initUpload(ctx, caller.orgId, body), {
      auth: "inference",
      body: AimpModel.mediaInitBody,
      detail: {
        summary: "Start a media upload",
        description: "Returns an `upload_url` to PUT the bytes to (with the declared Content-Type and exactly `size_bytes` bytes). `media_type` must agree with `content_type`.",
        security,
      },
      response: { 200: AimpModel.mediaUpload, ...errorResponses(400, 401, 413, 415, 429) },
    })
    .post("/media/upload/complete", ({ caller, body }) => completeUpload(ctx, caller.orgId, body.upload_id), {
      auth: "inference",
      body: AimpModel.mediaCompleteBody,
      detail: {
        summary: "Complete a media upload",
        description: "Checks the received bytes (size, and type by their magic bytes) and returns the `media_ref` to use in run inputs. Bytes that are not the declared type are discarded (400 FILE_FORMAT_UNSUPPORTED).",
        security,
      },
      response: { 200: AimpModel.media, ...errorResponses(400, 401, 404, 413, 415, 429) },
    })
    .get("/marketplace/models", () => marketplaceModels(ctx), {
      auth: "inference",
      detail: { summary: "List marketplace models", description: "The catalog as marketplace entries: task, run modes, pricing, input contract, media inputs.", security },
      response: { 200: AimpModel.marketplaceModels, ...errorResponses(401, 429) },
    })
    .get("/marketplace/models/:slug", ({ params }) => marketplaceModel(ctx, params.slug), {
      auth: "inference",
      params: AimpModel.slugParams,
      detail: { summary: "Get a marketplace model", description: "One model's marketplace entry.", security },
      response: { 200: AimpModel.marketplaceModel, ...errorResponses(401, 404, 429) },
    })
    .get("/billing/wallet", ({ caller }) => wallet(ctx, caller), {
      auth: "inference",
      detail: { summary: "Get the wallet", description: "The workspace's balance, the same as GET /v1/balance.", security },
      response: { 200: AimpModel.wallet, ...errorResponses(401, 429) },
    })
    .get("/billing/usage/summary", ({ caller, query }) => usageSummary(ctx, caller, query), {
      auth: "inference",
      query: AimpModel.usageQuery,
      detail: { summary: "Get the usage summary", description: "Totals over [from, to) and the rows of GET /v1/usage per UTC day and per model.", security },
      response: { 200: AimpModel.usageSummary, ...errorResponses(400, 401, 429) },
    })
    .get("/knowledge-bases", ({ caller, query }) => Vectors.listScopes(ctx, caller.orgId, query.model), {
      auth: "inference",
      query: AimpModel.scopesQuery,
      detail: { summary: "List vector scopes", description: "The organization's scopes per model with their item counts.", security },
      response: { 200: AimpModel.scopes, ...errorResponses(401, 429) },
    })
    .get("/knowledge-bases/:model/:scope/items", ({ caller, params, query }) => Vectors.listItems(ctx, scopeKey(caller.orgId, params), query), {
      auth: "inference",
      params: AimpModel.scopeParams,
      query: AimpModel.itemsQuery,
      detail: { summary: "List a scope's items", description: "Newest first; `starting_after` takes an item id.", security },
      response: { 200: AimpModel.items, ...errorResponses(400, 401, 404, 429) },
    })
    .get("/knowledge-bases/:model/:scope/items/:item_id", ({ caller, params }) => Vectors.getItem(ctx, scopeKey(caller.orgId, params), params.item_id), {
      auth: "inference",
      params: AimpModel.itemParams,
      detail: { summary: "Get an item", description: "One indexed item: metadata, input reference, dimensions.", security },
      response: { 200: AimpModel.item, ...errorResponses(400, 401, 404, 429) },
    })
    .delete("/knowledge-bases/:model/:scope/items/:item_id", ({ caller, params }) => Vectors.deleteItem(ctx, scopeKey(caller.orgId, params), params.item_id), {
      auth: "inference",
      params: AimpModel.itemParams,
      detail: { summary: "Delete an item", description: "Removes the item from the scope and its index.", security },
      response: { 200: AimpModel.deletedItem, ...errorResponses(400, 401, 404, 429) },
    })
    .delete("/knowledge-bases/:model/:scope", ({ caller, params }) => Vectors.deleteScope(ctx, scopeKey(caller.orgId, params)), {
      auth: "inference",
      params: AimpModel.scopeParams,
      detail: { summary: "Delete a scope", description: "Removes every item of the scope.", security },
      response: { 200: AimpModel.deletedScope, ...errorResponses(400, 401, 404, 429) },
    })
    .onStop(() => Vectors.saveSnapshots(ctx));
