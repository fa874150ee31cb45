import { t } from "elysia";

export namespace OpsModel {
  const readinessFields = {
    ready: t.Boolean({ description: "True when every check passes." }),
    checks: t.Object({
      accepting_requests: t.Boolean({ description: "False once a graceful stop (SIGTERM) has begun: requests still in flight finish, new work should go elsewhere." }),
      database_writable: t.Boolean(),
      migrations_applied: t.Boolean(),
      data_dir_writable: t.Boolean({ description: "A 64 KiB probe file could be written and synced in the data directory (and, with local files, where their bytes go): false when the disk is full or read-only." }),
      file_storage_reachable: t.Optional(t.Boolean({ description: "With files on S3: the storage answered a HEAD with these credentials within 2 s." })),
    }),
  };
  export const readiness = t.Object(readinessFields, {
    description: "The readiness checks; every one passes.",
    examples: [{ ready: true, checks: { accepting_requests: true, database_writable: true, migrations_applied: true, data_dir_writable: true } }],
  });
  export type readiness = typeof readiness.static;
  /** The same object as a 503 sends it, with the failing check. */
  export const notReady = t.Object(readinessFields, {
    description: "The readiness checks, with the one that failed.",
    examples: [{ ready: false, checks: { accepting_requests: true, database_writable: true, migrations_applied: true, data_dir_writable: false } }],
  });

  export const health = t.Object({ status: t.Literal("ok") }, { description: "The process is up.", examples: [{ status: "ok" }] });

  export const index = t.Object(
    {
      object: t.Literal("index"),
      name: t.Literal("ModelRoute"),
      version: t.String({ examples: ["0.1.0"] }),
      api: t.String({ description: "Base URL of the API.", examples: ["http://127.0.0.1:8080/v1"] }),
      docs: t.String({ description: "The API reference, for a browser.", examples: ["http://127.0.0.1:8080/docs"] }),
      openapi: t.String({ description: "The OpenAPI document.", examples: ["http://127.0.0.1:8080/openapi.json"] }),
      health: t.String({ examples: ["http://127.0.0.1:8080/healthz"] }),
      readiness: t.String({ examples: ["http://127.0.0.1:8080/readyz"] }),
    },
    {
      description: "Where the API, its reference and the health checks are.",
      examples: [
        {
          object: "index",
          name: "ModelRoute",
          version: "0.1.0",
          api: "http://127.0.0.1:8080/v1",
          docs: "http://127.0.0.1:8080/docs",
          openapi: "http://127.0.0.1:8080/openapi.json",
          health: "http://127.0.0.1:8080/healthz",
          readiness: "http://127.0.0.1:8080/readyz",
        },
      ],
    },
  );
  export type index = typeof index.static;
}
