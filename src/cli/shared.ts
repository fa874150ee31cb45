/**
 * What every command shares: the Command shape, usage errors (exit 2), the settings flags, and
 * opening the database for the operator commands (the CLI works on the database directly;
 * SQLite WAL lets it run beside a server: docs/operations.md "Operator commands").
 */
import { existsSync } from "node:fs";
import type { ParseArgsConfig } from "node:util";
import { loadConfig, SETTINGS, type Config } from "../config";
import { closeDatabase, databasePath, migrate, openDatabase, type DbHandle } from "../db/client";
import { DataDirInUse, lockDataDir, type DataDirLock } from "../db/server-lock";
import { AppError } from "../errors";
import type { AdminDeps } from "../modules/admin/service";

/** A mistake in how the command was called: one line on stderr, exit code 2. */
export class UsageError extends Error {}
/** An operation refused or failed for a reason the operator can act on: one line, exit code 1. */
export class CliError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

export type Command = {
  summary: string;
  usage: string;
  options: ParseArgsConfig["options"];
  run(values: Values, positionals: string[]): Promise<number>;
};

export const settingOptions = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: "string" as const }]));
export const commonOptions = { config: { type: "string" as const }, help: { type: "boolean" as const, short: "h" } };
/** For commands that only need to find the database. */
export const dataOptions = { ...commonOptions, "data-dir": { type: "string" as const }, database: { type: "string" as const } };

export const SETTINGS_HELP = SETTINGS.map((s) => `  --${s.flag.padEnd(26)} ${s.env.padEnd(36)} ${s.help}`).join("\n");
export const DATA_FLAGS_HELP = `  --data-dir DIR     MODELROUTE_DATA_DIR   The server's data directory (default ./data).
  --database URL     MODELROUTE_DATABASE_URL  The PostgreSQL database of a scale-out deployment (docs/scale-out.md).
  --config FILE      MODELROUTE_CONFIG     JSON or YAML settings file (its data_dir is used).`;

export function configFrom(values: Values): Config {
  return loadConfig({ flags: values, env: process.env, file: (values.config as string | undefined) ?? process.env.MODELROUTE_CONFIG });
}

/**
 * Opens the server's database for an operator command and brings its schema up to date. Refuses
 * an empty data directory: the server's first run creates the default org and operator token.
 */
export async function withDatabase<T>(values: Values, run: (deps: AdminDeps, handle: DbHandle) => T | Promise<T>): Promise<T> {
  const config = configFrom(values);
  if (!config.databaseUrl && !existsSync(databasePath(config.dataDir)))
    throw new UsageError(`no database in ${config.dataDir}; start the server there once (or pass --data-dir)`);
  const handle = openDatabase(config.dataDir, config.databaseUrl);
  try {
    migrate(handle);
    return await run({ db: handle.db, now: Date.now(), actor: "cli" }, handle);
  } finally {
    closeDatabase(handle);
  }
}

/** Positional argument `index`, or a usage error naming it. */
export function positional(positionals: string[], index: number, name: string, command: string): string {
  const value = positionals[index];
  if (value === undefined || value === "") throw new UsageError(`missing ${name}; run "modelroute ${command} --help"`);
  return value;
}

export function requireFlag(values: Values, flag: string, command: string): string {
  const value = values[flag];
  if (typeof value !== "string" || value === "") throw new UsageError(`missing --${flag}; run "modelroute ${command} --help"`);
  return value;
}

export function noExtraArgs(positionals: string[], expected: number, command: string) {
  if (positionals.length > expected) throw new UsageError(`unexpected argument "${positionals[expected]}"; run "modelroute ${command} --help"`);
}

/** A left-aligned text table for list commands. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

export const print = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
export const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

/** Every page of a cursor-paginated list. */
export function allPages<T extends { id: string }>(fetch: (page: { limit: number; starting_after?: string }) => { data: T[]; has_more: boolean }): T[] {
  const out: T[] = [];
  let after: string | undefined;
  for (;;) {
    const page = fetch({ limit: 100, starting_after: after });
    out.push(...page.data);
    if (!page.has_more || page.data.length === 0) return out;
    after = page.data[page.data.length - 1]!.id;
  }
}

/** An AppError from a service, as the CLI prints it: the message, then one line per field. */
export function describeAppError(error: AppError): string {
  const lines = [error.message];
  if (error.details.length > 1 || (error.details.length === 1 && !error.message.includes(error.details[0]!.field)))
    for (const d of error.details) lines.push(`  ${d.field}: ${d.message}`);
  return lines.join("\n");
}

/** The data directory for `command`, or a one-line refusal naming the process that owns it. */
export function ownDataDir(dataDir: string, command: string): DataDirLock {
  try {
    return lockDataDir(dataDir, command, Date.now());
  } catch (e) {
    if (e instanceof DataDirInUse) throw new CliError(e.message);
    throw e;
  }
}
