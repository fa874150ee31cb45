/** A ModelRoute server in its own process (bun src/main.ts), for crash and CLI tests. */
import { spawn, type Subprocess } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUN_RUNTIME_FLAGS } from "../../src/http/header-limit";

const ROOT = join(import.meta.dir, "../..");

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

export type ServerProcess = { proc: Subprocess; url: string; port: number; exited: Promise<number> };

/** How to run the server: the compiled `binary`, or the source with the flags `npm start` gives bun. */
export const serverProgram = (binary?: string) => (binary ? [binary] : [process.execPath, ...BUN_RUNTIME_FLAGS, join(ROOT, "src/main.ts")]);

/**
 * `bun src/main.ts serve`, or the compiled `binary` when given (benchmarks measure what ships).
 * `logLevel`: warn keeps test output quiet; a test that reads the logs asks for more.
 */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}, port?: number, opts: { binary?: string; logLevel?: string } = {}): Promise<ServerProcess> {
  const chosen = port ?? (await freePort());
  const program = serverProgram(opts.binary);
  const proc = spawn({
    cmd: [...program, "serve", "--data-dir", dataDir, "--port", String(chosen), "--log-level", opts.logLevel ?? "warn"],
    env: { ...process.env, NODE_ENV: "production", ...databaseEnvOf(dataDir), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const url = `http://127.0.0.1:${chosen}`;
  for (let i = 0; i < 400; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { proc, url, port: chosen, exited: proc.exited };
    await Bun.sleep(25);
  }
  proc.kill(9);
  throw new Error("server did not become healthy");
}

/** On a PostgreSQL run of the suite, the database a test server's data directory uses (helpers/postgres.ts). */
function databaseEnvOf(dataDir: string): Record<string, string> {
  const file = join(dataDir, "test-database-url");
  return existsSync(file) ? { MODELROUTE_DATABASE_URL: readFileSync(file, "utf8").trim() } : {};
}

export type CliRun = { code: number; stdout: string; stderr: string };

/** Runs `modelroute <args> --data-dir DIR` as its own process (bun src/main.ts), as an operator would; `env` is added to this process's environment. */
export async function runCli(args: string[], dataDir: string, env: Record<string, string> = {}): Promise<CliRun> {
  const proc = spawn({
    cmd: [process.execPath, join(ROOT, "src/main.ts"), ...args, "--data-dir", dataDir],
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: "production", ...databaseEnvOf(dataDir), ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}
