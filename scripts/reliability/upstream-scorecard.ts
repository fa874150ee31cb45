/**
 * Runs the faulty-upstream scenarios (test/reliability/upstream-faults/) and prints their
 * scorecard; with --write, puts it into docs/reliability.md between the scorecard markers.
 *   bun scripts/reliability/upstream-scorecard.ts [--write]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runScenarios, scorecardMarkdown } from "../../test/reliability/upstream-faults/run";

const rows = await runScenarios();
const table = scorecardMarkdown(rows);
console.log(table);
const tally = { pass: 0, partial: 0, fail: 0 };
for (const r of rows) tally[r.verdict]++;
console.log(JSON.stringify({ scorecard: "upstream-faults", date: new Date().toISOString().slice(0, 10), ...tally }));

if (process.argv.includes("--write")) {
  const path = join(import.meta.dir, "../../docs/reliability.md");
  const page = readFileSync(path, "utf8");
  const begin = "<!-- scorecard:begin -->";
  const end = "<!-- scorecard:end -->";
  const at = page.indexOf(begin);
  const to = page.indexOf(end);
  if (at < 0 || to < at) throw new Error(`docs/reliability.md has no ${begin} … ${end} block`);
  writeFileSync(path, `${page.slice(0, at + begin.length)}\n${table}\n${page.slice(to)}`);
  console.log(`wrote the scorecard into ${path}`);
}
