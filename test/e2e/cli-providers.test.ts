/**
 * `modelroute providers test` and `modelroute catalog check`, as real processes: a data dir set
 * up with `migrate` and `catalog apply`, providers at a real fake OpenAI upstream (a right key,
 * a wrong one, a wrong path, one that never answers), a closed port, and a key variable that is
 * not set. No key value may appear in what the CLI prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeOpenAI, type FakeOpenAI } from "../helpers/fake-openai";
import { freePort, runCli, spawnServer } from "../helpers/process";

const RIGHT_KEY = "right-key-3f9c2a7d";
const WRONG_KEY = "wrong-key-8b1e4c6f";
/** An inline key: the database keeps it sealed; the CLI unseals it as the router does. */
const STORED_KEY = "right-key-stored-5d0e91";
const UNSET_NAME = "MODELROUTE_TEST_NEVER_SET_KEY";
/** What the CLI process gets: the key variables the catalog names (UNSET_NAME deliberately not). */
const ENV = { MR_TEST_RIGHT_KEY: RIGHT_KEY, MR_TEST_WRONG_KEY: WRONG_KEY };

let fake: FakeOpenAI;
let hanging: FakeOpenAI;
let scratch: string;
let dataDir: string;
let catalogFile: string;
let closedPort: number;

const catalogYaml = () => `providers:
  - id: mock
    kind: mock
  - id: good
    kind: openai
    base_url: ${fake.url}
    api_key_env: MR_TEST_RIGHT_KEY
  - id: wrong-key
    kind: openai
    base_url: ${fake.url}
    api_key_env: MR_TEST_WRONG_KEY
  - id: closed
    kind: openai
    base_url: http://127.0.0.1:${closedPort}/v1
    api_key_env: MR_TEST_RIGHT_KEY
  - id: unset
    kind: openai
    base_url: ${fake.url}
    api_key_env: ${UNSET_NAME}
  - id: wrong-path
    kind: openai
    base_url: ${fake.url.replace(/\/v1$/, "/v2")}
    api_key_env: MR_TEST_RIGHT_KEY
  - id: slow
    kind: openai
    base_url: ${hanging.url}
    api_key_env: MR_TEST_RIGHT_KEY
  - id: stored
    kind: openai
    base_url: ${fake.url}
    api_key: ${STORED_KEY}
models:
  - slug: test-chat
    task: chat
    pricing:
      input_per_1m_tokens: "0.15"
      output_per_1m_tokens: "0.60"
    routes:
      - provider: good
        upstream_model: gpt-4o-mini
      - provider: wrong-key
        upstream_model: gpt-4o-mini
`;

const cli = (args: string[], dir = dataDir) => runCli(args, dir, ENV);

/** Names, sizes and modification times of a directory's files: equal before and after means nothing was written. */
const dirState = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((name) => {
      const s = statSync(join(dir, name));
      return `${name} ${s.size} ${s.mtimeMs}`;
    });

const rowOf = (stdout: string, provider: string) => stdout.split("\n").find((line) => line.startsWith(`${provider} `));

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKeys: [RIGHT_KEY, STORED_KEY] });
  hanging = await startFakeOpenAI();
  hanging.always({ hang: true });
  closedPort = await freePort(); // free, and nobody listens on it
  scratch = mkdtempSync(join(tmpdir(), "modelroute-cli-providers-"));
  dataDir = join(scratch, "data");
  catalogFile = join(scratch, "catalog.yaml");
  writeFileSync(catalogFile, catalogYaml());
  expect((await cli(["migrate"])).code).toBe(0);
  const applied = await cli(["catalog", "apply", catalogFile]);
  expect(applied).toMatchObject({ code: 0, stderr: "" });
});
afterAll(async () => {
  await fake.stop();
  await hanging.stop();
  rmSync(scratch, { recursive: true, force: true });
});

