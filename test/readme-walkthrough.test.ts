/**
 * The README's walk-through runs as pasted: every `sh` block between "## Walk-through" and
 * "## Error codes" is run, in order, in one bash shell with errexit, in a directory whose
 * `data/` is a real server's data directory (the server listens on a free port instead of 8080).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnServer, type ServerProcess } from "./helpers/process";
import { hasSystemTools } from "./helpers/system";

const readme = readFileSync(join(import.meta.dir, "../README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Walk-through"), readme.indexOf("## Error codes"));
const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

const work = mkdtempSync(join(tmpdir(), "modelroute-readme-"));
let server: ServerProcess | undefined;
afterAll(() => {
  server?.proc.kill(9);
  rmSync(work, { recursive: true, force: true });
});

test.skipIf(!hasSystemTools("README walk-through", "bash", "curl", "jq"))("the README walk-through runs as pasted", async () => {
  expect(blocks.length).toBeGreaterThanOrEqual(4);
  expect(blocks[0]).toContain("BASE=http://127.0.0.1:8080");
  server = await spawnServer(join(work, "data"));
  const script = ["set -euo pipefail", ...blocks].join("\n").replace("BASE=http://127.0.0.1:8080", `BASE=${server.url}`);
  const run = Bun.spawn(["bash", "-c", script], { cwd: work, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
  if (code !== 0) console.error(stdout, stderr);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^exec_[0-9a-f-]{36}$/m); // step 1 printed the id
  expect(stdout).toMatch(/^x-ratelimit-remaining: \d+/im);
  expect(stdout).toContain("COMPLETED");
  expect(stdout).toContain('"uploaded"');
  expect(stdout).toContain('"object": "balance"');
  expect(stdout).toMatch(/^capture -0\.\d{3,6}$/m); // one entry per execution: minus what it cost
  expect(stdout).toMatch(/^capture -0\.040$/m);
  expect(readFileSync(join(work, "fox.png")).subarray(1, 4).toString()).toBe("PNG"); // the download is the image
  expect(stderr).toBe("");
}, 60_000);
