import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SETTINGS } from "../src/config";

const readme = readFileSync(join(import.meta.dir, "../README.md"), "utf8");

test("README's configuration table lists every setting with its flag and variable", () => {
  const missing = SETTINGS.filter((s) => !readme.includes(`\`--${s.flag}\``) || !readme.includes(`\`${s.env}\``)).map((s) => s.env);
  expect(missing).toEqual([]);
});

test("README shows the two set-up commands", () => {
  expect(readme).toContain("npm ci && npm start");
  expect(readme).toContain("npm ci && npm test");
});
