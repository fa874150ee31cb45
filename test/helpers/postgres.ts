/**
 * A throwaway PostgreSQL cluster for the tests, from the machine's own PostgreSQL (Debian's
 * `postgresql` package; `.ci/run` installs it): one per `bun test` process, started on first
 * use under a temp dir, on 127.0.0.1 and a unix socket there, stopped at exit. initdb and
 * postgres refuse to run as root, so as root they run as the `postgres` system user.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, chownSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type TestCluster = { socketDir: string; port: number; adminUrl: string };

function binDir(): string | null {
  const fromPath = Bun.which("initdb");
  if (fromPath && Bun.which("pg_ctl")) return fromPath.slice(0, fromPath.lastIndexOf("/"));
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb"))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, "bin") : null;
}

export const postgresAvailable = (): boolean => binDir() !== null;

/** Whether this run puts every TestServer on PostgreSQL (`MODELROUTE_TEST_DATABASE=postgres`). */
export const suiteOnPostgres = () => process.env.MODELROUTE_TEST_DATABASE === "postgres";

function asOwner(args: string[]): string[] {
  if (process.getuid?.() !== 0) return args;
  return ["runuser", "-u", "postgres", "--", ...args];
}

function uidOf(user: string): { uid: number; gid: number } | null {
  const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${user}:`));
  if (!line) return null;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

let cluster: Promise<TestCluster> | null = null;

export function testCluster(): Promise<TestCluster> {
  return (cluster ??= start());
}

async function start(): Promise<TestCluster> {
  const bin = binDir();
  if (!bin) throw new Error("PostgreSQL is not installed (apt-get install postgresql): no initdb found");
  const dir = mkdtempSync(join(tmpdir(), "modelroute-pg-"));
  if (process.getuid?.() === 0) {
    const owner = uidOf("postgres");
    if (!owner) throw new Error("running as root needs a `postgres` system user to own the test cluster");
    chownSync(dir, owner.uid, owner.gid);
  }
  const data = join(dir, "data");
  const init = Bun.spawnSync(asOwner([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8", "--locale=C"]), { stdout: "pipe", stderr: "pipe" });
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400`;
  const started = Bun.spawnSync(asOwner([join(bin, "pg_ctl"), "-D", data, "-o", options, "-l", join(dir, "log"), "-w", "-t", "30", "start"]), { stdout: "pipe", stderr: "pipe" });
  if (started.exitCode !== 0) {
    const log = existsSync(join(dir, "log")) ? readFileSync(join(dir, "log"), "utf8").slice(-2000) : "";
    throw new Error(`PostgreSQL did not start: ${started.stderr.toString()}\n${log}`);
  }
  const stop = () => {
    Bun.spawnSync(asOwner([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]), { stdout: "ignore", stderr: "ignore" });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stop);
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => (stop(), process.exit(130)));
  return { socketDir: dir, port, adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

async function freePort(): Promise<number> {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  return port;
}

let counter = 0;

/** A new empty database on the test cluster; its URL goes through the unix socket (the fastest path). */
export async function freshDatabase(): Promise<string> {
  const c = await testCluster();
  const name = `mr_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const psql = Bun.spawnSync(["psql", "-h", c.socketDir, "-p", String(c.port), "-U", "postgres", "-qc", `CREATE DATABASE ${name}`], { stdout: "pipe", stderr: "pipe" });
  if (psql.exitCode !== 0) throw new Error(`CREATE DATABASE failed: ${psql.stderr.toString()}`);
  return `postgresql://postgres@/${name}?host=${encodeURIComponent(c.socketDir)}&port=${c.port}`;
}

/**
 * The database a test server's data directory uses on PostgreSQL: a fresh one the first time,
 * the same one when a test restarts a server on that directory (kept in a file beside it).
 */
export async function databaseForDataDir(dataDir: string): Promise<string> {
  const file = join(dataDir, "test-database-url");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const url = await freshDatabase();
  await Bun.write(file, url);
  return url;
}

/** For tests that need PostgreSQL themselves: skip visibly when it is missing, fail under CI's MODELROUTE_REQUIRE_TEST_SERVICES. */
export function requirePostgres(): boolean {
  if (postgresAvailable()) return true;
  if (process.env.MODELROUTE_REQUIRE_TEST_SERVICES) throw new Error("PostgreSQL is required (MODELROUTE_REQUIRE_TEST_SERVICES) but no initdb was found");
  console.warn("skipping: PostgreSQL is not installed (apt-get install postgresql)");
  return false;
}
