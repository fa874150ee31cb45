import * as Admin from "../modules/admin/service";
import { DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, UsageError, withDatabase, type Command } from "./shared";

export const adminToken: Command = {
  summary: "Replace the operator token of the admin API.",
  usage: `modelroute admin-token rotate [flags]

Generates a new operator token (mrt_…), stores only its SHA-256 and prints it once. The old
token stops working at once (within a second on a running server). Written to the audit log.

Examples:
  modelroute admin-token rotate
  modelroute admin-token rotate --data-dir /var/lib/modelroute

Flags:
${DATA_FLAGS_HELP}`,
  options: dataOptions,
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (rotate)", "admin-token");
    if (action !== "rotate") throw new UsageError(`unknown subcommand "admin-token ${action}"; use rotate`);
    noExtraArgs(positionals, 1, "admin-token");
    return withDatabase(values, (deps) => {
      const token = Admin.rotateAdminToken(deps);
      print(`New operator token (shown once, store it now):\n${token}`);
      return 0;
    });
  },
};
