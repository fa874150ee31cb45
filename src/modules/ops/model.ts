import { t } from "elysia";

export namespace OpsModel {
  export const readiness = t.Object({
    ready: t.Boolean({ description: "True when every check passes." }),
    checks: t.Object({ database_writable: t.Boolean(), migrations_applied: t.Boolean() }),
  });
  export type readiness = typeof readiness.static;
}
