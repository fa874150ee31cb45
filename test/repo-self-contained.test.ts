/**
 * The repository explains itself: code, tests, scripts and docs cite documents that are in it
 * (docs/…), never design notes kept elsewhere or tracker numbers a reader cannot open.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const SELF = "test/repo-self-contained.test.ts";
const FORBIDDEN: [RegExp, string][] = [
  [/\b(DESIGN|CONTRACT|STYLE|STACK-NOTES|GATEWAY-NOTES)(\.md)?\b/, "a design note outside the repository"],
  [/\.\.\/shared\b/, "a folder outside the repository"],
  [/\b[Ii]ssues? #?\d+/, "an issue number"],
  [/\bthe seed\b|\bseed's\b|\bseeds\//, "the seed documents (say: the API reference)"],
];

test("no file cites documents outside the repository", async () => {
  const files = [
    ...new Bun.Glob("{src,test,scripts,docs,.ci}/**/*").scanSync({ cwd: ROOT, dot: true }),
    "README.md",
    "package.json",
  ].filter((f) => f !== SELF && !f.endsWith(".gen.ts") && !/\.(png|ico|woff2?|db)$/.test(f));
  expect(files.length).toBeGreaterThan(100);
  const found: string[] = [];
  for (const file of files) {
    const lines = (await Bun.file(join(ROOT, file)).text()).split("\n");
    lines.forEach((line, i) => {
      for (const [pattern, what] of FORBIDDEN) if (pattern.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`);
    });
  }
  expect(found).toEqual([]);
});
