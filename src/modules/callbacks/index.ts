/**
 * `POST /v1/providers/callbacks/{token}`: where asynchronous upstreams (Cog, Replicate) report a
 * job's progress. No API key: the unguessable per-execution token is the credential, and a
 * provider that signs its callbacks has the signature checked too. The body is read raw (the
 * signature covers its exact bytes). The upstream is told whether to retry: 503 with
 * Retry-After while the gateway has not recorded the job yet, 200 for a duplicate or late one.
 */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { AppError, type ErrorCode } from "../../errors";
import { readLimited } from "../../http/body";
import { errorResponses } from "../../http/schemas";
import { handleCallback } from "../executions/async";

const CALLBACK_PATH = /^\/v1\/providers\/callbacks\/[^/]+\/?$/;
/** A prediction with `data:` URI outputs can be large; beyond this it is not a callback. */
const CALLBACK_LIMIT_BYTES = 32 * 1024 * 1024;

export const isCallbackRequest = (method: string, path: string) => method === "POST" && CALLBACK_PATH.test(path);

const CODES: Record<400 | 401 | 404 | 503, ErrorCode> = { 400: "INPUT_VALIDATION_ERROR", 401: "UNAUTHORIZED", 404: "NOT_FOUND", 503: "SERVICE_UNAVAILABLE" };

export const callbackRoutes = (ctx: AppContext) =>
  new Elysia({ name: "callbacks", seed: ctx.instanceId, prefix: "/v1/providers/callbacks", tags: ["Providers"] }).post(
    "/:token",
    async ({ params, request }) => {
      const raw = new TextDecoder().decode(await readLimited(request, CALLBACK_LIMIT_BYTES));
      const answer = await handleCallback(ctx, params.token, raw, request.headers);
      if (answer.status !== 200) throw new AppError(CODES[answer.status], answer.message, [], answer.retryAfter ? { "Retry-After": String(answer.retryAfter) } : {});
      return { received: true as const, message: answer.message };
    },
    {
      params: t.Object({ token: t.String({ description: "The execution's callback token, from the URL the gateway gave the upstream." }) }),
      response: {
        200: t.Object(
          { received: t.Literal(true), message: t.String() },
          { description: "The callback was taken (or was a duplicate of one already taken).", examples: [{ received: true, message: "Received." }] },
        ),
        ...errorResponses(400, 401, 404, 503),
      },
      detail: {
        summary: "Receive a provider callback",
        description:
          "Called by asynchronous upstreams (Cog's `webhook`, Replicate's webhooks), never by API clients. The token in the path is the execution's own and unguessable; " +
          "Replicate callbacks must also carry a valid Standard Webhooks signature when the provider has `webhook_secret_env`. A duplicate or late callback answers 200 and changes nothing.",
        security: [],
      },
    },
  );
