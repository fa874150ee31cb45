import { readFileSync, writeFileSync } from "node:fs";
import { AppError } from "../errors";
import * as Admin from "../modules/admin/service";
import { DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, printJson, UsageError, withDatabase, type Command } from "./shared";

const USAGE = `modelroute catalog export [FILE] | apply FILE [flags]

Exports the catalog (providers and models with their routes and prices) to a YAML or JSON file,
or applies one: every provider and model in the file is created or replaced, in one transaction,
after the whole file is validated. Errors name each bad field by its path, e.g.
  models[2].pricing.per_image: must be a money string (decimal USD with at most 6 decimals, e.g. "0.040")
A running server sees an applied catalog within a second. Providers and models that are not in
the file are left as they are. A provider without api_key keeps its stored key.

The format follows the file's extension (.json, else YAML); export without FILE prints YAML.

Examples:
  modelroute catalog export catalog.yaml
  modelroute catalog export --format json > catalog.json
  modelroute catalog apply catalog.yaml
  modelroute catalog export backup.yaml --include-secrets

Flags:
  --format F          yaml or json, for export to stdout (default yaml).
  --include-secrets   Export provider API keys in clear (the file is written with mode 0600).
${DATA_FLAGS_HELP}`;

const isJsonPath = (path: string) => path.toLowerCase().endsWith(".json");

function readCatalogFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return isJsonPath(path) ? JSON.parse(text) : Bun.YAML.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid ${isJsonPath(path) ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`);
  }
}

const render = (value: unknown, json: boolean) => (json ? JSON.stringify(value, null, 2) : Bun.YAML.stringify(value, null, 2)) + "\n";

export const catalog: Command = {
  summary: "Export the model catalog to a file, or apply one (YAML or JSON).",
  usage: USAGE,
  options: { ...dataOptions, format: { type: "string" }, "include-secrets": { type: "boolean" }, json: { type: "boolean" } },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (export, apply)", "catalog");
    if (action === "export") {
      noExtraArgs(positionals, 2, "catalog");
      const file = positionals[1];
      const format = values.format ?? (file && isJsonPath(file) ? "json" : "yaml");
      if (format !== "json" && format !== "yaml") throw new UsageError(`--format must be yaml or json (got ${JSON.stringify(format)})`);
      const includeSecrets = values["include-secrets"] === true;
      return withDatabase(values, (deps) => {
        const text = render(Admin.getCatalog(deps, { includeSecrets }), format === "json");
        if (!file) process.stdout.write(text);
        else {
          writeFileSync(file, text, { mode: includeSecrets ? 0o600 : 0o644 });
          print(`Wrote the catalog to ${file}.`);
        }
        return 0;
      });
    }
    if (action === "apply") {
      noExtraArgs(positionals, 2, "catalog");
      const path = positional(positionals, 1, "FILE", "catalog");
      const parsed = readCatalogFile(path);
      return withDatabase(values, (deps) => {
        let result;
        try {
          result = Admin.applyCatalog(deps, parsed);
        } catch (e) {
          if (!(e instanceof AppError) || e.code !== "INPUT_VALIDATION_ERROR") throw e;
          process.stderr.write(`modelroute: ${path} is invalid; nothing was applied:\n${e.details.map((d) => `  ${d.field}: ${d.message}`).join("\n")}\n`);
          return 1;
        }
        if (values.json === true) printJson(result);
        else print(`Applied ${path}: ${result.providers.length} provider(s), ${result.models.length} model(s) (${result.models.join(", ") || "none"}).`);
        return 0;
      });
    }
    throw new UsageError(`unknown subcommand "catalog ${action}"; use export or apply`);
  },
};
