import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server";

let server: TestServer;
const parent = mkdtempSync(join(tmpdir(), "modelroute-perm-"));
beforeAll(async () => {
  server = await startTestServer({ dataDir: join(parent, "data") }); // created by the server itself
});
afterAll(async () => {
  await server.stop();
  rmSync(parent, { recursive: true, force: true });
});

test("the data directory, the database and bootstrap.json are readable by their owner only", () => {
  const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
  expect(mode(server.dataDir)).toBe("700");
  // On PostgreSQL the database is the server's; the data directory keeps spool files and bootstrap.json.
  if (server.running.ctx.handle.dialect === "sqlite") {
    expect(mode(join(server.dataDir, "modelroute.db"))).toBe("600");
    expect(mode(join(server.dataDir, "modelroute.db-wal"))).toBe("600");
  }
  expect(mode(join(server.dataDir, "bootstrap.json"))).toBe("600");
});
