import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { errorResponses, pageQuery } from "../../http/schemas";
import { KeyModel } from "./model";
import * as Keys from "./service";

const security = [{ apiKey: [] }];

export const keyRoutes = (ctx: AppContext) => {
  const deps = (): Keys.KeyDeps => ({ db: ctx.db, now: ctx.clock.now(), keyCache: ctx.keyCache });
  return new Elysia({ prefix: "/v1/api-keys", tags: ["API keys"] })
    .use(auth(ctx))
    .post(
      "/",
      ({ body, caller, set }) => {
        const { view, key } = Keys.createKey(deps(), caller.orgId, body);
        set.status = 201;
        return { ...view, key };
      },
      {
        auth: "full",
        body: KeyModel.createBody,
        detail: {
          summary: "Create an API key",
          description:
            "Creates a key and returns its secret in `key`, **only in this response**. At most 20 active (not revoked, not expired) keys per organization: a 21st answers 409 `API_KEY_LIMIT_REACHED`. `permission` defaults to `inference`.",
          security,
        },
        response: { 201: KeyModel.withSecret, ...errorResponses(400, 401, 403, 409, 429) },
      },
    )
    .get("/", ({ query, caller }) => Keys.listKeys(deps(), caller.orgId, query), {
      auth: "full",
      query: t.Object(pageQuery),
      detail: { summary: "List API keys", description: "The organization's keys, newest first, masked. Revoked keys are not listed.", security },
      response: { 200: KeyModel.list, ...errorResponses(400, 401, 403, 429) },
    })
    .get("/:id", ({ params, caller }) => Keys.getKey(deps(), caller.orgId, params.id), {
      auth: "full",
      params: KeyModel.idParams,
      detail: { summary: "Get an API key", description: "One key, masked, with its limits and status.", security },
      response: { 200: KeyModel.apiKey, ...errorResponses(401, 403, 404, 429) },
    })
    .patch("/:id", ({ params, body, caller }) => Keys.updateKey(deps(), caller.orgId, params.id, body), {
      auth: "full",
      params: KeyModel.idParams,
      body: KeyModel.updateBody,
      detail: {
        summary: "Update an API key",
        description:
          "Renames, disables/enables, or changes limits. `limits` fields left out keep their value; null removes one. A disabled key answers 401 \"The API key is disabled.\". Disabling the last working full-permission key: 409 `CONFLICT`.",
        security,
      },
      response: { 200: KeyModel.apiKey, ...errorResponses(400, 401, 403, 404, 409, 429) },
    })
    .delete("/:id", ({ params, caller }) => Keys.revokeKey(deps(), caller.orgId, params.id), {
      auth: "full",
      params: KeyModel.idParams,
      detail: {
        summary: "Revoke an API key",
        description:
          "Revokes the key at once (its secrets answer 401 \"The API key has been revoked.\"). Revoking the organization's last working full-permission key: 409 `CONFLICT`.",
        security,
      },
      response: { 200: KeyModel.deleted, ...errorResponses(401, 403, 404, 409, 429) },
    })
    .post(
      "/:id/rotate",
      ({ params, caller }) => {
        const { view, key } = Keys.rotateKey(deps(), caller.orgId, params.id);
        return { ...view, key };
      },
      {
      auth: "full",
      params: KeyModel.idParams,
      detail: {
        summary: "Rotate an API key",
        description:
          "Issues a new secret for the same key (same id, limits, guardrail) and returns it in `key`, only here. The previous secret keeps working for 1 hour, then answers 401 \"The API key was rotated and its grace period has ended.\". Never refused by the 20-key limit.",
        security,
      },
      response: { 200: KeyModel.withSecret, ...errorResponses(401, 403, 404, 429) },
    },
    );
};
