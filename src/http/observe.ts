/** One JSON log line and one metrics observation per request, after the response is sent. */
import { Elysia } from "elysia";
import type { AppContext } from "../context";
import { elapsedMsOf, requestIdOf } from "./request-id";
import { pathOf } from "./request-target";

function statusOf(set: { status?: number | string }, response: unknown): number {
  if (response instanceof Response) return response.status;
  return typeof set.status === "number" ? set.status : 200;
}

export const observe = (ctx: AppContext) =>
  // The context is destructured, never taken whole: Elysia reads a hook's parameters to decide
  // what to prepare for every request, and a whole context would make it parse each request's
  // cookies and query string for nothing.
  new Elysia({ name: "http/observe", seed: ctx.instanceId }).onAfterResponse({ as: "global" }, ({ request, set, route: matched, responseValue }: { request: Request; set: { status?: number | string }; route?: string; responseValue?: unknown }) => {
    // The answer is already sent: whatever fails here is logged, never thrown out of the process.
    try {
      // A prefix group registers "/v1/models/"; label it as clients call it, "/v1/models".
      const route = (matched || "unmatched").replace(/(.)\/+$/, "$1");
      const status = statusOf(set, responseValue);
      const durationMs = elapsedMsOf(request);
      ctx.metrics.observeRequest(request.method, route, status, durationMs / 1000);
      ctx.log.info("request", {
        request_id: requestIdOf(request),
        method: request.method,
        route,
        // A path that carries a credential (a provider callback's token) is logged as its route.
        path: route.includes("/:token") ? route : pathOf(request),
        status,
        duration_ms: Math.round(durationMs * 100) / 100,
      });
    } catch (error) {
      ctx.log.error("request observation failed", { request_id: requestIdOf(request), error });
    }
  });
