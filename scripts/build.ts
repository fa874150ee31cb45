/**
 * `npm run build`: regenerates the embedded-migrations module, then compiles src/main.ts into
 * one self-contained executable (minified, bytecode, embedded sourcemap) at dist/modelroute.
 *   bun scripts/build.ts [--outfile PATH] [--skip-codegen]
 * --skip-codegen leaves src/db/migrations.gen.ts alone (the binary smoke test builds from the
 * tree as it is and must not write into it).
 * What the binary holds and what each part weighs: docs/benchmarks.md "Binary size".
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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

/** The docs UI bundles src/modules/docs embeds, by the path alias tsconfig.json gives each. */
const DOCS_BUNDLES: Record<string, string> = {
  "#scalar-standalone": "node_modules/@scalar/api-reference/dist/browser/standalone.js",
  "#swagger-ui-bundle": "node_modules/swagger-ui-dist/swagger-ui-bundle.js",
  "#swagger-ui-css": "node_modules/swagger-ui-dist/swagger-ui.css",
};

/**
 * Gzips the docs bundles into `dir` and writes there a tsconfig that maps their aliases to the
 * compressed copies, so the binary embeds ~1.5 MB instead of ~5.5 MB; src/modules/docs/assets.ts
 * serves them as they are to clients that accept gzip.
 */
function compressedDocsTsconfig(dir: string): string {
  const paths: Record<string, string[]> = {};
  for (const [alias, file] of Object.entries(DOCS_BUNDLES)) {
    const compressed = join(dir, `${file.split("/").at(-1)}.gz`);
    writeFileSync(compressed, Bun.gzipSync(readFileSync(join(root, file)), { level: 9 }));
    paths[alias] = [compressed];
  }
  const tsconfig = join(dir, "tsconfig.json");
  writeFileSync(tsconfig, JSON.stringify({ extends: join(root, "tsconfig.json"), compilerOptions: { paths } }));
  return tsconfig;
}

if (!values["skip-codegen"]) run(["scripts/embed-migrations.ts"]);
const staging = mkdtempSync(join(tmpdir(), "modelroute-build-"));
try {
  // --bytecode halves cold start (scripts/bench/startup.ts measures it). Depth 1 compiles ahead
  // only what runs at start (every module's top level); functions first called by a request
  // compile then: the same start-up CPU time, 3 MB less binary. NODE_ENV is set at run time by
  // src/main.ts. The runtime flags the server needs are compiled in, as `npm start` passes them to bun.
  const execArgv = BUN_RUNTIME_FLAGS.map((flag) => `--compile-exec-argv=${flag}`);
  const bytecode = ["--bytecode", "--bytecode-depth=1"];
  const tsconfig = `--tsconfig-override=${compressedDocsTsconfig(staging)}`;
  const compileMs = run(["build", "--compile", "--minify", "--sourcemap", ...bytecode, tsconfig, ...execArgv, "src/main.ts", "--outfile", outfile]);
  const sizeMb = statSync(outfile).size / 1e6;
  process.stdout.write(`build: wrote ${outfile} (${sizeMb.toFixed(1)} MB) in ${Math.round(compileMs)} ms\n`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
