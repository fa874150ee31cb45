import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses, pageQuery } from "../../http/schemas";
import { GuardrailModel } from "./model";
import * as Guardrails from "./service";

const security = [{ apiKey: [] }];
const page = t.Object(pageQuery);

export const guardrailRoutes = (ctx: AppContext) =>
  new Elysia({ prefix: "/v1/guardrails", tags: ["Guardrails"] })
    .use(auth(ctx))
    .post(
      "/",
      ({ body, caller, set }) => {
        set.status = 201;
        return Guardrails.createGuardrail(ctx, caller.orgId, body);
      },
      {
        auth: "full",
        body: GuardrailModel.createBody,
        detail: {
          summary: "Create a guardrail",
          description:
            "Allowed/blocked models, a cap on the cost of one execution, content rules (blocked terms or regular expressions, checked on every string of the input) and limits for the keys assigned to it. A regular expression that does not compile, or whose repeated group contains a repetition (`(a+)+`), is a 400 naming `content_rules[i].pattern`.",
          security,
        },
        response: { 201: GuardrailModel.guardrail, ...errorResponses(400, 401, 403, 409, 429) },
      },
    )
    .get("/", ({ query, caller }) => Guardrails.listGuardrails(ctx, caller.orgId, query), {
      auth: "full",
      query: page,
      detail: { summary: "List guardrails", description: "The organization's guardrails, newest first.", security },
      response: { 200: GuardrailModel.list, ...errorResponses(400, 401, 403, 429) },
    })
    .get("/assignments/keys", ({ query, caller }) => Guardrails.listAssignments(ctx, caller.orgId, query), {
      auth: "full",
      query: page,
      detail: { summary: "List all key assignments", description: "Every key that has a guardrail, with the guardrail's id.", security },
      response: { 200: GuardrailModel.assignments, ...errorResponses(400, 401, 403, 429) },
    })
    .get("/:id", ({ params, caller }) => Guardrails.getGuardrail(ctx, caller.orgId, params.id), {
      auth: "full",
      params: GuardrailModel.idParams,
      detail: { summary: "Get a guardrail", security },
      response: { 200: GuardrailModel.guardrail, ...errorResponses(401, 403, 404, 429) },
    })
    .patch("/:id", ({ params, body, caller }) => Guardrails.updateGuardrail(ctx, caller.orgId, params.id, body), {
      auth: "full",
      params: GuardrailModel.idParams,
      body: GuardrailModel.updateBody,
      detail: {
        summary: "Update a guardrail",
        description: "Fields left out keep their value. Lists and `content_rules` are replaced whole. Assigned keys follow the change within a second.",
        security,
      },
      response: { 200: GuardrailModel.guardrail, ...errorResponses(400, 401, 403, 404, 429) },
    })
    .delete("/:id", ({ params, caller }) => Guardrails.deleteGuardrail(ctx, caller.orgId, params.id), {
      auth: "full",
      params: GuardrailModel.idParams,
      detail: { summary: "Delete a guardrail", description: "Deletes it and unassigns its keys, which then run without a guardrail.", security },
      response: { 200: GuardrailModel.deleted, ...errorResponses(401, 403, 404, 429) },
    })
    .get("/:id/assignments/keys", ({ params, query, caller }) => Guardrails.listAssignments(ctx, caller.orgId, query, params.id), {
      auth: "full",
      params: GuardrailModel.idParams,
      query: page,
      detail: { summary: "List a guardrail's keys", security },
      response: { 200: GuardrailModel.assignments, ...errorResponses(400, 401, 403, 404, 429) },
    })
    .post("/:id/assignments/keys", ({ params, body, caller }) => Guardrails.assignKeys(ctx, caller.orgId, params.id, body.key_ids), {
      auth: "full",
      params: GuardrailModel.idParams,
      body: GuardrailModel.keyIdsBody,
      detail: {
        summary: "Assign keys to a guardrail",
        description: "Bulk assign. A key has at most one guardrail, so assigning moves it from any other. An unknown key id is a 400 naming `key_ids[i]`.",
        security,
      },
      response: { 200: GuardrailModel.assigned, ...errorResponses(400, 401, 403, 404, 429) },
    })
    .post("/:id/assignments/keys/remove", ({ params, body, caller }) => Guardrails.unassignKeys(ctx, caller.orgId, params.id, body.key_ids), {
      auth: "full",
      params: GuardrailModel.idParams,
      body: GuardrailModel.keyIdsBody,
      detail: { summary: "Unassign keys from a guardrail", description: "Bulk unassign; keys under another guardrail are left alone.", security },
      response: { 200: GuardrailModel.unassigned, ...errorResponses(400, 401, 403, 404, 429) },
    });
