import * as Admin from "../modules/admin/service";
import { allPages, DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, printJson, table, UsageError, withDatabase, type Command } from "./shared";

const USAGE = `modelroute orgs create NAME | list | suspend ORG | unsuspend ORG [flags]

Manages organizations straight on the database, beside a running server. ORG is an org id or
its (unique) name. A suspended organization's keys answer 401 within a second. Each change is
written to the audit log with actor "cli".

Examples:
  modelroute orgs create acme
  modelroute orgs list --json
  modelroute orgs suspend acme
  modelroute orgs unsuspend org_01932c5e-7a1b-7000-8000-000000000001

Flags:
  --json             Print JSON instead of text.
${DATA_FLAGS_HELP}`;

export const orgs: Command = {
  summary: "Create, list, suspend and unsuspend organizations.",
  usage: USAGE,
  options: { ...dataOptions, json: { type: "boolean" } },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (create, list, suspend, unsuspend)", "orgs");
    const asJson = values.json === true;
    return withDatabase(values, (deps) => {
      switch (action) {
        case "create": {
          noExtraArgs(positionals, 2, "orgs");
          const org = Admin.createOrg(deps, positional(positionals, 1, "NAME", "orgs"));
          if (asJson) printJson(org);
          else print(`Created organization ${org.name} (${org.id}).\nGive it a key: modelroute keys create --org ${org.name} --name admin --permission full`);
          return 0;
        }
        case "list": {
          noExtraArgs(positionals, 1, "orgs");
          const all = allPages((page) => Admin.listOrgs(deps, page));
          if (asJson) printJson(all);
          else print(table(["ID", "NAME", "STATUS", "CREATED"], all.map((o) => [o.id, o.name, o.status, o.created_at])));
          return 0;
        }
        case "suspend":
        case "unsuspend": {
          noExtraArgs(positionals, 2, "orgs");
          const target = Admin.resolveOrg(deps, positional(positionals, 1, "ORG", "orgs"));
          const org = Admin.setOrgStatus(deps, target.id, action === "suspend" ? "suspended" : "active");
          if (asJson) printJson(org);
          else print(`Organization ${org.name} (${org.id}) is now ${org.status}.`);
          return 0;
        }
        default:
          throw new UsageError(`unknown subcommand "orgs ${action}"; use create, list, suspend or unsuspend`);
      }
    });
  },
};
