// Prints the README's configuration table from the SETTINGS table in src/config.ts.
// Usage: bun scripts/config-table.ts   (test/readme.test.ts checks README lists every setting)
import { SETTINGS } from "../src/config";

console.log("| Flag | Environment | Default | Meaning |");
console.log("|---|---|---|---|");
for (const s of SETTINGS as readonly { flag: string; env: string; default: unknown; help: string }[])
  console.log(`| \`--${s.flag}\` | \`${s.env}\` | ${s.default === null ? "—" : `\`${s.default}\``} | ${s.help.replace(/\|/g, "\\|")} |`);
