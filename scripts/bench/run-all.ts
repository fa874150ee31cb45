/** `npm run bench`: runs every scripts/bench/*.ts but this one and lib.ts (what they share), in name order, one at a time. */
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";

const here = import.meta.dir;
const self = basename(import.meta.path);
const benches = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== self && f !== "lib.ts")
  .sort();

const failed: string[] = [];
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const result = Bun.spawnSync([process.execPath, join(here, file)], { stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) failed.push(`${file} (exit ${result.exitCode})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exit(1);
}
