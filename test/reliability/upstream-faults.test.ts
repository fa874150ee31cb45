/**
 * Faulty upstreams behind the OpenAI dialect, one scenario per model (upstream-faults/scenarios.ts):
 * each must pass, and docs/reliability.md's scorecard must say what this run found.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runScenarios } from "./upstream-faults/run";
import { SCENARIOS } from "./upstream-faults/scenarios";

test("every faulty-upstream scenario: the client's answer, the calls, the route, the status and the charge", async () => {
  const rows = await runScenarios();
  const failing = rows.filter((r) => r.verdict !== "pass").map((r) => `${r.name} (${r.verdict}): ${r.problems.join("; ")}`);
  expect(failing).toEqual([]);
  expect(rows.map((r) => r.name)).toEqual(SCENARIOS.map((s) => s.name));
}, 60_000);

test("docs/reliability.md lists every scenario with its verdict", () => {
  const page = readFileSync(join(import.meta.dir, "../../docs/reliability.md"), "utf8");
  const listed = [...page.matchAll(/^\| ([a-z0-9-]+) \|.*\| (pass|partial|fail)[^|]*\|$/gm)].map((m) => [m[1], m[2]]);
  expect(listed).toEqual(SCENARIOS.map((s) => [s.name, "pass"]));
});
