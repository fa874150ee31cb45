/**
 * The root index, liveness, readiness and Prometheus metrics: unauthenticated, no rate limit, no
 * envelope on 200.
 */
import { Elysia, t } from "elysia";
import { publicUrl, type AppContext } from "../../context";
import { VERSION } from "../../version";
import { OpsModel } from "./model";
import * as Ops from "./service";

const wantsHtml = (request: Request) => /\btext\/html\b/i.test(request.headers.get("accept") ?? "");

export const opsRoutes = (ctx: AppContext) =>
  new Elysia({ tags: ["Operations"] })
    .get(
      "/",
      ({ request, redirect }) =>
        // A browser is sent to the API reference; an API client gets an index of where things are.
        wantsHtml(request) ? redirect("/docs", 302) : Ops.index(publicUrl(ctx), VERSION),
      {
        detail: {
          summary: "Index",
          description: "A browser (Accept: text/html) is redirected to `/docs`; any other client gets where the API, its documentation and the health checks are.",
        },
        response: { 200: OpsModel.index, 302: t.Void() },
      },
    )
    .get("/healthz", () => ({ status: "ok" as const }), {
      detail: { summary: "Liveness", description: "200 while the process is up. Does not touch the database." },
      response: { 200: OpsModel.health },
    })
    .get(
      "/readyz",
      async ({ set }) => {
        const readiness = await Ops.readiness(ctx);
        set.status = readiness.ready ? 200 : 503;
        return readiness;
      },
      {
        detail: {
          summary: "Readiness",
          description:
            "200 when the server is not stopping, the database is writable, every embedded migration is applied, a probe file can be written in the data directory (not full, not read-only), and, with files on S3, the storage answers; 503 otherwise, with the failing check.",
        },
        response: {
          200: OpsModel.readiness,
          503: OpsModel.notReady,
        },
      },
    )
    .get(
      "/metrics",
      ({ set }) => {
        set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
        return ctx.metrics.render(ctx.router.status());
      },
      { detail: { summary: "Prometheus metrics", description: "Requests by route and status, a latency histogram, the health of each upstream route (breaker, in flight, queued, calls, failures, median latency), process memory." } },
    );
