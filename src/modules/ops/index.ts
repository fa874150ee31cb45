/** Liveness, readiness and Prometheus metrics: unauthenticated, no rate limit, no envelope on 200. */
import { Elysia, t } from "elysia";
import type { AppContext } from "../../context";
import { OpsModel } from "./model";
import * as Ops from "./service";

export const opsRoutes = (ctx: AppContext) =>
  new Elysia({ tags: ["Operations"] })
    .get("/healthz", () => ({ status: "ok" as const }), {
      detail: { summary: "Liveness", description: "200 while the process is up. Does not touch the database." },
      response: { 200: t.Object({ status: t.Literal("ok") }) },
    })
    .get(
      "/readyz",
      ({ set }) => {
        const readiness = Ops.readiness(ctx);
        set.status = readiness.ready ? 200 : 503;
        return readiness;
      },
      {
        detail: {
          summary: "Readiness",
          description: "200 when the database is writable and every embedded migration is applied; 503 otherwise, with the failing check.",
        },
        response: {
          200: OpsModel.readiness,
          503: OpsModel.readiness,
        },
      },
    )
    .get(
      "/metrics",
      ({ set }) => {
        set.headers["content-type"] = "text/plain; version=0.0.4; charset=utf-8";
        return ctx.metrics.render();
      },
      { detail: { summary: "Prometheus metrics", description: "Requests by route and status, a latency histogram, process memory." } },
    );
