/**
 * `POST /v1/rerank`, in the shape Cohere, Jina and Voyage share, for their clients and for
 * vLLM's: each call is an execution of a rerank model, held, metered and settled like any
 * other. Errors are in OpenAI's shape, as on the rest of `/v1` (dialects/errors.ts).
 */
import { Elysia } from "elysia";
import type { AppContext } from "../../context";
import { auth } from "../../http/auth";
import { operationDoc } from "../route-docs";
import { modelFor, runCompleted } from "../run";
import { RerankModel } from "./model";
import { parseRerankRequest, rerankResponse } from "./request";

export const rerankRoutes = (ctx: AppContext) =>
  new Elysia({ name: "dialect/rerank", seed: ctx.instanceId, prefix: "/v1", tags: ["Rerank"] })
    .use(auth(ctx))
    .post(
      "/rerank",
      async ({ body, caller, request, headers }) => {
        const req = parseRerankRequest(body);
        modelFor(ctx, req.model, ["rerank"], "rerank");
        const row = await runCompleted(ctx, caller, { model: req.model, input: req.input, request, path: "/v1/rerank", idempotencyKey: headers["idempotency-key"], dialect: "rerank" });
        return rerankResponse(row, req);
      },
      {
        auth: "inference",
        detail: operationDoc({
          summary: "Rerank documents",
          description:
            "Orders `documents` by relevance to `query` with any rerank model of the catalog: `top_n`, `return_documents`. mock-rerank scores a document by the share of " +
            "the query's words it contains and is priced per search.",
          request: RerankModel.request,
          response: ["The ranking.", RerankModel.response],
        }),
      },
    );
