/**
 * Real S3-compatible servers for the S3 backend's tests: s3rver in-process (fast, but it checks
 * no signatures) and OpenStack Swift's s3api (Debian packages; checks SigV4 for real), started
 * by scripts/test-services/swift.sh.
 */
import { CreateBucketCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// @ts-expect-error s3rver ships no types
import S3rver from "s3rver";

export type S3Server = { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string; client: S3Client; stop(): Promise<void> };

const clientFor = (endpoint: string, accessKeyId: string, secretAccessKey: string) =>
  new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });

export async function startS3rver(bucket: string): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({ address: "127.0.0.1", port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = clientFor(endpoint, "S3RVER", "S3RVER");
  return {
    endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    bucket,
    client,
    async stop() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

const portFree = (port: number) => {
  try {
    Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } }).stop(true);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "EADDRINUSE") return false;
    throw e;
  }
};

/** A base port whose proxy, storage and memcached ports (base, +10..12, +20) are all free. */
function freeSwiftBase(): number {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ([0, 10, 11, 12, 20].every((d) => portFree(base + d))) return base;
  }
  throw new Error("no free port range for Swift");
}

const SWIFT_SCRIPT = join(import.meta.dir, "../../scripts/test-services/swift.sh");

async function run(args: string[]) {
  const child = Bun.spawn(["bash", SWIFT_SCRIPT, ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([child.exited, new Response(child.stdout).text(), new Response(child.stderr).text()]);
  return { code, out, err };
}

/**
 * Starts Swift with s3api and creates `bucket`. Throws (never skips) when Swift cannot start, so
 * a CI machine without it fails loudly; a port taken between the check and the start is retried.
 */
export async function startSwift(bucket: string): Promise<S3Server> {
  const dir = mkdtempSync(join(tmpdir(), "swift-"));
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const base = freeSwiftBase();
    const started = await run(["start", dir, String(base)]);
    if (started.code !== 0) {
      lastError = `swift.sh start exited ${started.code}: ${started.err.trim()}`;
      if (started.code === 3) break; // not installed: retrying will not help
      continue;
    }
    const endpoint = `http://127.0.0.1:${base}`;
    const client = clientFor(endpoint, "test:tester", "testing");
    await createBucketWhenReady(client, bucket);
    return {
      endpoint,
      accessKeyId: "test:tester",
      secretAccessKey: "testing",
      bucket,
      client,
      async stop() {
        client.destroy();
        await run(["stop", dir]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  await run(["stop", dir]);
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`OpenStack Swift (s3api) could not be started for the S3 signature tests. ${lastError}`);
}

/** The proxy answers /healthcheck before the account/container servers accept writes. */
async function createBucketWhenReady(client: S3Client, bucket: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await Bun.sleep(100); // polling a server that is still starting: there is no event to await
    }
  }
}

/** True when the bucket holds `key`. */
export async function objectExists(s3: S3Server, key: string): Promise<boolean> {
  try {
    await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    return true;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
    throw e;
  }
}

export const s3Env = (s3: S3Server): Record<string, string> => ({
  MODELROUTE_STORAGE: "s3",
  MODELROUTE_S3_ENDPOINT: s3.endpoint,
  MODELROUTE_S3_REGION: "us-east-1",
  MODELROUTE_S3_BUCKET: s3.bucket,
  MODELROUTE_S3_ACCESS_KEY_ID: s3.accessKeyId,
  MODELROUTE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
  MODELROUTE_S3_FORCE_PATH_STYLE: "true",
});
