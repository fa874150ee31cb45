/**
 * The catalog examples in docs/catalog.md are real: the complete example applies as written with
 * `modelroute catalog apply`, and every per-upstream example passes `catalog check`.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/process";

const doc = readFileSync(join(import.meta.dir, "../../docs/catalog.md"), "utf8");
const yamlBlocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
const scratch = mkdtempSync(join(tmpdir(), "modelroute-catalog-docs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("the complete example applies as written, and exports its references, not secrets", async () => {
  expect(yamlBlocks.length).toBeGreaterThanOrEqual(8);
  const file = join(scratch, "complete.yaml");
  writeFileSync(file, yamlBlocks[0]!);
  const dataDir = join(scratch, "complete");
  expect((await runCli(["migrate"], dataDir)).code).toBe(0);
  const applied = await runCli(["catalog", "apply", file], dataDir);
  expect(applied.stderr).toBe("");
  expect(applied.code).toBe(0);
  const exported = await runCli(["catalog", "export"], dataDir);
  expect(exported.code).toBe(0);
  for (const expected of ["llama-3.1-8b", "claude-sonnet", "flux-schnell", "OPENAI_KEY_A", "api_key_file: /etc/modelroute/anthropic.key", "REPLICATE_WEBHOOK_SECRET", "first_token_ms: 10000", 'cache_write_per_1m_tokens: "3.750"'])
    expect(exported.stdout).toContain(expected);
  expect(exported.stdout).not.toContain("input_schema:\n    type: object\n    additionalProperties: false\n    required:\n      - messages"); // the task's schema is not copied into the file
});

test("every example by upstream passes catalog check", async () => {
  for (const [i, block] of yamlBlocks.slice(1).entries()) {
    const file = join(scratch, `example-${i}.yaml`);
    writeFileSync(file, block);
    const checked = await runCli(["catalog", "check", file], join(scratch, `check-${i}`));
    expect({ i, code: checked.code, stderr: checked.stderr }).toEqual({ i, code: 0, stderr: "" });
  }
});
