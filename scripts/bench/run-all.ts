/**
 * `npm run bench`: runs every scripts/bench/*.ts but this one and lib.ts (what they share), in
 * name order, one at a time. `npm run bench -- overhead startup` runs only those (names without
 * `.ts`); what follows the first `--option` is passed to each, e.g.
 * `npm run bench -- overhead --seconds 10 --reps 3`. The soak (30 minutes) runs only when named.
 */
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";

const here = import.meta.dir;
const self = basename(import.meta.path);
const all = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== self && f !== "lib.ts")
  .sort();

const args = Bun.argv.slice(2);
const firstOption = args.findIndex((a) => a.startsWith("--"));
const names = firstOption === -1 ? args : args.slice(0, firstOption);
const passed = firstOption === -1 ? [] : args.slice(firstOption);
const unknown = names.filter((n) => !all.includes(`${n}.ts`));
if (unknown.length > 0) {
  console.error(`no such benchmark: ${unknown.join(", ")} (there are: ${all.map((f) => f.slice(0, -3)).join(", ")})`);
  process.exit(2);
}
const ONLY_WHEN_NAMED = ["soak.ts"];
const benches = names.length > 0 ? names.map((n) => `${n}.ts`) : all.filter((f) => !ONLY_WHEN_NAMED.includes(f));

const failed: string[] = [];
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const result = Bun.spawnSync([process.execPath, join(here, file), ...passed], { stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) failed.push(`${file} (exit ${result.exitCode})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
