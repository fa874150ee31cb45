/**
 * `npm run build`: regenerates the embedded-migrations module, then compiles src/main.ts into
 * one self-contained executable (minified, bytecode, embedded sourcemap) at dist/modelroute.
 *   bun scripts/build.ts [--outfile PATH] [--skip-codegen]
 * --skip-codegen leaves src/db/migrations.gen.ts alone (the binary smoke test builds from the
 * tree as it is and must not write into it).
 */
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BUN_RUNTIME_FLAGS } from "../src/http/header-limit";

const root = resolve(import.meta.dir, "..");
const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: { outfile: { type: "string" }, "skip-codegen": { type: "boolean" } },
});
const outfile = resolve(values.outfile ?? join(root, "dist", "modelroute"));

// The bun running this script (node_modules/.bin/bun under npm): nothing global is needed.
const bun = process.execPath;

function run(args: string[]): number {
  const started = performance.now();
  const result = Bun.spawnSync([bun, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (result.exitCode !== 0) {
    process.stderr.write(`build: "bun ${args.join(" ")}" failed with exit code ${result.exitCode}\n`);
    process.exit(result.exitCode || 1);
  }
  return performance.now() - started;
}

if (!values["skip-codegen"]) run(["scripts/embed-migrations.ts"]);
// --bytecode halves cold start (scripts/bench/startup.ts measures it); NODE_ENV is set at run time by src/main.ts.
// The runtime flags the server needs are compiled in, as `npm start` passes them to bun.
const execArgv = BUN_RUNTIME_FLAGS.map((flag) => `--compile-exec-argv=${flag}`);
const compileMs = run(["build", "--compile", "--minify", "--sourcemap", "--bytecode", ...execArgv, "src/main.ts", "--outfile", outfile]);
const sizeMb = statSync(outfile).size / 1e6;
process.stdout.write(`build: wrote ${outfile} (${sizeMb.toFixed(1)} MB) in ${Math.round(compileMs)} ms\n`);
