/**
 * What a mixed load (mixed-load.ts) runs against: a gateway process on a fresh data directory,
 * a webhook receiver that refuses the first attempt of about one event in four (so retries are
 * due all the time), and a fake Replicate API on 127.0.0.1 behind a model `load-image` that calls
 * back. Used by the crash rounds (test/reliability/kill-rounds.test.ts) and the soak
 * (scripts/bench/soak.ts). On the PostgreSQL pass of the suite the gateway runs there.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FAKE_REPLICATE_WEBHOOK_SECRET, startFakeReplicate, type FakeReplicate } from "../helpers/fake-replicate";
import { databaseForDataDir, suiteOnPostgres } from "../helpers/postgres";
import { spawnServer, type ServerProcess } from "../helpers/process";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver";
import type { LoadTarget } from "./mixed-load";

export const RIG_CREDIT_MICROS = 1_000_000_000_000;
const TOKEN_ENV = "MODELROUTE_LOAD_REPLICATE_TOKEN";
const SECRET_ENV = "MODELROUTE_LOAD_REPLICATE_SECRET";
const TOKEN = "r8_load_rig";

export type LoadRig = {
  server: ServerProcess;
  target: LoadTarget;
  receiver: Receiver;
  replicate: FakeReplicate;
  /** The database URL on PostgreSQL, else null (the SQLite file is `modelroute.db` in the data directory). */
  databaseUrl: string | null;
  /** Starts the gateway again on the same data and port (after a kill). */
  restart(): Promise<ServerProcess>;
  stop(): Promise<void>;
};

/** `onPostgres`: where the gateway keeps its data; by default the suite's pass decides (MODELROUTE_TEST_DATABASE). */
export async function startLoadRig(dataDir: string, opts: { binary?: string; env?: Record<string, string>; onPostgres?: boolean } = {}): Promise<LoadRig> {
  const receiver = startReceiver();
  const seen = new Set<string>();
  receiver.respond = (r) => {
    const id = r.headers.get("webhook-id") ?? "";
    const first = !seen.has(id);
    seen.add(id);
    return first && id.charCodeAt(id.length - 1) % 4 === 0 ? new Response("try later", { status: 503 }) : new Response("ok");
  };
  // Its callbacks go to whichever process is up; one lost while none is makes the gateway poll.
  const replicate = await startFakeReplicate({ tokens: [TOKEN], webhookAttempts: 2, run: (input, ctx) => ({ ms: 100 + (String(input.prompt).length % 7) * 60, output: [ctx.file("out.png")] }) });
  const databaseUrl = (opts.onPostgres ?? suiteOnPostgres()) ? await databaseForDataDir(dataDir) : null;
  const env = {
    MODELROUTE_RATE_LIMIT_RPM: "0",
    MODELROUTE_WEBHOOK_ALLOW_PRIVATE: "true",
    MODELROUTE_WEBHOOK_RETRY_SCHEDULE: "200,400,800,1600",
    MODELROUTE_BOOTSTRAP_CREDIT: (RIG_CREDIT_MICROS / 1e6).toFixed(3),
    // PostgreSQL: a killed process's claims are taken over after this (SQLite releases them at start).
    MODELROUTE_JOB_LEASE_MS: "1000",
    [TOKEN_ENV]: TOKEN,
    [SECRET_ENV]: FAKE_REPLICATE_WEBHOOK_SECRET,
    ...opts.env,
  };
  let server = await spawnServer(dataDir, env, undefined, { binary: opts.binary });
  const port = server.port;
  const { api_key: apiKey, admin_token: adminToken, org_id: orgId } = JSON.parse(readFileSync(join(dataDir, "bootstrap.json"), "utf8"));
  const applied = await fetch(`${server.url}/admin/v1/catalog`, {
    method: "PUT",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      providers: [{ id: "replicate", kind: "replicate", base_url: replicate.apiUrl, api_key_env: TOKEN_ENV, webhook_secret_env: SECRET_ENV, config: { poll_interval_ms: 150 } }],
      models: [
        {
          slug: "load-image",
          task: "text-to-image",
          input_schema: { type: "object", required: ["prompt"], properties: { prompt: { type: "string" } } },
          pricing: { per_image: "0.003" },
          routes: [{ provider: "replicate", upstream_model: "black-forest-labs/flux-schnell", total_ms: 20_000 }],
        },
      ],
    }),
  });
  if (applied.status !== 200) throw new Error(`catalog not applied: ${applied.status} ${await applied.text()}`);

  const rig: LoadRig = {
    server,
    target: { url: () => `http://127.0.0.1:${port}`, apiKey, adminToken, orgId, webhookUrl: receiver.url, asyncModel: "load-image" },
    receiver,
    replicate,
    databaseUrl,
    async restart() {
      server = rig.server = await spawnServer(dataDir, env, port, { binary: opts.binary });
      return server;
    },
    async stop() {
      if (server.proc.exitCode === null) {
        server.proc.kill("SIGTERM");
        await server.exited;
      }
      receiver.stop();
      await replicate.stop();
    },
  };
  return rig;
}
