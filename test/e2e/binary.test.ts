/**
 * Smoke test of the compiled binary (minify/bytecode regressions only show
 * up here). Builds dist-like output once into a temp dir, copies it into an empty directory and
 * runs it there with a bare environment: no node_modules, no bun, no NODE_ENV.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { rawRequest } from "../helpers/raw-http";

const root = resolve(import.meta.dir, "../..");
const work = mkdtempSync(join(tmpdir(), "modelroute-binary-"));
const runDir = join(work, "empty");
const dataDir = join(runDir, "data");
const binary = join(runDir, "modelroute");
const BARE_ENV = { PATH: "/usr/bin:/bin" };

beforeAll(() => {
  const built = join(work, "build", "modelroute");
  const result = Bun.spawnSync([process.execPath, "scripts/build.ts", "--skip-codegen", "--outfile", built], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`build failed:\n${result.stdout.toString()}\n${result.stderr.toString()}`);
  mkdirSync(runDir);
  copyFileSync(built, binary);
  chmodSync(binary, 0o755);
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A running binary whose stdout (JSON log lines) and stderr are collected as they arrive. */
class Server {
  readonly proc;
  readonly stdout: string[] = [];
  /** All of stderr, once the process has closed it. */
  readonly stderr: Promise<string>;
  private waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.proc = Bun.spawn([binary, ...args], { cwd: runDir, env: { ...BARE_ENV, ...env }, stdout: "pipe", stderr: "pipe" });
    void this.pump();
    this.stderr = new Response(this.proc.stderr).text();
  }

  private async pump() {
    let buffered = "";
    for await (const chunk of this.proc.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.stdout.push(line);
        for (const w of this.waiters.filter((w) => w.match(line))) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  }

  /** The first stdout line matching, now or later; rejects if the process exits first. */
  line(match: (line: string) => boolean): Promise<string> {
    const seen = this.stdout.find(match);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<string>((resolve) => this.waiters.push({ match, resolve })),
      this.proc.exited.then(async (code) => {
        throw new Error(`exited with ${code} before the expected line; stderr: ${await this.stderr}`);
      }),
    ]);
  }

  /** Resolves with the base URL once the "listening" log line is out. */
  async url(): Promise<string> {
    return JSON.parse(await this.line((l) => l.includes('"msg":"listening"'))).url;
  }

  async stopWith(signal: NodeJS.Signals = "SIGTERM") {
    this.proc.kill(signal);
    return this.proc.exited;
  }
}

