import { t } from "elysia";

export namespace OpsModel {
  export const readiness = t.Object({
    ready: t.Boolean({ description: "True when every check passes." }),
    checks: t.Object({ database_writable: t.Boolean(), migrations_applied: t.Boolean() }),
  });
  export type readiness = typeof readiness.static;

  export const index = t.Object({
    object: t.Literal("index"),
    name: t.Literal("ModelRoute"),
    version: t.String({ examples: ["0.1.0"] }),
    api: t.String({ description: "Base URL of the API.", examples: ["http://127.0.0.1:8080/v1"] }),
    docs: t.String({ description: "The API reference, for a browser.", examples: ["http://127.0.0.1:8080/docs"] }),
    openapi: t.String({ description: "The OpenAPI document.", examples: ["http://127.0.0.1:8080/openapi.json"] }),
    health: t.String({ examples: ["http://127.0.0.1:8080/healthz"] }),
    readiness: t.String({ examples: ["http://127.0.0.1:8080/readyz"] }),
  });
  export type index = typeof index.static;
}
