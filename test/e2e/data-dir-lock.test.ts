/**
 * One process owns a data directory: a second `serve`, `restore` or `migrate` refuses in one line
 * naming the owner, and a start that cannot happen (port taken, data directory unusable) is one
 * line and exit code 2 that leaves no first-run key behind. Every process here is real.
 */
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, runCli, spawnServer, type ServerProcess } from "../helpers/process";

const scratch = mkdtempSync(join(tmpdir(), "modelroute-lock-"));
const servers: ServerProcess[] = [];
afterAll(() => {
  for (const s of servers) s.proc.kill(9);
  rmSync(scratch, { recursive: true, force: true });
});

async function serve(dataDir: string) {
  const s = await spawnServer(dataDir);
  servers.push(s);
  return s;
}

/** The whole of stderr is one line, `modelroute: …`. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("modelroute: ");
  return lines[0]!;
}

describe("one process per data directory", () => {
  test("a second server, restore and migrate refuse while a server owns the directory; kill -9 frees it", async () => {
    const dataDir = join(scratch, "owned");
    const first = await serve(dataDir);
    const pid = first.proc.pid;

    const second = await runCli(["serve", "--port", String(await freePort())], dataDir);
    expect(second.code).toBe(2);
    expect(oneLine(second.stderr)).toContain(`modelroute serve (pid ${pid}, started `);

    const backup = join(scratch, "copy.db");
    expect((await runCli(["backup", backup], dataDir)).code).toBe(0); // beside a server: allowed
    const restore = await runCli(["restore", backup], dataDir);
    expect(restore.code).toBe(1);
    expect(oneLine(restore.stderr)).toContain(`(pid ${pid},`);
    const migrate = await runCli(["migrate"], dataDir);
    expect(migrate.code).toBe(1);
    expect(oneLine(migrate.stderr)).toContain(`(pid ${pid},`);

    // The refusals left the owner alone: it answers, and its pid file still names it.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dataDir, "modelroute.pid"), "utf8")).pid).toBe(pid);

    first.proc.kill(9);
    await first.exited;
    const next = await serve(dataDir); // the OS dropped the dead server's lock
    expect((await fetch(`${next.url}/healthz`)).status).toBe(200);
    expect(JSON.parse(readFileSync(join(dataDir, "modelroute.pid"), "utf8")).pid).toBe(next.proc.pid);
    next.proc.kill("SIGTERM");
    expect(await next.exited).toBe(0);
    expect(existsSync(join(dataDir, "modelroute.pid"))).toBe(false);

    // Stopped cleanly, the directory is free for the operator commands.
    expect((await runCli(["migrate"], dataDir)).code).toBe(0);
    expect((await runCli(["restore", backup], dataDir)).code).toBe(0);
  });
});

describe("a start that cannot happen", () => {
  test("a port in use is one line and exit 2, and an empty data directory gets no first-run key", async () => {
    const holder = await serve(join(scratch, "holder"));
    const fresh = join(scratch, "fresh");
    const run = await runCli(["serve", "--port", String(holder.port)], fresh);
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toContain(`:${holder.port}: the port is in use`);
    expect(existsSync(join(fresh, "bootstrap.json"))).toBe(false);
    const db = new Database(join(fresh, "modelroute.db"), { readonly: true });
    expect((db.query("SELECT count(*) AS n FROM orgs").get() as { n: number }).n).toBe(0);
    db.close();

    // The failed start gave the directory back: a server on a free port bootstraps it.
    const later = await serve(fresh);
    expect(existsSync(join(fresh, "bootstrap.json"))).toBe(true);
    expect((await fetch(`${later.url}/healthz`)).status).toBe(200);
  });

  test("a data directory that cannot be made is one line and exit 2", async () => {
    const file = join(scratch, "a-file");
    writeFileSync(file, "not a directory");
    const run = await runCli(["serve", "--port", String(await freePort())], join(file, "data")); // fails even as root
    expect(run.code).toBe(2);
    expect(oneLine(run.stderr)).toContain(`cannot use the data directory ${join(file, "data")}`);
  });
});
