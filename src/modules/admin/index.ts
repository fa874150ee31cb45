import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses, pageQuery } from "../../http/schemas";
import { KeyModel } from "../keys/model";
import { AdminModel } from "./model";
import * as Admin from "./service";

const security = [{ operatorToken: [] }];

export const adminRoutes = (ctx: AppContext) => {
  const deps = (): Admin.AdminDeps => ({ db: ctx.db, now: ctx.clock.now(), actor: "operator", keyCache: ctx.keyCache });
  return new Elysia({ prefix: "/admin/v1", tags: ["Admin"] })
    .use(auth(ctx))
    .post(
      "/orgs",
      ({ body, set }) => {
        set.status = 201;
        return Admin.createOrg(deps(), body.name);
      },
      {
        admin: true,
        body: AdminModel.createOrgBody,
        detail: { summary: "Create an organization", description: "Names are unique (409 `CONFLICT` otherwise). Give it a key with POST /admin/v1/orgs/{id}/keys.", security },
        response: { 201: AdminModel.org, ...errorResponses(400, 401, 409) },
      },
    )
    .get("/orgs", ({ query }) => Admin.listOrgs(deps(), query), {
      admin: true,
      query: t.Object(pageQuery),
      detail: { summary: "List organizations", security },
      response: { 200: AdminModel.orgs, ...errorResponses(400, 401) },
    })
    .get("/orgs/:id", ({ params }) => Admin.getOrg(deps(), params.id), {
      admin: true,
      params: AdminModel.orgParams,
      detail: { summary: "Get an organization", security },
      response: { 200: AdminModel.org, ...errorResponses(401, 404) },
    })
    .post("/orgs/:id/suspend", ({ params }) => Admin.setOrgStatus(deps(), params.id, "suspended"), {
      admin: true,
      params: AdminModel.orgParams,
      detail: {
        summary: "Suspend an organization",
        description: "Every key of the organization answers 401 \"The organization is suspended.\" from now on (within a second on other processes).",
        security,
      },
      response: { 200: AdminModel.org, ...errorResponses(401, 404) },
    })
    .post("/orgs/:id/unsuspend", ({ params }) => Admin.setOrgStatus(deps(), params.id, "active"), {
      admin: true,
      params: AdminModel.orgParams,
      detail: { summary: "Reactivate an organization", description: "Its keys work again.", security },
      response: { 200: AdminModel.org, ...errorResponses(401, 404) },
    })
    .get("/orgs/:id/keys", ({ params, query }) => Admin.listOrgKeys(deps(), params.id, query), {
      admin: true,
      params: AdminModel.orgParams,
      query: t.Object(pageQuery),
      detail: { summary: "List an organization's keys", security },
      response: { 200: KeyModel.list, ...errorResponses(400, 401, 404) },
    })
    .post(
      "/orgs/:id/keys",
      ({ params, body, set }) => {
        const { view, key } = Admin.createOrgKey(deps(), params.id, body);
        set.status = 201;
        return { ...view, key };
      },
      {
        admin: true,
        params: AdminModel.orgParams,
        body: KeyModel.createBody,
        detail: {
          summary: "Create a key for an organization",
          description: "As POST /v1/api-keys, for any organization; the 20-key limit applies. The secret is in `key`, only here.",
          security,
        },
        response: { 201: KeyModel.withSecret, ...errorResponses(400, 401, 404, 409) },
      },
    )
    .delete("/orgs/:id/keys/:keyId", ({ params }) => Admin.revokeOrgKey(deps(), params.id, params.keyId), {
      admin: true,
      params: AdminModel.orgKeyParams,
      detail: { summary: "Revoke a key of an organization", description: "Revokes at once, even the organization's last full-permission key.", security },
      response: { 200: KeyModel.deleted, ...errorResponses(401, 404) },
    })
    .get("/catalog", ({ query }) => Admin.getCatalog(deps(), { includeSecrets: query.include_secrets === true }), {
      admin: true,
      query: AdminModel.catalogQuery,
      detail: {
        summary: "Export the catalog",
        description: "Providers and models in the catalog file format (the CLI's `catalog export`). Provider API keys only with `include_secrets=true`.",
        security,
      },
      response: { 200: AdminModel.catalogExport, ...errorResponses(401) },
    })
    .put("/catalog", ({ body }) => Admin.applyCatalog(deps(), body), {
      admin: true,
      detail: {
        summary: "Apply a catalog file",
        description:
          "Creates or replaces the providers and models in the body (the CLI's `catalog apply`), in one transaction, after validating all of it: a 400 lists every bad field by path (`models[2].pricing.per_image`). A provider without `api_key` keeps its stored one.",
        requestBody: { required: true, content: { "application/json": { schema: AdminModel.catalogApply as never } } },
        security,
      },
      response: { 200: AdminModel.applied, ...errorResponses(400, 401, 413, 415) },
    })
    .get("/routes", () => Admin.routes(deps(), ctx.router.status()), {
      admin: true,
      detail: {
        summary: "Route health",
        description: "Every model's routes in failover order, their limits, and this process's view of their health: breaker state and next probe, Retry-After cooldown, calls in flight and queued, calls and failures, median latency.",
        security,
      },
      response: { 200: AdminModel.routes, ...errorResponses(401) },
    })
    .get("/stats", () => Admin.stats(deps()), {
      admin: true,
      detail: { summary: "Installation stats", description: "Organizations, active keys and executions by status.", security },
      response: { 200: AdminModel.stats, ...errorResponses(401) },
    })
    .get("/audit-log", ({ query }) => Admin.listAudit(deps(), query, query), {
      admin: true,
      query: t.Object({ ...pageQuery, ...AdminModel.auditQuery }),
      detail: { summary: "Read the audit log", description: "Every operator action from the admin API and the CLI: who (`actor`), what, about which id, when.", security },
      response: { 200: AdminModel.auditLog, ...errorResponses(400, 401) },
    });
};
