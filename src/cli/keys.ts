import { SPEND_RESETS } from "../modules/keys/limits";
import type { Permission } from "../modules/keys/service";
import * as Admin from "../modules/admin/service";
import { allPages, DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, printJson, requireFlag, table, UsageError, withDatabase, type Command } from "./shared";

const USAGE = `modelroute keys create|list|revoke --org ORG [flags]

Manages the API keys of an organization straight on the database, beside a running server.
ORG is an org id or name. A revoked key answers 401 within a second. The secret of a new key is
printed once. Each change is written to the audit log with actor "cli".

  keys create --org ORG --name NAME [--permission full|inference] [--expires-at ISO]
              [--requests-per-minute N] [--max-concurrent N] [--spend-limit USD --spend-limit-reset daily|weekly|monthly|none]
  keys list   --org ORG
  keys revoke KEY_ID --org ORG

Examples:
  modelroute keys create --org acme --name backend --permission full
  modelroute keys create --org default --name ci --spend-limit 5.00 --spend-limit-reset daily
  modelroute keys list --org acme --json
  modelroute keys revoke key_01932c5e-7a1b-7000-8000-000000000001 --org acme

Flags:
  --org ORG                 The organization (id or name). Required.
  --name NAME               A label for the new key.
  --permission P            full or inference (default inference).
  --expires-at ISO          ISO-8601 UTC time ending in Z when the key stops working.
  --requests-per-minute N   Per-key rate limit.
  --max-concurrent N        Most executions running at once.
  --spend-limit USD         Most USD per reset period, e.g. 25.00.
  --spend-limit-reset P     daily, weekly, monthly or none (default none).
  --json                    Print JSON instead of text.
${DATA_FLAGS_HELP}`;

function integerFlag(values: Record<string, unknown>, flag: string): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

function oneOf<T extends string>(values: Record<string, unknown>, flag: string, allowed: readonly T[]): T | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) throw new UsageError(`--${flag} must be one of ${allowed.join(", ")} (got ${JSON.stringify(raw)})`);
  return raw as T;
}

export const keys: Command = {
  summary: "Create, list and revoke API keys of an organization.",
  usage: USAGE,
  options: {
    ...dataOptions,
    org: { type: "string" },
    name: { type: "string" },
    permission: { type: "string" },
    "expires-at": { type: "string" },
    "requests-per-minute": { type: "string" },
    "max-concurrent": { type: "string" },
    "spend-limit": { type: "string" },
    "spend-limit-reset": { type: "string" },
    json: { type: "boolean" },
  },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (create, list, revoke)", "keys");
    const orgRef = requireFlag(values, "org", "keys");
    const asJson = values.json === true;
    if (!["create", "list", "revoke"].includes(action)) throw new UsageError(`unknown subcommand "keys ${action}"; use create, list or revoke`);
    return withDatabase(values, (deps) => {
      const org = Admin.resolveOrg(deps, orgRef);
      if (action === "create") {
        noExtraArgs(positionals, 1, "keys");
        const limits = {
          requests_per_minute: integerFlag(values, "requests-per-minute"),
          max_concurrent_executions: integerFlag(values, "max-concurrent"),
          spend_limit: values["spend-limit"] as string | undefined,
          spend_limit_reset: oneOf(values, "spend-limit-reset", SPEND_RESETS),
        };
        const { view, key } = Admin.createOrgKey(deps, org.id, {
          name: requireFlag(values, "name", "keys"),
          permission: oneOf<Permission>(values, "permission", ["full", "inference"]),
          expires_at: values["expires-at"] as string | undefined,
          limits: Object.values(limits).some((v) => v !== undefined) ? limits : undefined,
        });
        if (asJson) printJson({ ...view, key });
        else print(`Created ${view.permission} key ${view.id} "${view.name}" for ${org.name}.\nSecret (shown once, store it now):\n${key}`);
        return 0;
      }
      if (action === "list") {
        noExtraArgs(positionals, 1, "keys");
        const all = allPages((page) => Admin.listOrgKeys(deps, org.id, page));
        if (asJson) printJson(all);
        else
          print(
            table(
              ["ID", "NAME", "PERMISSION", "STATUS", "KEY", "LAST USED"],
              all.map((k) => [k.id, k.name, k.permission, k.status, k.masked_key, k.last_used_at ?? "never"]),
            ),
          );
        return 0;
      }
      noExtraArgs(positionals, 2, "keys");
      const deleted = Admin.revokeOrgKey(deps, org.id, positional(positionals, 1, "KEY_ID", "keys"));
      if (asJson) printJson(deleted);
      else print(`Revoked ${deleted.id}; it answers 401 within a second.`);
      return 0;
    });
  },
};
