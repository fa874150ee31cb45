import * as Admin from "../modules/admin/service";
import * as Ledger from "../modules/ledger/service";
import { parseUsd } from "../money";
import { DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, printJson, requireFlag, UsageError, withDatabase, type Command } from "./shared";

const USAGE = `modelroute credits add --org ORG --amount USD [--note TEXT] [--idempotency-key K] | balance --org ORG [flags]

Adds prepaid credit to an organization, or shows its balance, straight on the database beside a
running server (which sees the new balance at once). ORG is an org id or its name. USD is a
decimal amount with at most 6 decimals, read exactly (no floating point). With
--idempotency-key, running the same command again adds nothing and prints the first credit
(the key is kept forever per organization). Each credit is written to the audit log with actor
"cli".

Examples:
  modelroute credits add --org acme --amount 25.00
  modelroute credits add --org acme --amount 100 --note "Invoice 2026-11" --idempotency-key inv-2026-11
  modelroute credits balance --org acme --json

Flags:
  --org ORG                 The organization (id or name).
  --amount USD              add: the amount to credit, greater than 0, at most 1000000.
  --note TEXT               add: shown on the balance transaction (at most 500 characters).
  --idempotency-key K       add: 1–255 printable ASCII characters.
  --json                    Print JSON instead of text.
${DATA_FLAGS_HELP}`;

export const credits: Command = {
  summary: "Add prepaid credit to an organization, or show its balance.",
  usage: USAGE,
  options: { ...dataOptions, org: { type: "string" }, amount: { type: "string" }, note: { type: "string" }, "idempotency-key": { type: "string" }, json: { type: "boolean" } },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (add, balance)", "credits");
    noExtraArgs(positionals, 1, "credits");
    if (action !== "add" && action !== "balance") throw new UsageError(`unknown subcommand "credits ${action}"; use add or balance`);
    const orgRef = requireFlag(values, "org", "credits");
    const asJson = values.json === true;
    let amount: string | undefined;
    if (action === "add") {
      amount = requireFlag(values, "amount", "credits");
      const micros = parseUsd(amount);
      if (micros === null || micros === 0) throw new UsageError(`--amount must be a USD amount above 0 like 25.00, with at most 6 decimals (got ${JSON.stringify(amount)})`);
    }
    return withDatabase(values, (deps) => {
      const org = Admin.resolveOrg(deps, orgRef);
      if (action === "balance") {
        const balance = Ledger.balanceView(deps.db, org.id);
        if (asJson) printJson(balance);
        else print(`${org.name} (${org.id}): available ${balance.available}, held ${balance.held}, total ${balance.total} USD`);
        return 0;
      }
      const { transaction, created, balance } = Ledger.addCredit(deps, org.id, {
        amount: amount!,
        note: values.note as string | undefined,
        idempotencyKey: values["idempotency-key"] as string | undefined,
      });
      if (asJson) printJson({ ...transaction, balance, created });
      else if (created) print(`Credited ${transaction.amount} USD to ${org.name} (${org.id}) as ${transaction.id}. Available now: ${balance.available} USD.`);
      else print(`Already credited with this idempotency key: ${transaction.amount} USD as ${transaction.id} on ${transaction.created_at}; nothing added. Available: ${balance.available} USD.`);
      return 0;
    });
  },
};