function runCli(args: string[], env: Record<string, string> = {}) {
  const result = Bun.spawnSync([binary, ...args], { cwd: runDir, env: { ...BARE_ENV, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

type ErrorBody = { error: { code: string; message: string; retryable: boolean; request_id: string; details: { field: string; code: string; message: string }[] } };

async function expectEnvelope(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const { error } = (await res.json()) as ErrorBody;
  expect(error).toMatchObject({ code, request_id: res.headers.get("x-request-id") });
  expect(error.request_id).toStartWith("req_");
  return error as { details: { field: string; code: string }[] };
}

let apiKey: string;

test("first start from an empty directory: bootstrap, health, auth, validation, docs, then a clean SIGTERM", async () => {
  expect(readdirSync(runDir)).toEqual(["modelroute"]); // nothing beside the binary
  const server = new Server(["--data-dir", dataDir, "--port", "0"]);
  try {
    const base = await server.url();

    const bootstrapPath = join(dataDir, "bootstrap.json");
    const bootstrap = JSON.parse(readFileSync(bootstrapPath, "utf8"));
    expect(Object.keys(bootstrap).sort()).toEqual(["admin_token", "api_key", "org_id"]);
    expect(statSync(bootstrapPath).mode & 0o777).toBe(0o600);
    apiKey = bootstrap.api_key;

    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get("x-request-id")).toStartWith("req_");
    expect(await health.json()).toEqual({ status: "ok" });

    const badKey = await fetch(`${base}/v1/models`, { headers: { authorization: "Bearer sk_nope" } });
    await expectEnvelope(badKey, 401, "UNAUTHORIZED");
    expect(badKey.headers.get("x-ratelimit-limit")).toBeNull();

    const models = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(models.status).toBe(200);
    expect(models.headers.get("x-ratelimit-limit")).toBe("600");
    expect(((await models.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);

    // Elysia's validation path under minify + bytecode + NODE_ENV=production.
    const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const headers = { authorization: `Bearer ${apiKey}`, "content-type": "application/json" };
    const unknown = await fetch(`${base}/v1/executions`, { method: "POST", headers, body: JSON.stringify({ model: "mock-chat", input: {}, bogus: 1 }) });
    const error = await expectEnvelope(unknown, 400, "INPUT_VALIDATION_ERROR");
    expect(error.details).toContainEqual(expect.objectContaining({ field: "bogus", code: "unknown_field" }));
    const malformed = await fetch(`${base}/v1/executions`, { method: "POST", headers, body: "{" });
    expect((await expectEnvelope(malformed, 400, "INPUT_VALIDATION_ERROR")).details[0]).toMatchObject({ field: "body" });

    expect(spec.openapi).toStartWith("3.1");
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/healthz", "/readyz", "/metrics"]));
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/v1/models", "/v1/executions"]));
    expect(Object.keys(spec.paths).filter((p) => p !== "/" && p.endsWith("/"))).toEqual([]); // named as the API reference names them

    const docs = await fetch(`${base}/docs`);
    expect(docs.status).toBe(200);
    const docsHtml = await docs.text();
    expect(docsHtml).toContain("/docs/assets/scalar.js");
    expect(docsHtml).not.toContain("cdn.jsdelivr.net");
    const scalar = await fetch(`${base}/docs/assets/scalar.js`);
    expect(scalar.status).toBe(200);
    expect(scalar.headers.get("content-type")).toStartWith("text/javascript");
    expect((await scalar.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);

    const swagger = await fetch(`${base}/swagger`);
    expect(swagger.status).toBe(200);
    const swaggerHtml = await swagger.text();
    expect(swaggerHtml).not.toContain("unpkg.com");
    for (const [asset, type] of [["/docs/assets/swagger-ui-bundle.js", "text/javascript"], ["/docs/assets/swagger-ui.css", "text/css"]]) {
      expect(swaggerHtml).toContain(asset!);
      const res = await fetch(base + asset);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith(type!);
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
    }
    // Embedded gzip-compressed at build time: sent as is to a client that accepts gzip, and
    // decompressed for one that does not; either way the package's own bytes.
    const scalarFile = await Bun.file(join(root, "node_modules/@scalar/api-reference/dist/browser/standalone.js")).bytes();
    const gzipped = await fetch(`${base}/docs/assets/scalar.js`, { headers: { "accept-encoding": "gzip" }, decompress: false });
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    expect(Bun.gunzipSync(new Uint8Array(await gzipped.arrayBuffer()))).toEqual(scalarFile);
    const plain = await fetch(`${base}/docs/assets/scalar.js`, { headers: { "accept-encoding": "identity" }, decompress: false });
    expect(plain.headers.get("content-encoding")).toBeNull();
    expect(new Uint8Array(await plain.arrayBuffer())).toEqual(scalarFile);
  } finally {
    expect(await server.stopWith("SIGTERM")).toBe(0);
  }
  expect(await server.stderr).toContain(`API key:        ${apiKey}`);
  const leftovers = readdirSync(dataDir).filter((f) => f.endsWith("-wal") || f.endsWith("-shm"));
  expect(leftovers).toEqual([]);
}, 30_000);

test("a second start reuses the bootstrap: no new key printed, the old key still works", async () => {
  const before = readFileSync(join(dataDir, "bootstrap.json"), "utf8");
  const server = new Server(["--data-dir", dataDir, "--port", "0"]);
  try {
    const base = await server.url();
    const res = await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(res.status).toBe(200);
  } finally {
    expect(await server.stopWith("SIGINT")).toBe(0);
  }
  expect(await server.stderr).not.toContain("API key");
  expect(server.stdout.some((l) => l.includes("migrations applied"))).toBe(false);
  expect(readFileSync(join(dataDir, "bootstrap.json"), "utf8")).toBe(before);
}, 30_000);

test("hostile requests: a Host that makes no URL and HTTP/1.0 without Host are answered; 20 KB of headers is a 431 envelope; the binary lives", async () => {
  const server = new Server(["--data-dir", dataDir, "--port", "0"]);
  try {
    const base = await server.url();
    const port = Number(new URL(base).port);
    for (const host of ["x:99999", "[::1", ""]) {
      const answer = await rawRequest(port, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(answer.status).toBe(200);
    }
    expect((await rawRequest(port, "OPTIONS / HTTP/1.0\r\n\r\n")).status).toBe(204);
    // The runtime flag compiled into the binary raises Bun's own limit, so ours answers first.
    await expectEnvelope(await fetch(`${base}/healthz`, { headers: { "x-filler": "a".repeat(20_000) } }), 431, "REQUEST_HEADERS_TOO_LARGE");
    await Bun.sleep(50);
    expect(server.proc.exitCode).toBeNull();
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  } finally {
    expect(await server.stopWith("SIGTERM")).toBe(0);
  }
}, 30_000);

test("--help, version and migrate work; migrate on a current database applies nothing", () => {
  const help = runCli(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("Commands:");
  expect(help.stdout).toContain("migrate");
  const serveHelp = runCli(["serve", "--help"]);
  expect(serveHelp.code).toBe(0);
  expect(serveHelp.stdout).toContain("MODELROUTE_RATE_LIMIT_RPM");
  expect(serveHelp.stdout).toContain("Examples:");
  const migrateHelp = runCli(["migrate", "--help"]);
  expect(migrateHelp.code).toBe(0);
  expect(migrateHelp.stdout).toContain("modelroute migrate");
  const version = runCli(["version"]);
  expect(version.code).toBe(0);
  expect(version.stdout).toMatch(/^modelroute \d+\.\d+\.\d+/);
  const migrate = runCli(["migrate", "--data-dir", dataDir]);
  expect(migrate.code).toBe(0);
  expect(migrate.stdout).toStartWith("0 migration(s) applied");
  const fresh = runCli(["migrate", "--data-dir", join(work, "fresh")]);
  expect(fresh.code).toBe(0);
  expect(fresh.stdout).toMatch(/^[1-9]\d* migration\(s\) applied/);
  expect(existsSync(join(work, "fresh", "bootstrap.json"))).toBe(false); // migrate does not bootstrap
});

test("an unknown flag or a bad value exits 2 with one line naming it", () => {
  const cases: [string[], Record<string, string>, string][] = [
    [["--nope"], {}, "--nope"],
    [["serve", "--port", "abc"], {}, "--port"],
    [["--data-dir", dataDir], { MODELROUTE_RATE_LIMIT_RPM: "-1" }, "MODELROUTE_RATE_LIMIT_RPM"],
    [["frobnicate"], {}, "frobnicate"],
  ];
  for (const [args, env, named] of cases) {
    const result = runCli(args, env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain(named);
  }
});
