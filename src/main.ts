#!/usr/bin/env bun
/**
 * The `modelroute` command line: serve (default), migrate, version. Flags and settings are
 * parsed with util.parseArgs; a bad flag or value is one line on stderr and exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, loadConfig, SETTINGS, type Config } from "./config";
import { closeDatabase, migrate, openDatabase } from "./db/client";
import { startServer } from "./server";
import { VERSION } from "./version";

// Elysia reads NODE_ENV at run time; production keeps its own messages out of responses.
process.env.NODE_ENV ??= "production";

class UsageError extends Error {}

const settingOptions = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: "string" as const }]));
const commonOptions = { config: { type: "string" as const }, help: { type: "boolean" as const, short: "h" } };

const SETTINGS_HELP = SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env.padEnd(36)} ${s.help}`).join("\n");

type Command = {
  summary: string;
  usage: string;
  options: ParseArgsConfig["options"];
  run(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number>;
};

function configFrom(values: Record<string, string | boolean | undefined>): Config {
  return loadConfig({ flags: values, env: process.env, file: (values.config as string | undefined) ?? process.env.MODELROUTE_CONFIG });
}

const commands: Record<string, Command> = {
  serve: {
    summary: "Run the HTTP server (the default command).",
    usage: `modelroute serve [flags]

Starts the gateway. On an empty data directory it creates the schema, the default organization,
a management API key and the operator token, prints the key once and writes both to
<data-dir>/bootstrap.json (mode 0600). SIGTERM or SIGINT drains in-flight requests and exits 0.

Examples:
  modelroute
  modelroute serve --port 9000 --data-dir /var/lib/modelroute
  MODELROUTE_LOG_LEVEL=warn modelroute serve --config /etc/modelroute.yaml

Flags (flag > environment > config file > default):
  --config FILE                 MODELROUTE_CONFIG                    JSON or YAML file of settings.
${SETTINGS_HELP}`,
    options: { ...commonOptions, ...settingOptions },
    async run(values) {
      const config = configFrom(values);
      const running = await startServer(config);
      const { ctx } = running;
      if (running.bootstrap) {
        process.stderr.write(
          [
            "",
            "ModelRoute first run: created the default organization.",
            `  API key:        ${running.bootstrap.api_key}`,
            `  Operator token: ${running.bootstrap.admin_token}`,
            `  Both are saved in ${config.dataDir}/bootstrap.json (mode 0600). Copy them somewhere safe and delete the file.`,
            "",
          ].join("\n") + "\n",
        );
      }
      ctx.log.info("listening", { url: running.url, docs: `${running.url}/docs`, version: VERSION, data_dir: config.dataDir });
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          ctx.log.info("shutting down", { signal, grace_ms: config.shutdownGraceMs });
          void running.stop().then(resolve);
        };
        process.once("SIGTERM", () => onSignal("SIGTERM"));
        process.once("SIGINT", () => onSignal("SIGINT"));
      });
      return 0;
    },
  },
  migrate: {
    summary: "Apply the embedded database migrations and exit.",
    usage: `modelroute migrate [--data-dir DIR]

Applies every migration embedded in this binary that the database has not seen. The server does
this at start too; run it by hand to upgrade ahead of a restart.

Examples:
  modelroute migrate
  modelroute migrate --data-dir /var/lib/modelroute`,
    options: { ...commonOptions, ...settingOptions },
    async run(values) {
      const config = configFrom(values);
      const handle = openDatabase(config.dataDir);
      const applied = migrate(handle);
      closeDatabase(handle);
      process.stdout.write(`${applied} migration(s) applied to ${handle.path}\n`);
      return 0;
    },
  },
  version: {
    summary: "Print the version.",
    usage: `modelroute version

Examples:
  modelroute version`,
    options: commonOptions,
    async run() {
      process.stdout.write(`modelroute ${VERSION} (bun ${Bun.version})\n`);
      return 0;
    },
  },
};

function mainHelp() {
  const list = Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
    .join("\n");
  return `modelroute — a provider-opaque AI execution gateway in one binary

Usage: modelroute [command] [flags]

Commands:
${list}

Run "modelroute <command> --help" for a command's flags and examples.
`;
}

/** parseArgs' own messages run long ("To specify a positional argument…"); keep the part that names the flag. */
function usageMessage(error: Error & { code?: string }, command: string): string {
  const flag = /'(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return `unknown flag ${flag}; run "modelroute ${command} --help" for the flags`;
  return error.message.split("\n")[0]!;
}

export async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (first === "--version") return commands.version!.run({}, []);
  const name = first && !first.startsWith("-") ? first : "serve";
  const command = commands[name];
  if (!command) throw new UsageError(`unknown command "${name}"; run "modelroute --help" for the list`);
  const args = name === first ? argv.slice(1) : argv;
  let parsed;
  try {
    parsed = parseArgs({ args, options: command.options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(usageMessage(e as Error & { code?: string }, name));
  }
  if (parsed.values.help) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  return command.run(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof UsageError || error instanceof ConfigError) {
        process.stderr.write(`modelroute: ${error.message}\n`);
        process.exit(2);
      }
      process.stderr.write(`modelroute: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
