import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { appliedMigrations, databasePath, embeddedMigrationCount, migrate, type Db } from "../db/client";
import * as schema from "../db/schema";
import { registerDataDir } from "../db/secret-box";
import { AppError } from "../errors";
import { catalogIssues, type CatalogFile } from "../modules/admin/catalog-file";
import * as Admin from "../modules/admin/service";
import * as Catalog from "../modules/catalog/service";
import { configFrom, DATA_FLAGS_HELP, dataOptions, noExtraArgs, positional, print, printJson, UsageError, withDatabase, type Command, type Values } from "./shared";

const USAGE = `modelroute catalog export [FILE] | apply FILE | check FILE [flags]

Exports the catalog (providers and models with their routes and prices) to a YAML or JSON file,
or applies one: every provider and model in the file is created or replaced, in one transaction,
after the whole file is validated. Errors name each bad field by its path, e.g.
  models[2].pricing.per_image: must be a money string (decimal USD with at most 6 decimals, e.g. "0.040")
A running server sees an applied catalog within a second. Providers and models that are not in
the file are left as they are. A provider without api_key keeps its stored key.

check validates a file exactly as apply does (routes may name providers already in the
catalog) and writes nothing, not even to the database: it prints "FILE is valid: …" and exits 0,
or every problem, one per line, and exits 1. It runs beside a server, and on a data directory
without a database yet (then against the default catalog a first run creates).

The format follows the file's extension (.json, else YAML); export without FILE prints YAML.

Examples:
  modelroute catalog check catalog.yaml
  modelroute catalog export catalog.yaml
  modelroute catalog export --format json > catalog.json
  modelroute catalog apply catalog.yaml
  modelroute catalog export backup.yaml --include-secrets

Flags:
  --format F          yaml or json, for export to stdout (default yaml).
  --include-secrets   Export provider API keys in clear (the file is written with mode 0600).
${DATA_FLAGS_HELP}`;

const isJsonPath = (path: string) => path.toLowerCase().endsWith(".json");

/** A file that was read but does not parse: a usage error for apply, a problem of the file for check. */
class UnparsableFile extends UsageError {}

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
    throw new UnparsableFile(`${path} is not valid ${isJsonPath(path) ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** The SQLite header's read and write versions: 2 is WAL, which an in-memory copy cannot use; 1 is a rollback journal. */
const HEADER_FORMAT_BYTES = [18, 19];

/** A private in-memory copy of a database file's bytes, brought up to this binary's schema. */
function memoryCopy(bytes: Uint8Array): { db: Db; sqlite: Database } {
  for (const at of HEADER_FORMAT_BYTES) if (bytes.length > at) bytes[at] = 1;
  const sqlite = Database.deserialize(bytes, { strict: true });
  const db = drizzle({ client: sqlite, schema });
  migrate({ db, client: sqlite, path: ":memory:", dialect: "sqlite" });
  return { db, sqlite };
}

/**
 * The catalog of a data directory, read so that nothing is written there (its stored provider
 * keys unseal with the directory's secret.key, which is never created here). A database with a WAL
 * file (a server has it open, or stopped without a checkpoint) is opened read-only; a stopped
 * server's checkpointed file is read into memory (a read-only open would leave -wal and -shm
 * files behind); an older schema is migrated in a memory copy; no database at all gives the
 * default catalog a first run seeds (`fresh`). Exported for `providers test`.
 */
export function readOnlyCatalog(dataDir: string): { db: Db; fresh: boolean; close(): void } {
  const path = databasePath(dataDir);
  if (!existsSync(path)) {
    const sqlite = new Database(":memory:", { strict: true });
    const db = drizzle({ client: sqlite, schema });
    migrate({ db, client: sqlite, path: ":memory:", dialect: "sqlite" });
    Catalog.seedDefaultCatalog(db, Date.now());
    return { db, fresh: true, close: () => sqlite.close() };
  }
  let bytes: Uint8Array;
  if (existsSync(`${path}-wal`)) {
    const live = new Database(path, { readonly: true, strict: true });
    if (appliedMigrations({ client: live }) >= embeddedMigrationCount("sqlite")) {
      const db = drizzle({ client: live, schema });
      registerDataDir(db, dataDir);
      return { db, fresh: false, close: () => live.close() };
    }
    bytes = live.serialize();
    live.close();
  } else {
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const copy = memoryCopy(bytes);
  registerDataDir(copy.db, dataDir);
  return { db: copy.db, fresh: false, close: () => copy.sqlite.close() };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** `catalog check FILE`: apply's validation (same parser, same catalogIssues) without the write. */
function checkCatalog(values: Values, path: string): number {
  let parsed: unknown;
  try {
    parsed = readCatalogFile(path);
  } catch (e) {
    if (!(e instanceof UnparsableFile)) throw e;
    process.stderr.write(`modelroute: ${e.message}\n`);
    return 1;
  }
  const dataDir = configFrom(values).dataDir;
  const catalog = readOnlyCatalog(dataDir);
  let issues;
  try {
    issues = catalogIssues(catalog.db, parsed);
  } finally {
    catalog.close();
  }
  if (issues.length > 0) {
    process.stderr.write(`modelroute: ${path} is invalid (${plural(issues.length, "problem")}):\n${issues.map((d) => `  ${d.field}: ${d.message}`).join("\n")}\n`);
    return 1;
  }
  const file = parsed as CatalogFile;
  print(`${path} is valid: ${plural(file.providers?.length ?? 0, "provider")}, ${plural(file.models?.length ?? 0, "model")}`);
  if (catalog.fresh) print(`(no database in ${dataDir} yet: checked against the default catalog a first run creates)`);
  return 0;
}

const render = (value: unknown, json: boolean) => (json ? JSON.stringify(value, null, 2) : Bun.YAML.stringify(value, null, 2)) + "\n";

export const catalog: Command = {
  summary: "Export the model catalog to a file, apply one, or check one (YAML or JSON).",
  usage: USAGE,
  options: { ...dataOptions, format: { type: "string" }, "include-secrets": { type: "boolean" }, json: { type: "boolean" } },
  async run(values, positionals) {
    const action = positional(positionals, 0, "a subcommand (export, apply, check)", "catalog");
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
    if (action === "check") {
      noExtraArgs(positionals, 2, "catalog");
      return checkCatalog(values, positional(positionals, 1, "FILE", "catalog"));
    }
    throw new UsageError(`unknown subcommand "catalog ${action}"; use export, apply or check`);
  },
};
