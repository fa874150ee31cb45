#!/usr/bin/env bun
/**
 * The `modelroute` command line: a dispatcher over the commands in src/cli/ (serve is the
 * default). Flags are parsed with util.parseArgs; a bad flag or value, or a server that cannot
 * start (port in use, data directory unusable or owned), is one line on stderr and exit code 2; a
 * refused operation is one line and exit code 1.
 */
import { parseArgs } from "node:util";
import { adminToken } from "./cli/admin-token";
import { backup } from "./cli/backup";
import { catalog } from "./cli/catalog";
import { credits } from "./cli/credits";
import { keys } from "./cli/keys";
import { migrate } from "./cli/migrate";
import { orgs } from "./cli/orgs";
import { providers } from "./cli/providers";
import { restore } from "./cli/restore";
import { serve } from "./cli/serve";
import { CliError, describeAppError, UsageError, type Command, type Values } from "./cli/shared";
import { version } from "./cli/version";
import { ConfigError } from "./config";
import { AppError } from "./errors";
import { StartError } from "./server";

// Elysia reads NODE_ENV at run time; production keeps its own messages out of responses.
process.env.NODE_ENV ??= "production";

/** Every command, in the order `--help` lists them. */
const commands: Record<string, Command> = {
  serve,
  migrate,
  orgs,
  keys,
  credits,
  catalog,
  providers,
  backup,
  restore,
  "admin-token": adminToken,
  version,
};

function mainHelp() {
  const width = Math.max(...Object.keys(commands).map((n) => n.length)) + 1;
  const list = Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(width)} ${c.summary}`)
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
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(command.usage + "\n");
    return 0;
  }
  return command.run(parsed.values as Values, parsed.positionals);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      if (error instanceof UsageError || error instanceof ConfigError || error instanceof StartError) {
        process.stderr.write(`modelroute: ${error.message}\n`);
        process.exit(2);
      }
      if (error instanceof CliError) {
        process.stderr.write(`modelroute: ${error.message}\n`);
        process.exit(1);
      }
      if (error instanceof AppError) {
        process.stderr.write(`modelroute: ${describeAppError(error)}\n`);
        process.exit(1);
      }
      process.stderr.write(`modelroute: ${(error as Error).stack ?? error}\n`);
      process.exit(1);
    },
  );
}