describe("providers test", () => {
  test("one row per provider with the right result; exit 1; no key printed", async () => {
    const run = await cli(["providers", "test", "--timeout-ms", "1000"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^PROVIDER\s+KIND\s+RESULT\s+LATENCY\s+DETAIL$/);
    expect(lines).toHaveLength(9);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual(["closed", "good", "mock", "slow", "stored", "unset", "wrong-key", "wrong-path"]);

    expect(rowOf(run.stdout, "mock")).toMatch(/^mock\s+mock\s+reachable\s+-\s+built-in$/);
    expect(rowOf(run.stdout, "good")).toMatch(/^good\s+openai\s+reachable\s+\d+ ms\s+4 model\(s\) listed \(key from env MR_TEST_RIGHT_KEY\)$/);
    expect(rowOf(run.stdout, "wrong-key")).toMatch(/^wrong-key\s+openai\s+auth failed\s+\d+ ms\s+HTTP 401: Incorrect API key provided.*\(key from env MR_TEST_WRONG_KEY\)$/);
    expect(rowOf(run.stdout, "closed")).toMatch(new RegExp(`^closed\\s+openai\\s+unreachable\\s+-\\s+connection refused by 127\\.0\\.0\\.1:${closedPort}$`));
    expect(rowOf(run.stdout, "unset")).toMatch(new RegExp(`^unset\\s+openai\\s+auth failed\\s+-\\s+${UNSET_NAME} is not set or empty$`));
    expect(rowOf(run.stdout, "wrong-path")).toMatch(/^wrong-path\s+openai\s+not found\s+\d+ ms\s+HTTP 404: Invalid URL \(GET \/v2\/models\) \(GET http:\/\/127\.0\.0\.1:\d+\/v2\/models; check base_url; key from env MR_TEST_RIGHT_KEY\)$/);
    expect(rowOf(run.stdout, "stored")).toMatch(/^stored\s+openai\s+reachable\s+\d+ ms\s+4 model\(s\) listed \(stored api_key\)$/);
    expect(rowOf(run.stdout, "slow")).toMatch(/^slow\s+openai\s+timeout\s+\d+ ms\s+no answer within 1000 ms$/);

    for (const secret of [RIGHT_KEY, WRONG_KEY, STORED_KEY]) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }
    // The fake saw the smallest request, with the key as the router sends it.
    const good = fake.requests.find((r) => r.path === "/v1/models" && r.headers.authorization === `Bearer ${RIGHT_KEY}`);
    expect(good).toMatchObject({ method: "GET", body: null });
    expect(fake.requests.some((r) => r.path === "/v1/models" && r.headers.authorization === `Bearer ${WRONG_KEY}`)).toBe(true);
    expect(fake.requests.some((r) => r.path === "/v1/models" && r.headers.authorization === `Bearer ${STORED_KEY}`)).toBe(true);
    expect(fake.requests.some((r) => r.method !== "GET")).toBe(false);
  });

  test("--provider tests one provider: exit 0 when it is reachable, 1 when it is not", async () => {
    const good = await cli(["providers", "test", "--provider", "good"]);
    expect(good.code).toBe(0);
    expect(good.stdout.trimEnd().split("\n")).toHaveLength(2);
    expect(rowOf(good.stdout, "good")).toContain("reachable");
    const mock = await cli(["providers", "test", "--provider", "mock"]);
    expect(mock.code).toBe(0);
    const wrong = await cli(["providers", "test", "--provider", "wrong-key"]);
    expect(wrong.code).toBe(1);
    expect(rowOf(wrong.stdout, "wrong-key")).toContain("auth failed");
    expect(wrong.stdout + wrong.stderr).not.toContain(WRONG_KEY);
  });

  test("usage errors exit 2 with one line; an unknown --provider names the known ids", async () => {
    const unknown = await cli(["providers", "test", "--provider", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toBe('modelroute: unknown provider "nope"; the catalog has: closed, good, mock, slow, stored, unset, wrong-key, wrong-path\n');
    for (const args of [["providers", "test", "--timeout-ms", "soon"], ["providers", "test", "--timeout-ms", "0"], ["providers", "explode"], ["providers"], ["providers", "test", "extra"]]) {
      const run = await cli(args);
      expect(`${args.join(" ")} -> ${run.code}`).toBe(`${args.join(" ")} -> 2`);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
    }
    const empty = await cli(["providers", "test"], join(scratch, "nothing-here"));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("no database");
  });

  test("--help has the usage and examples", async () => {
    const run = await cli(["providers", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Examples:");
    expect(run.stdout).toContain("modelroute providers test --provider");
    expect((await cli(["--help"])).stdout).toMatch(/^ {2}providers\s+Test that each provider/m);
  });
});

describe("catalog check", () => {
  test("a valid file: exit 0, the counts, and nothing written", async () => {
    const before = await cli(["catalog", "export"]);
    expect(before.code).toBe(0);
    const files = dirState(dataDir);
    const run = await cli(["catalog", "check", catalogFile]);
    expect(run).toEqual({ code: 0, stdout: `${catalogFile} is valid: 8 providers, 1 model\n`, stderr: "" });
    expect(dirState(dataDir)).toEqual(files);
    expect((await cli(["catalog", "export"])).stdout).toBe(before.stdout);
  });

  test("a broken file: exit 1, every problem by its field path, nothing applied", async () => {
    const before = (await cli(["catalog", "export"])).stdout;
    const broken = join(scratch, "broken.yaml");
    const catalog = Bun.YAML.parse(catalogYaml()) as { providers: { kind: string }[]; models: Record<string, any>[] };
    catalog.providers[1]!.kind = "telepathy";
    catalog.models.push({ ...catalog.models[0], slug: "second", pricing: { per_image: "lots" }, routes: [{ provider: "nobody", upstream_model: "x" }] });
    writeFileSync(broken, Bun.YAML.stringify(catalog, null, 2));
    const run = await cli(["catalog", "check", broken]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`modelroute: ${broken} is invalid (3 problems):`);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}providers\[1\]\.kind: must be one of: .*openai/),
      '  models[1].pricing.per_image: must be a money string (decimal USD with at most 6 decimals, e.g. "0.040")',
      '  models[1].routes[0].provider: no provider "nobody" in this file or the catalog',
    ]);
    // apply refuses the same file with the same paths.
    const applied = await cli(["catalog", "apply", broken]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toContain("models[1].pricing.per_image: must be a money string");
    expect((await cli(["catalog", "export"])).stdout).toBe(before);

    const notYaml = join(scratch, "not-yaml.yaml");
    writeFileSync(notYaml, "providers: [unclosed\n");
    const unparsable = await cli(["catalog", "check", notYaml]);
    expect(unparsable.code).toBe(1);
    expect(unparsable.stderr).toStartWith(`modelroute: ${notYaml} is not valid YAML`);
    const missing = await cli(["catalog", "check", join(scratch, "no-such.yaml")]);
    expect(missing.code).toBe(2);
  });

  test("a fresh data dir: checked against the default catalog, the directory not created", async () => {
    const fresh = join(scratch, "fresh");
    const onlyModel = join(scratch, "only-model.yaml");
    writeFileSync(onlyModel, Bun.YAML.stringify({ models: [{ slug: "m", task: "chat", pricing: { input_per_1m_tokens: "1" }, routes: [{ provider: "mock", upstream_model: "echo" }] }], providers: [] }));
    const run = await cli(["catalog", "check", onlyModel], fresh);
    expect(run.code).toBe(0);
    expect(run.stdout).toStartWith(`${onlyModel} is valid: 0 providers, 1 model\n`);
    expect(() => statSync(fresh)).toThrow();
  });

  test("beside a running server: read only, the catalog unchanged", async () => {
    const dir = join(scratch, "served");
    const server = await spawnServer(dir);
    try {
      const before = (await cli(["catalog", "export"], dir)).stdout;
      const run = await cli(["catalog", "check", catalogFile], dir);
      expect(run).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout).toBe(`${catalogFile} is valid: 8 providers, 1 model\n`);
      expect((await cli(["catalog", "export"], dir)).stdout).toBe(before);
      expect(before).not.toContain("wrong-key");
    } finally {
      server.proc.kill();
      await server.exited;
    }
  }, 30_000); // a server and three CLI processes: seconds each on a loaded machine

  test("catalog --help shows check", async () => {
    const run = await cli(["catalog", "--help"]);
    expect(run.stdout).toContain("modelroute catalog check catalog.yaml");
  });
});
