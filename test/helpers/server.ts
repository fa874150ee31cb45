/**
 * A real ModelRoute server for end-to-end tests: a temp data dir with a real SQLite file,
 * listening on 127.0.0.1:<free port>, the first-run bootstrap done. Talk to it over HTTP.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config";
import type { Clock } from "../../src/context";
import { createLogger } from "../../src/log";
import { startServer, type Running } from "../../src/server";
import { newId } from "../../src/ids";
import { issueKey } from "../../src/modules/keys/service";
import { credit } from "../../src/modules/ledger/service";
import { insertOrg } from "../../src/modules/orgs/store";
import { databaseForDataDir, suiteOnPostgres } from "./postgres";

export type TestServer = {
  url: string;
  running: Running;
  dataDir: string;
  apiKey: string;
  adminToken: string;
  orgId: string;
  /** fetch against the server with an optional bearer key and JSON body. */
  request(method: string, path: string, opts?: { key?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  get(path: string, key?: string | null): Promise<Response>;
  /** A new organization with a full key and the given credit (micro-USD); returns its key. */
  newOrgKey(opts?: { creditMicros?: number; permission?: "full" | "inference" }): { orgId: string; key: string };
  post(path: string, body: unknown, key?: string | null, headers?: Record<string, string>): Promise<Response>;
  /** PUT /admin/v1/catalog with the operator token: the answer, for the test to check. */
  applyCatalog(catalog: unknown): Promise<Response>;
  stop(): Promise<void>;
};

export type TestServerOptions = {
  env?: Record<string, string>;
  config?: Partial<Config>;
  clock?: Clock;
  dataDir?: string;
  keepDataDir?: boolean;
  /** Collects every log line, at debug level (to check what the server tells, and never tells). */
  logLines?: string[];
};

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "modelroute-test-"));
  // MODELROUTE_TEST_DATABASE=postgres runs the same tests with every server on PostgreSQL.
  const database = suiteOnPostgres() && !opts.env?.MODELROUTE_DATABASE_URL ? { MODELROUTE_DATABASE_URL: await databaseForDataDir((mkdirSync(dataDir, { recursive: true, mode: 0o700 }), dataDir)) } : {};
  const config = { ...loadConfig({ env: { MODELROUTE_DATA_DIR: dataDir, MODELROUTE_PORT: "0", MODELROUTE_LOG_LEVEL: "silent", ...database, ...opts.env } }), ...opts.config };
  const log = opts.logLines ? createLogger("debug", (line) => void opts.logLines!.push(line)) : createLogger(config.logLevel);
  const running = await startServer(config, { clock: opts.clock, log });
  const bootstrap = running.bootstrap ?? (await Bun.file(join(dataDir, "bootstrap.json")).json());
  const url = running.url;
  const request: TestServer["request"] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    const key = o.key === undefined ? bootstrap.api_key : o.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
      headers["content-type"] ??= "application/json";
    }
    return fetch(url + path, { method, headers, body });
  };
  return {
    url,
    running,
    dataDir,
    apiKey: bootstrap.api_key,
    adminToken: bootstrap.admin_token,
    orgId: bootstrap.org_id,
    request,
    get: (path, key) => request("GET", path, { key }),
    newOrgKey(o = {}) {
      const { db } = running.ctx;
      const now = Date.now();
      return db.transaction((tx) => {
        const orgId = newId("org");
        insertOrg(tx, { id: orgId, name: `test ${orgId}`, createdAt: now });
        const { key } = issueKey(tx, { orgId, name: "test", permission: o.permission ?? "full" }, now);
        credit(tx, orgId, o.creditMicros ?? 10_000_000, now, { note: "test credit" });
        return { orgId, key };
      });
    },
    post: (path, body, key, headers) => request("POST", path, { key, body, headers }),
    applyCatalog: (catalog) => request("PUT", "/admin/v1/catalog", { key: null, headers: { authorization: `Bearer ${bootstrap.admin_token}` }, body: catalog }),
    async stop() {
      await running.stop();
      if (!opts.keepDataDir && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
